// troupe run and troupe validate.

#include "runtime/run.hpp"

#include "actors/http/http_executor.hpp"
#include "actors/results/progress.hpp"
#include "actors/results/result_line.hpp"
#include "actors/results/result_sink.hpp"
#include "actors/stub/stub_executor.hpp"
#include "actors/supervisor/run_stats.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "config/manifest.hpp"
#include "runtime/dataset_source.hpp"
#include "runtime/result_cache.hpp"
#include "runtime/results_file.hpp"
#include "runtime/signals.hpp"
#include "runtime/summary_table.hpp"
#include "runtime/system.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#ifndef TROUPE_VERSION
#  define TROUPE_VERSION "0.0.0"
#endif

namespace troupe::runtime {

namespace {

/// 2000-01-01T00:00:00Z: time zero of every --virtual-time run.
constexpr int64_t virtual_epoch_us = 946'684'800'000'000;

int64_t wall_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t seconds_to_us(double s) {
  return static_cast<int64_t>(s * 1e6 + 0.5);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// "<manifest stem>-YYYYMMDD-HHMMSS.jsonl" in the current folder, made unique.
std::string default_results_path(const std::string& manifest) {
  auto base = manifest.substr(manifest.rfind('/') + 1);
  auto dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0)
    base.resize(dot);
  auto t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  std::string path = base + "-" + stamp + ".jsonl";
  for (int i = 2; file_exists(path); ++i)
    path = base + "-" + stamp + "-" + std::to_string(i) + ".jsonl";
  return path;
}

int open_results(const std::string& path, bool force) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EEXIST)
      std::fprintf(stderr,
                   "troupe: %s: results file exists; pass --force to "
                   "overwrite it, or --out to choose another file\n",
                   path.c_str());
    else
      std::fprintf(stderr, "troupe: %s: cannot create results file (%s)\n",
                   path.c_str(), std::strerror(errno));
  }
  return fd;
}

stub_settings make_stub_settings(const config::stub_config& s) {
  stub_settings out;
  out.delay_us = seconds_to_us(s.simulated_delay_seconds);
  out.failure_rate = s.failure_rate;
  out.seed = s.seed;
  for (auto& [id, list] : s.task_behaviors)
    out.behaviors.emplace(id, list);
  for (auto& [name, list] : s.dataset_behaviors)
    out.dataset_behaviors.emplace(name, list);
  return out;
}

retry_settings make_retry_settings(const config::retry_policy& r) {
  retry_settings out;
  out.max_attempts = r.max_attempts;
  out.backoff_us = seconds_to_us(r.backoff_seconds);
  out.multiplier = r.backoff_multiplier;
  out.max_backoff_us = seconds_to_us(r.max_backoff_seconds);
  switch (r.jitter) {
    case config::jitter_kind::none:
      out.jitter = jitter_mode::none;
      break;
    case config::jitter_kind::full:
      out.jitter = jitter_mode::full;
      break;
    case config::jitter_kind::equal:
      out.jitter = jitter_mode::equal;
      break;
  }
  return out;
}

bool write_text_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

