// troupe run and troupe validate. A run is the library's (run_core.hpp):
// the command line adds the progress line, Ctrl+C, the summary table and
// the exit code.

#include "runtime/run.hpp"

#include "actors/exec/child_spawn.hpp"
#include "actors/results/progress.hpp"
#include "config/manifest.hpp"
#include "config/target.hpp"
#include "runtime/run_actors.hpp"
#include "runtime/run_core.hpp"
#include "runtime/signals.hpp"
#include "runtime/summary_table.hpp"
#include "runtime/timeline.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>

#ifndef TROUPE_VERSION
#  define TROUPE_VERSION "0.0.0"
#endif

namespace troupe::runtime {

namespace {

// Columns of the terminal on stderr, 0 when unknown.
size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 0;
}

bool all_succeeded(const run_summary& s) {
  return s.counts[static_cast<size_t>(task_status::succeeded)] == s.total
         && s.assertions_failed == 0;
}

int exit_code_of(const run_summary& summary) {
  switch (summary.end) {
    case run_end::cancelled:
    case run_end::deadline: // as Ctrl+C would (product.md)
      return exit_cancelled;
    case run_end::aborted:
      std::fprintf(
        stderr,
        "troupe: %s; no more calls were made, and the %llu tasks "
        "left end CANCELLED (fix the key or quota, then --resume)\n",
        summary.reason.c_str(),
        static_cast<unsigned long long>(
          summary.counts[static_cast<size_t>(task_status::cancelled)]));
      return exit_aborted;
    default:
      break;
  }
  return all_succeeded(summary) ? exit_ok : exit_failed;
}

// What the command line prints and returns once the core is done.
int report(const core_outcome& out, const run_options& opts,
           const config::manifest& m) {
  auto& summary = out.summary;
  auto& path = out.results_path;
  if (out.nothing_left) {
    // A resume with every task done: the file stays as it is, and the
    // summary of its history is printed.
    std::printf("troupe: %s: nothing left to run (%llu tasks done)\n",
                path.c_str(), static_cast<unsigned long long>(out.skipped));
    std::fputs(summary_table(summary, m.name, path).c_str(), stdout);
    return exit_code_of(summary);
  }
  if (opts.virtual_time)
    print_timeline(path, opts.timeline);
  std::fputs(summary_table(summary, m.name, path).c_str(), stdout);
  std::fflush(stdout);
  if (!out.summary_error.empty()) {
    std::fprintf(stderr, "troupe: %s\n", out.summary_error.c_str());
    return exit_usage;
  }
  if (!out.results_ok) {
    std::fprintf(stderr,
                 "troupe: %s: writing results failed; the tasks without a "
                 "line run again with --resume once it can be written\n",
                 path.c_str());
    return exit_unwritable;
  }
  if (!out.source_error.empty()) {
    std::fprintf(stderr, "troupe: %s\n", out.source_error.c_str());
    return exit_usage;
  }
  return exit_code_of(summary);
}

} // namespace

const char* version() noexcept {
  return TROUPE_VERSION;
}

int validate(const std::string& path, const config::load_options& limits) {
  auto loaded = config::load_manifest(path, limits);
  if (auto* err = std::get_if<config::config_error>(&loaded)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return exit_usage;
  }
  auto& m = std::get<config::manifest>(loaded);
  std::printf("%s: ok, %llu tasks (%zu datasets x %zu parameter sets)\n",
              path.c_str(), static_cast<unsigned long long>(m.task_count()),
              m.datasets.size(), m.parameters.size());
  if (!m.target.api_key_env.empty()) {
    auto* key = std::getenv(m.target.api_key_env.c_str());
    if (key == nullptr || *key == '\0')
      std::printf("note: %s is not set; `troupe run` needs the API key in "
                  "it\n",
                  m.target.api_key_env.c_str());
  }
  for (auto& note : config::target_notes(m.target, m.execution.timeout_seconds))
    std::printf("note: %s\n", note.c_str());
  return exit_ok;
}

namespace {

int run_once(const run_options& given) {
  // The datasets are read by the core: with nodes, while they connect.
  auto opts = given;
  opts.limits.read_datasets = false;
  auto loaded = config::load_manifest(opts.manifest, opts.limits);
  if (auto* err = std::get_if<config::config_error>(&loaded)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return exit_usage;
  }
  auto& m = std::get<config::manifest>(loaded);
  // Blocks SIGINT/SIGTERM before any thread starts (the core's included).
  signal_watcher signals;
  // auto: a live line on a terminal, a plain line every 5 s elsewhere;
  // always: the live line even when stderr is not a terminal. Virtual time
  // has none: a run there takes no time.
  bool show_progress
    = opts.progress != progress_mode::never && !opts.virtual_time;
  bool live
    = opts.progress == progress_mode::always || ::isatty(STDERR_FILENO) == 1;
  troupe::run_options api;
  if (show_progress) {
    api.on.progress_interval_ms = live ? 250 : 5000;
    api.on.progress_at_end = false;
    api.on.on_progress = [live, width = terminal_width(),
                          seen = uint64_t{0}](const run_status& s) mutable {
      bool throttled = s.throttled > seen;
      seen = s.throttled;
      auto line = render_progress(s, throttled);
      if (live)
        std::fprintf(stderr, "\r\033[K%s", fit_width(line, width).c_str());
      else
        std::fprintf(stderr, "%s\n", line.c_str());
      std::fflush(stderr);
    };
  }
  std::optional<run_core> core;
  std::atomic<run_core*> started{nullptr};
  auto write_lock = std::make_shared<std::mutex>();
  core_outcome out;
  // A second Ctrl+C exits at once: no exec command may outlive it.
  signals.on_second(kill_all_commands);
  // Watching from before the preparation (a big --resume file takes a
  // while): a Ctrl+C then exits 130 at once, as a second one does; the
  // file has at most its header, which --resume takes.
  signals.start(write_lock, [&started, write_lock](int sig) {
    auto* c = started.load();
    if (c == nullptr) {
      std::fprintf(stderr, "\ntroupe: %s before the run started; exiting\n",
                   sig == SIGINT ? "interrupt" : "terminate");
      kill_all_commands();
      write_lock->lock();
      std::_Exit(exit_cancelled);
    }
    std::fprintf(stderr,
                 "\ntroupe: %s: cancelling; in-flight tasks finish, the "
                 "rest end CANCELLED (press Ctrl+C again to quit now)\n",
                 sig == SIGINT ? "interrupt" : "terminate");
    c->cancel(cancel_reason(sig));
  });
  try {
    // Published before the run thread starts: from then on a Ctrl+C
    // cancels instead of exiting.
    core.emplace(m, opts, std::move(api), write_lock,
                 [&started](run_core& c) { started = &c; });
    out = core->wait();
  } catch (const troupe::error& e) {
    started = nullptr; // the core's thread may have failed to start
    signals.stop();
    std::fprintf(stderr, "troupe: %s\n", e.what());
    return e.exit_code();
  }
  signals.stop();
  if (show_progress && live)
    clear_progress_line(stderr);
  return report(out, opts, m);
}

} // namespace

int run(const run_options& given) {
  auto opts = given;
#if defined(TROUPE_SANITIZED) || defined(__SANITIZE_ADDRESS__)
  opts.quick_exit = false;
#endif
  auto code = run_once(opts);
  if (opts.quick_exit) {
    // The results file is closed and synced, the summary written, the core
    // and its threads joined: only the actor system is left (run_threaded).
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
  }
  return code;
}

} // namespace troupe::runtime
