// troupe run and troupe validate: load and check, open the results file,
// hand over to a driver (run_threaded.cpp or run_virtual.cpp), then print
// the summary and pick the exit code.

#include "runtime/run.hpp"

#include "actors/results/result_line.hpp"
#include "config/manifest.hpp"
#include "config/target.hpp"
#include "runtime/dataset_source.hpp"
#include "runtime/nodes.hpp"
#include "runtime/result_cache.hpp"
#include "runtime/results_target.hpp"
#include "runtime/run_actors.hpp"
#include "runtime/settings.hpp"
#include "runtime/summary_table.hpp"
#include "runtime/timeline.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

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

bool read_text_file(const std::string& path, std::string& out) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return static_cast<bool>(in);
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

// A resume with every task done: the file stays as it is, and the summary
// of its history is printed.
int report_nothing_left(const results_target& target, const run_options& opts,
                        const config::manifest& m, int64_t epoch_us) {
  auto summary = target.baseline->summary();
  summary.total = m.task_count();
  std::printf("troupe: %s: nothing left to run (%llu tasks done)\n",
              target.path.c_str(),
              static_cast<unsigned long long>(target.skipped));
  std::fputs(summary_table(summary, m.name, target.path).c_str(), stdout);
  if (!opts.summary_json.empty())
    write_text_file(opts.summary_json,
                    encode_summary(summary, epoch_us, false) + "\n");
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

int run(const run_options& opts) {
  auto loaded = config::load_manifest(opts.manifest, opts.limits);
  if (auto* err = std::get_if<config::config_error>(&loaded)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return exit_usage;
  }
  auto& m = std::get<config::manifest>(loaded);
  if (opts.concurrency)
    m.execution.concurrency = *opts.concurrency;
  if (auto err = settle_nodes(opts, m); !err.empty()) {
    std::fprintf(stderr, "troupe: %s\n", err.c_str());
    return exit_usage;
  }
  auto& nodes = m.execution.nodes;
  // A node cannot read this machine's files, so it could not upload them.
  if (!nodes.empty() && !m.input_files.empty()) {
    std::fprintf(stderr,
                 "troupe: %s: inputs name files (\"file\": \"%s\"...), "
                 "which runs with nodes cannot upload (the nodes cannot read "
                 "this machine's files); run without --nodes\n",
                 opts.manifest.c_str(), m.input_files.begin()->first.c_str());
    return exit_usage;
  }
  // A node has neither the manifest's folder nor the command's files.
  if (!nodes.empty() && m.target.type == config::target_type::exec) {
    std::fprintf(stderr,
                 "troupe: %s: an exec target runs its command on this "
                 "machine, in the manifest's folder, which nodes do not "
                 "have; run without --nodes\n",
                 opts.manifest.c_str());
    return exit_usage;
  }
  // With nodes, each node reads the key from its own environment: this
  // process needs it only for its own workers, or to send it (--send-keys).
  bool key_here = nodes.empty() || m.execution.local_workers.value_or(0) > 0
                  || opts.send_keys;
  std::string api_key;
  if (!m.target.api_key_env.empty()) {
    auto* value = std::getenv(m.target.api_key_env.c_str());
    if ((value == nullptr || *value == '\0') && key_here) {
      std::fprintf(stderr,
                   "troupe: %s: target.api_key_env: the environment variable "
                   "%s is not set (it must hold the API key)\n",
                   opts.manifest.c_str(), m.target.api_key_env.c_str());
      return exit_usage;
    }
    api_key = value != nullptr ? value : "";
  }
  std::shared_ptr<const result_cache> cache;
  // A command's answer depends on files (its script) that no cache key
  // can see: exec targets always run (config/README.md, "An exec target").
  if (!opts.cache.empty() && m.target.type == config::target_type::exec)
    std::fprintf(stderr,
                 "troupe: note: --cache is not used with an exec target; "
                 "every task runs\n");
  else if (!opts.cache.empty()) {
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
  std::string manifest_text;
  if (!nodes.empty() && !read_text_file(opts.manifest, manifest_text)) {
    std::fprintf(stderr, "troupe: %s: cannot read it again (%s)\n",
                 opts.manifest.c_str(), std::strerror(errno));
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
  if (target->index) {
    if (target->skipped >= m.task_count())
      return report_nothing_left(*target, opts, m, epoch_us);
    auto index = target->index;
    bool rerun = opts.rerun_failed;
    source = make_filtered_source(source, [index, rerun](const task_spec& t) {
      auto last = index->last_status(t.id);
      return !last || !skip_on_resume(*last, rerun);
    });
    if (!reopen_for_append(*target))
      return exit_usage;
  }
  // The header goes out before the actor system starts, so that a process
  // killed at once still leaves a file that --resume takes; with nodes,
  // once they all said yes.
  auto begin = [&]() -> int {
    if (!write_header(*target, opts, m, epoch_us)
        || !enough_space(*target, m.task_count()))
      return exit_unwritable;
    return exit_ok;
  };
  if (nodes.empty()) {
    if (auto code = begin(); code != exit_ok)
      return code;
  }
  std::shared_ptr<cached_source> cached;
  if (cache)
    source = cached = std::make_shared<cached_source>(source, cache, m.target);
  std::shared_ptr<http_client> client;
  if (config::is_http_target(m.target.type))
    client = make_http_client(m.target);
  run_parts parts{m,        *target, source,
                  client,   api_key, cached,
                  epoch_us, opts,    std::make_shared<std::mutex>()};
  if (!nodes.empty()) {
    parts.nodes = nodes;
    parts.manifest_text = std::move(manifest_text);
    parts.sent_key = opts.send_keys ? api_key : std::string{};
    parts.begin = begin;
  }
  auto outcome = opts.virtual_time ? run_virtual(parts) : run_threaded(parts);
  if (outcome.exit >= 0) {
    // A node refused the run before its header: the new file stays empty
    // and goes, so that the same command works once the node is fixed.
    struct stat st {};
    if (!nodes.empty() && opts.resume.empty() && ::fstat(target->fd, &st) == 0
        && S_ISREG(st.st_mode) && st.st_size == 0)
      ::unlink(target->path.c_str());
    return outcome.exit;
  }
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