// CAF's worker threads: one per core by default; TROUPE_THREADS overrides
// it (for benchmarks and for machines shared with other work).
size_t scheduler_threads() {
  if (auto* env = std::getenv("TROUPE_THREADS")) {
    auto n = std::strtoul(env, nullptr, 10);
    if (n >= 1 && n <= 256)
      return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

// Columns of the terminal on stderr, 0 when unknown.
size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 0;
}

http_target make_http_target(const config::target_config& t,
                             std::string api_key) {
  http_target out;
  switch (t.type) {
    case config::target_type::dify_workflow:
      out.kind = target_kind::dify_workflow;
      break;
    case config::target_type::dify_chat:
      out.kind = target_kind::dify_chat;
      break;
    case config::target_type::dify_completion:
      out.kind = target_kind::dify_completion;
      break;
    default:
      out.kind = target_kind::http;
      break;
  }
  out.base_url = t.base_url;
  out.api_key = std::move(api_key);
  out.streaming = t.streaming;
  out.user = t.user;
  out.method = t.method;
  out.url = t.url;
  out.headers = t.headers;
  out.body = t.body;
  out.success_status = t.success_status;
  out.output_pointer = t.output_pointer;
  out.ca_file = t.ca_file;
  out.max_response_bytes = t.max_response_bytes;
  return out;
}

// Thousands of connections need thousands of file descriptors: take the
// hard limit.
void raise_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

bool all_succeeded(const run_summary& s) {
  return s.counts[static_cast<size_t>(task_status::succeeded)] == s.total
         && s.assertions_failed == 0;
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
  return exit_ok;
}

namespace {

/// Where this run's results go, and what an earlier run of the file did.
struct results_target {
  std::string path;
  int fd = -1;
  std::shared_ptr<results_index> index;
  /// Tasks an earlier run finished and this one skips.
  std::shared_ptr<run_stats> baseline;
  uint64_t skipped = 0;
};

bool skip_on_resume(task_status last, bool rerun_failed) {
  switch (last) {
    case task_status::succeeded:
      return true;
    case task_status::failed:
    case task_status::timeout:
    case task_status::error:
      return !rerun_failed;
    default:
      return false; // CANCELLED, or no terminal line
  }
}

header_info header_of(const run_options& opts, const config::manifest& m,
                      int64_t epoch_us, bool resumed) {
  header_info header;
  header.manifest_hash = m.hash;
  header.version = version();
  header.started_at_us = epoch_us;
  header.manifest = opts.manifest;
  header.name = m.name;
  header.target = config::target_type_name(m.target.type);
  header.tasks = m.task_count();
  header.resumed = resumed;
  return header;
}

// The header goes out before the actor system starts, so that a process
// killed at once still leaves a file that --resume takes.
bool write_header(const results_target& t, const header_info& h) {
  auto line = encode_header(h);
  if (write_all(t.fd, line.data(), line.size()))
    return true;
  std::fprintf(stderr, "troupe: %s: cannot write results (%s)\n",
               t.path.c_str(), std::strerror(errno));
  return false;
}

// A file that a run killed before its first line left behind: empty, or
// a partial header line. --resume starts it afresh.
bool unstarted_results_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  if (st.st_size == 0)
    return true;
  if (st.st_size > 4096)
    return false;
  std::string head(static_cast<size_t>(st.st_size), '\0');
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return false;
  auto n = std::fread(head.data(), 1, head.size(), f);
  std::fclose(f);
  head.resize(n);
  const std::string prefix = "{\"type\":\"header\"";
  return head.find('\n') == std::string::npos
         && head.compare(0, std::min(head.size(), prefix.size()), prefix, 0,
                         std::min(head.size(), prefix.size()))
              == 0;
}

// Opens --resume F: checks it belongs to this manifest, drops a partial
// last line, and learns which tasks are done.
std::optional<results_target> open_resume(const run_options& opts,
                                          const config::manifest& m) {
  if (unstarted_results_file(opts.resume)) {
    // Nothing was done: the file starts over, as a new one would.
    results_target out;
    out.path = opts.resume;
    out.fd = ::open(out.path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (out.fd < 0) {
      std::fprintf(stderr, "troupe: %s: cannot write (%s)\n", out.path.c_str(),
                   std::strerror(errno));
      return std::nullopt;
    }
    std::fprintf(stderr, "troupe: %s: no result line yet; starting it afresh\n",
                 out.path.c_str());
    return out;
  }
  auto loaded = results_index::read(opts.resume, true);
  if (auto* err = std::get_if<config::config_error>(&loaded)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return std::nullopt;
  }
  results_target out;
  out.path = opts.resume;
  out.index = std::make_shared<results_index>(
    std::move(std::get<results_index>(loaded)));
  auto& idx = *out.index;
  if (idx.header().manifest_hash != m.hash) {
    std::fprintf(stderr,
                 "troupe: %s: written for another manifest: its header says "
                 "%s, but %s is %s\n"
                 "hint: resume with the manifest that wrote it, or start a "
                 "new results file with --out\n",
                 opts.resume.c_str(), idx.header().manifest_hash.c_str(),
                 opts.manifest.c_str(), m.hash.c_str());
    return std::nullopt;
  }
  if (idx.partial_bytes() > 0) {
    if (::truncate(opts.resume.c_str(),
                   static_cast<off_t>(idx.complete_bytes()))
        != 0) {
      std::fprintf(stderr,
                   "troupe: %s: cannot drop the partial last line "
                   "(%s)\n",
                   opts.resume.c_str(), std::strerror(errno));
      return std::nullopt;
    }
    std::fprintf(stderr,
                 "troupe: %s: dropped a partial last line (%llu bytes) left "
                 "by an interrupted writer\n",
                 opts.resume.c_str(),
                 static_cast<unsigned long long>(idx.partial_bytes()));
  }
  out.baseline = std::make_shared<run_stats>();
  idx.for_each_last([&](task_result& r) {
    if (skip_on_resume(r.status, opts.rerun_failed)) {
      out.baseline->add(r);
      ++out.skipped;
    }
  });
  return out;
}

std::optional<results_target> open_new(const run_options& opts) {
  results_target out;
  out.path = opts.out.empty() ? default_results_path(opts.manifest) : opts.out;
  out.fd = open_results(out.path, opts.force);
  if (out.fd < 0)
    return std::nullopt;
  return out;
}

// The manifest and dataset file that `output` would overwrite, if any:
// --force must never turn a run's own input into its results.
std::optional<std::string> input_named_by(const std::string& output,
                                          const config::manifest& m) {
  struct stat out;
  if (output.empty() || ::stat(output.c_str(), &out) != 0)
    return std::nullopt;
  auto same = [&](const std::string& path) {
    struct stat in;
    return ::stat(path.c_str(), &in) == 0 && in.st_dev == out.st_dev
           && in.st_ino == out.st_ino;
  };
  if (same(m.path))
    return "the manifest " + m.path;
  for (size_t i = 0; i < m.datasets.size(); ++i)
    if (!m.datasets[i].file.empty() && same(m.datasets[i].file))
      return "datasets[" + std::to_string(i) + "].file " + m.datasets[i].file;
  return std::nullopt;
}

// Refuses a run whose volume has no room for even its first results,
// when the volume says how much it has; warns when it looks short.
bool enough_space(const results_target& t, uint64_t tasks) {
  struct statvfs vfs;
  if (::fstatvfs(t.fd, &vfs) != 0 || vfs.f_blocks == 0)
    return true; // the volume does not say
  auto free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  constexpr uint64_t minimum = uint64_t{1} << 20;
  if (free_bytes < minimum) {
    std::fprintf(stderr,
                 "troupe: %s: only %llu KiB free on its volume; free some "
                 "space first (results could not be written)\n",
                 t.path.c_str(),
                 static_cast<unsigned long long>(free_bytes / 1024));
    return false;
  }
  // A result line takes about half a KiB, more with large outputs.
  if (free_bytes / 512 < tasks)
    std::fprintf(stderr,
                 "troupe: warning: %s: %llu MiB free may not hold %llu "
                 "results; the run stops at the first failed write\n",
                 t.path.c_str(),
                 static_cast<unsigned long long>(free_bytes >> 20),
                 static_cast<unsigned long long>(tasks));
  return true;
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

} // namespace

namespace {

/// What the actor system needs for one run.
struct run_parts {
  const config::manifest& m;
  results_target& target;
  std::shared_ptr<task_source> source;
  std::shared_ptr<http_client> client;
  std::string api_key;
  std::shared_ptr<cached_source> cache;
  int64_t epoch_us;
  const run_options& opts;
  /// The sink's write lock, taken by a second Ctrl+C before it exits.
  std::shared_ptr<std::mutex> write_lock;
};

struct run_outcome {
  run_summary summary;
  bool results_ok = false;
};

/// The actors of a run, spawned and wired.
struct run_actors {
  result_sink_actor sink;
  executor_actor executor;
  stub_executor_actor stub;
  supervisor_actor supervisor;
};

run_actors spawn_run(caf::actor_system& sys, const run_parts& p,
                     caf::actor listener) {
  auto& m = p.m;
  run_actors a;
  result_sink_config rc;
  rc.fd = p.target.fd;
  rc.epoch_us = p.epoch_us;
  rc.path = p.target.path;
  rc.write_lock = p.write_lock;
  if (p.cache)
    rc.observer
      = [cache = p.cache](const task_result& r) { cache->observe(r); };
  a.sink = spawn_result_sink(sys, std::move(rc));
  if (p.client) {
    a.executor = spawn_http_executor(
      sys,
      http_executor_config{make_http_target(m.target, p.api_key), p.client});
  } else {
    a.stub = spawn_stub_executor(sys, make_stub_settings(m.stub));
    a.executor = a.stub;
  }
  worker_config wc;
  wc.executor = a.executor;
  wc.retry = make_retry_settings(m.retry);
  wc.timeout_us = seconds_to_us(m.execution.timeout_seconds);
  wc.deadline_us = m.execution.deadline_seconds
                     ? seconds_to_us(*m.execution.deadline_seconds)
                     : -1;
  wc.jitter_seed = p.client ? std::random_device{}() : m.stub.seed;
  wc.run_start = sys.clock().now();
  supervisor_config sc;
  sc.concurrency = m.execution.concurrency;
  sc.worker = wc;
  sc.source = p.source;
  sc.total = m.task_count();
  sc.sink = a.sink;
  sc.listener = std::move(listener);
  sc.baseline = p.target.baseline;
  auto& policy = m.execution;
  sc.dispatch.rate_per_second = policy.rate_per_second;
  sc.dispatch.burst = policy.burst;
  sc.dispatch.adaptive = policy.adaptive;
  sc.dispatch.batch_size = policy.batch_size;
  sc.dispatch.batch_pause_us = seconds_to_us(policy.batch_pause_seconds);
  sc.dispatch.run_deadline_us = policy.run_deadline_seconds
                                  ? seconds_to_us(*policy.run_deadline_seconds)
                                  : -1;
  a.supervisor = spawn_supervisor(sys, std::move(sc));
  // Scripted events: the original design's runtime setters, sent at their
  // times (virtual ones under --virtual-time).
  for (auto& e : m.stub.events) {
    auto at = std::chrono::microseconds{e.at_us};
    switch (e.kind) {
      case config::stub_event::cancel:
        caf::delayed_anon_send(a.supervisor, at, cancel_atom::value,
                               "cancelled by a scripted event at "
                                 + std::to_string(e.at_us / 1000) + " ms");
        break;
      case config::stub_event::set_failure_rate:
        caf::delayed_anon_send(a.stub, at, set_failure_rate_atom::value,
                               e.value);
        break;
      case config::stub_event::set_simulated_delay:
        caf::delayed_anon_send(a.stub, at, set_delay_atom::value,
                               seconds_to_us(e.value));
        break;
      case config::stub_event::clear_task_behaviors:
        caf::delayed_anon_send(a.stub, at, clear_behaviors_atom::value);
        break;
      case config::stub_event::set_task_behavior:
        for (auto& [id, list] : e.behaviors)
          caf::delayed_anon_send(a.stub, at, set_behavior_atom::value, id,
                                 list);
        break;
    }
  }
  return a;
}

caf::actor_system_config& base_config(caf::actor_system_config& cfg) {
  register_message_types(cfg);
  return cfg;
}

const char* cancel_reason(int sig) {
  return sig == SIGINT ? "cancelled by the user (SIGINT)"
                       : "cancelled by SIGTERM";
}

run_outcome run_threaded(const run_parts& p) {
  // Block SIGINT/SIGTERM before CAF starts its threads.
  signal_watcher signals;
  auto& opts = p.opts;
  // auto: a live line on a terminal, a plain line every 5 s elsewhere;
  // always: the live line even when stderr is not a terminal.
  bool show_progress = opts.progress != progress_mode::never;
  bool live
    = opts.progress == progress_mode::always || ::isatty(STDERR_FILENO) == 1;
  run_outcome out;
  caf::actor_system_config cfg;
  base_config(cfg);
  cfg.set("scheduler.max-threads", scheduler_threads());
  // An idle CAF worker polls 100 times, then by default 500 more times
  // with 50 us sleeps before it waits on a condition variable. Under an
  // HTTP load, where work arrives from the client's thread, the workers go
  // idle thousands of times a second and those sleeps cost a syscall and a
  // context switch each (220,000 on B4): wait on the condition variable
  // almost at once instead. Stub runs keep CAF's default, which is faster
  // for them (B1).
  if (p.client)
    cfg.set("work-stealing.moderate-poll-attempts", size_t{1});
  {
    caf::actor_system sys{cfg};
    {
      caf::scoped_actor self{sys};
      auto a = spawn_run(sys, p, caf::actor_cast<caf::actor>(self));
      auto sup = a.supervisor;
      progress_actor progress;
      if (show_progress) {
        progress_config pc;
        pc.source = sup;
        pc.out = stderr;
        pc.live = live;
        pc.interval_us = live ? 250'000 : 5'000'000;
        pc.width = terminal_width();
        progress = spawn_progress(sys, pc);
      }
      signals.start(p.write_lock, [sup](int sig) {
        std::fprintf(stderr,
                     "\ntroupe: %s: cancelling; in-flight tasks finish, the "
                     "rest end CANCELLED (press Ctrl+C again to quit now)\n",
                     sig == SIGINT ? "interrupt" : "terminate");
        caf::anon_send(sup, cancel_atom::value,
                       std::string{cancel_reason(sig)});
      });
      caf::anon_send(sup, start_atom::value);
      self->receive([&](done_atom, run_summary& s, bool ok) {
        out.summary = std::move(s);
        out.results_ok = ok;
      });
      // No signal may reach the system once it starts shutting down.
      signals.stop();
      if (progress) {
        self->send_exit(progress, caf::exit_reason::user_shutdown);
        self->wait_for(progress);
        if (live)
          clear_progress_line(stderr);
      }
      self->send_exit(a.executor, caf::exit_reason::user_shutdown);
      self->wait_for(a.executor);
    }
    // The client's thread sends into the actor system: stop it first. A
    // Dify stop call sent as an attempt ended (a deadline, a cancel) is let
    // finish first, briefly: dropped here, it would never reach the server,
    // which would run the workflow to its end.
    if (p.client) {
      p.client->drain(std::chrono::seconds{2});
      p.client->stop();
    }
  }
  return out;
}

/// Receives the supervisor's (done, summary, ok) under virtual time.
struct done_state {
  bool done = false;
  run_summary summary;
  bool ok = false;
};

caf::behavior done_catcher(caf::event_based_actor* self,
                           std::shared_ptr<done_state> out) {
  return {
    [=](done_atom, run_summary& s, bool ok) {
      out->done = true;
      out->summary = std::move(s);
      out->ok = ok;
      self->quit();
    },
  };
}

// The run on CAF's deterministic scheduler: nothing runs in parallel, and
// when nothing is runnable the clock jumps straight to the next timer.
run_outcome run_virtual(const run_parts& p) {
  signal_watcher signals;
  std::atomic<int> interrupted{0};
  run_outcome out;
  caf::actor_system_config cfg;
  base_config(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  {
    caf::actor_system sys{cfg};
    auto& sched
      = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    auto state = std::make_shared<done_state>();
    auto catcher = sys.spawn(done_catcher, state);
    auto a = spawn_run(sys, p, catcher);
    signals.start(p.write_lock, [&interrupted](int sig) { interrupted = sig; });
    caf::anon_send(a.supervisor, start_atom::value);
    bool cancel_sent = false;
    for (;;) {
      sched.run();
      if (state->done)
        break;
      // A signal only sets a flag: the coordinator is not thread-safe.
      if (int sig = interrupted.load(); sig != 0 && !cancel_sent) {
        caf::anon_send(a.supervisor, cancel_atom::value,
                       std::string{cancel_reason(sig)});
        cancel_sent = true;
        continue;
      }
      if (!sched.trigger_timeout()) {
        std::fprintf(stderr, "troupe: virtual time: the run stalled with "
                             "nothing left to wait for\n");
        break;
      }
    }
    signals.stop();
    out.summary = state->summary;
    out.results_ok = state->ok;
    // Stop what is left and let every pending timer go, or the actor
    // system would wait for them forever.
    caf::anon_send_exit(a.executor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(a.supervisor, caf::exit_reason::user_shutdown);
    do {
      sched.run();
    } while (sched.trigger_timeouts() > 0);
  }
  return out;
}

// Prints each attempt's start, duration and outcome, in virtual ms, from
// the results file; all of them to `file` when given.
void print_timeline(const std::string& results, const std::string& file) {
  struct row {
    int64_t start;
    int64_t duration;
    std::string task;
    size_t attempt;
    task_status status;
  };
  std::vector<row> rows;
  auto loaded = results_index::read(results, false);
  if (auto* idx = std::get_if<results_index>(&loaded))
    idx->for_each_last([&](task_result& r) {
      for (size_t i = 0; i < r.attempt_log.size(); ++i)
        rows.push_back({r.attempt_log[i].started_us,
                        r.attempt_log[i].duration_us, r.task_id, i + 1,
                        r.attempt_log[i].status});
    });
  std::stable_sort(rows.begin(), rows.end(),
                   [](auto& x, auto& y) { return x.start < y.start; });
  auto format = [](const row& r) {
    std::string start;
    std::string duration;
    append_ms(start, r.start);
    append_ms(duration, r.duration);
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%12s %12s  %-10s %3zu  %s\n",
                  start.c_str(), duration.c_str(), status_name(r.status),
                  r.attempt, r.task.c_str());
    return std::string{buf};
  };
  const char* head = "timeline (virtual ms):\n    start_ms  duration_ms  "
                     "outcome   try  task\n";
  if (!file.empty()) {
    std::string text = head;
    for (auto& r : rows)
      text += format(r);
    if (!write_text_file(file, text))
      std::fprintf(stderr, "troupe: %s: cannot write the timeline\n",
                   file.c_str());
  }
  std::fputs(head, stdout);
  const size_t first = 150;
  const size_t last = 50;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows.size() > first + last && i == first) {
      std::printf("  ... %zu attempts left out (--timeline FILE has them "
                  "all) ...\n",
                  rows.size() - first - last);
      i = rows.size() - last;
    }
    std::fputs(format(rows[i]).c_str(), stdout);
  }
}

} // namespace

int run(const run_options& opts) {
  if (opts.rerun_failed && opts.resume.empty()) {
    std::fprintf(stderr, "troupe: --rerun-failed goes with --resume F\n");
    return exit_usage;
  }
  if (!opts.resume.empty() && (!opts.out.empty() || opts.force)) {
    std::fprintf(stderr, "troupe: --resume F appends to F; it takes no --out "
                         "or --force\n");
    return exit_usage;
  }
  auto loaded = config::load_manifest(opts.manifest, opts.limits);
  if (auto* err = std::get_if<config::config_error>(&loaded)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return exit_usage;
  }
  auto& m = std::get<config::manifest>(loaded);
  if (opts.concurrency)
    m.execution.concurrency = *opts.concurrency;
  std::string api_key;
  if (!m.target.api_key_env.empty()) {
    auto* value = std::getenv(m.target.api_key_env.c_str());
    if (value == nullptr || *value == '\0') {
      std::fprintf(stderr,
                   "troupe: %s: target.api_key_env: the environment variable "
                   "%s is not set (it must hold the API key)\n",
                   opts.manifest.c_str(), m.target.api_key_env.c_str());
      return exit_usage;
    }
    api_key = value;
  }
  std::shared_ptr<const result_cache> cache;
  if (!opts.cache.empty()) {
    auto opened = result_cache::open(opts.cache);
    if (auto* err = std::get_if<config::config_error>(&opened)) {
      std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
      return exit_usage;
    }
    cache = std::make_shared<const result_cache>(
      std::move(std::get<result_cache>(opened)));
  }
  if (opts.virtual_time && m.target.type != config::target_type::stub) {
    std::fprintf(stderr,
                 "troupe: %s: --virtual-time runs stub targets only (on "
                 "CAF's deterministic scheduler); target.type is \"%s\"\n",
                 opts.manifest.c_str(),
                 config::target_type_name(m.target.type));
    return exit_usage;
  }
  // Under virtual time the run starts at a fixed epoch, so that reruns
  // give byte-identical results.
  auto epoch_us = opts.virtual_time ? virtual_epoch_us : wall_now_us();
  for (auto* output :
       {&opts.out, &opts.resume, &opts.summary_json, &opts.timeline})
    if (auto input = input_named_by(*output, m)) {
      std::fprintf(stderr,
                   "troupe: %s: this is %s; results never overwrite a run's "
                   "input (choose another file)\n",
                   output->c_str(), input->c_str());
      return exit_usage;
    }
  auto target = opts.resume.empty() ? open_new(opts) : open_resume(opts, m);
  if (!target)
    return exit_usage;
  auto source = make_dataset_source(m);
  if (!target->index) {
    if (!write_header(*target, header_of(opts, m, epoch_us, false)))
      return exit_unwritable;
  } else {
    if (target->skipped >= m.task_count()) {
      // Nothing left to do: the file stays as it is.
      auto summary = target->baseline->summary();
      summary.total = m.task_count();
      std::printf("troupe: %s: nothing left to run (%llu tasks done)\n",
                  target->path.c_str(),
                  static_cast<unsigned long long>(target->skipped));
      std::fputs(summary_table(summary, m.name, target->path).c_str(), stdout);
      if (!opts.summary_json.empty())
        write_text_file(opts.summary_json,
                        encode_summary(summary, epoch_us, false) + "\n");
      return exit_code_of(summary);
    }
    auto index = target->index;
    bool rerun = opts.rerun_failed;
    source = make_filtered_source(source, [index, rerun](const task_spec& t) {
      auto last = index->last_status(t.id);
      return !last || !skip_on_resume(*last, rerun);
    });
    target->fd = ::open(target->path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (target->fd < 0) {
      std::fprintf(stderr, "troupe: %s: cannot append (%s)\n",
                   target->path.c_str(), std::strerror(errno));
      return exit_usage;
    }
    if (!write_header(*target, header_of(opts, m, epoch_us, true)))
      return exit_unwritable;
  }
  if (!enough_space(*target, m.task_count()))
    return exit_unwritable;
  std::shared_ptr<cached_source> cached;
  if (cache)
    source = cached = std::make_shared<cached_source>(source, cache, m.target);
  std::shared_ptr<http_client> client;
  if (config::is_http_target(m.target.type)) {
    raise_file_limit();
    http_client_options copts;
    copts.ca_file = m.target.ca_file;
    copts.max_response_bytes = m.target.max_response_bytes;
    proxy_from_environment(copts);
    client = std::make_shared<http_client>(std::move(copts));
  }
  run_parts parts{m,        *target, source,
                  client,   api_key, cached,
                  epoch_us, opts,    std::make_shared<std::mutex>()};
  auto outcome = opts.virtual_time ? run_virtual(parts) : run_threaded(parts);
  auto& summary = outcome.summary;
  bool results_ok = outcome.results_ok;
  if (opts.virtual_time)
    print_timeline(target->path, opts.timeline);
  std::fputs(summary_table(summary, m.name, target->path).c_str(), stdout);
  std::fflush(stdout);
  if (!opts.summary_json.empty()
      && !write_text_file(opts.summary_json,
                          encode_summary(summary, epoch_us, false) + "\n")) {
    std::fprintf(stderr, "troupe: %s: cannot write the summary (%s)\n",
                 opts.summary_json.c_str(), std::strerror(errno));
    return exit_usage;
  }
  if (!results_ok) {
    std::fprintf(stderr,
                 "troupe: %s: writing results failed; the tasks without a "
                 "line run again with --resume once it can be written\n",
                 target->path.c_str());
    return exit_unwritable;
  }
  if (auto err = source->error(); !err.empty()) {
    std::fprintf(stderr, "troupe: %s\n", err.c_str());
    return exit_usage;
  }
  return exit_code_of(summary);
}

} // namespace troupe::runtime
