// The checks and the opening before a run (run_core): what runtime::run did
// before the actors started, with each refusal thrown as troupe::error.

#include "runtime/run_prepare.hpp"

#include "actors/http/http_client.hpp"
#include "config/target.hpp"
#include "runtime/nodes.hpp"
#include "runtime/settings.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

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

[[noreturn]] void refuse(const std::string& why,
                         error::kind k = error::bad_input) {
  throw error{k, why};
}

// The executor checks: a custom target needs one from the program; one
// from the program runs in this process, on real threads.
void check_executor(const prepared_run& p) {
  auto& m = p.m;
  if (m.target.type == config::target_type::custom && !p.custom_executor)
    refuse(m.path
           + ": target.type is \"custom\": it runs an executor that a "
             "program gives through troupe's library API (docs/library.md); "
             "the troupe command has none");
  if (!p.custom_executor)
    return;
  if (!m.execution.nodes.empty())
    refuse(m.path
           + ": a program's executor runs in this process only; a run with "
             "nodes cannot use it (drop execution_policy.nodes)");
  if (p.cli.virtual_time)
    refuse(m.path
           + ": virtual time runs stub targets only, not a program's "
             "executor");
}

// Why a run with nodes cannot take `m`'s inputs, or "".
std::string node_inputs_error(const prepared_run& p) {
  auto& m = p.m;
  // A node cannot read this machine's files, so it could not upload them.
  if (m.execution.nodes.empty() || m.input_files.empty())
    return {};
  return p.cli.manifest + ": inputs name files (\"file\": \""
         + m.input_files.begin()->first
         + "\"...), which runs with nodes cannot upload (the nodes cannot "
           "read this machine's files); run without --nodes";
}

// The counts and the file inputs that the datasets' pass found, into p.m
// in place (the task stream keeps pointers into it): "", or the error.
std::string take_datasets(prepared_run& p,
                          config::result<config::manifest> read) {
  if (auto* err = std::get_if<config::config_error>(&read))
    return err->message;
  auto& done = std::get<config::manifest>(read);
  for (size_t i = 0; i < p.m.datasets.size(); ++i)
    p.m.datasets[i].case_count = done.datasets[i].case_count;
  p.m.input_files = std::move(done.input_files);
  return node_inputs_error(p);
}

// The results file: none, a new one, or a resumed one.
void open_results(prepared_run& p) {
  open_error err;
  if (p.cli.no_results_file) {
    results_target t;
    t.fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (t.fd < 0)
      refuse(std::string{"/dev/null: cannot open ("} + std::strerror(errno)
             + ")");
    p.target = std::move(t);
    return;
  }
  p.target = p.cli.resume.empty() ? open_new(p.cli, err)
                                  : open_resume(p.cli, p.m, err);
  if (!p.target)
    refuse(err.message, err.unwritable ? error::unwritable : error::bad_input);
}

// The datasets of a manifest loaded without them (limits.read_datasets off):
// read now, or, for a new run with nodes, started on a thread of their own
// to be read while the actor system starts and the nodes connect (B2's
// 20,000 cases take 12 ms); the results header waits for them.
void start_datasets(prepared_run& p) {
  auto& opts = p.cli;
  bool nodes = !opts.nodes.empty() || !p.m.execution.nodes.empty();
  if (nodes && opts.resume.empty() && !opts.virtual_time) {
    try {
      p.datasets = std::async(std::launch::async, [copy = p.m]() mutable {
        return config::read_datasets(std::move(copy));
      });
      return;
    } catch (const std::system_error&) {
      // No thread to be had: read them here.
    }
  }
  auto read = config::read_datasets(std::move(p.m));
  if (auto* err = std::get_if<config::config_error>(&read))
    refuse(err->message);
  p.m = std::move(std::get<config::manifest>(read));
}

void prepare_rest(prepared_run& p, bool custom_executor) {
  auto& m = p.m;
  auto& opts = p.cli;
  if (auto err = settle_nodes(opts, m); !err.empty())
    refuse(err);
  auto& nodes = m.execution.nodes;
  // With the datasets read (or known later: await_datasets).
  if (auto err = node_inputs_error(p); !err.empty())
    refuse(err);
  // A node has neither the manifest's folder nor the command's files.
  if (!nodes.empty() && m.target.type == config::target_type::exec
      && !custom_executor)
    refuse(opts.manifest
           + ": an exec target runs its command on this machine, in the "
             "manifest's folder, which nodes do not have; run without "
             "--nodes");
  check_executor(p);
  // With nodes, each node reads the key from its own environment: this
  // process needs it only for its own workers, or to send it (--send-keys).
  // A program's executor replaces the target: no key is needed.
  bool key_here = nodes.empty() || m.execution.local_workers.value_or(0) > 0
                  || opts.send_keys;
  if (!m.target.api_key_env.empty() && !custom_executor) {
    auto* value = std::getenv(m.target.api_key_env.c_str());
    if ((value == nullptr || *value == '\0') && key_here)
      refuse(opts.manifest + ": target.api_key_env: the environment variable "
             + m.target.api_key_env + " is not set (it must hold the API key)");
    p.api_key = value != nullptr ? value : "";
  }
  std::shared_ptr<const result_cache> cache;
  // A command's answer depends on files (its script) that no cache key
  // can see: exec targets always run (config/README.md, "An exec target").
  if (!opts.cache.empty() && m.target.type == config::target_type::exec
      && !custom_executor)
    std::fprintf(stderr, "troupe: note: --cache is not used with an exec "
                         "target; every task runs\n");
  // A program's executor is neither in the key nor bound to answer the
  // same way twice: the cache is not used, silently (a library prints
  // nothing; docs/library.md says so).
  else if (!opts.cache.empty() && !custom_executor) {
    auto opened = result_cache::open(opts.cache);
    if (auto* err = std::get_if<config::config_error>(&opened))
      refuse(err->message);
    cache = std::make_shared<const result_cache>(
      std::move(std::get<result_cache>(opened)));
  }
  if (opts.virtual_time && m.target.type != config::target_type::stub)
    refuse(opts.manifest
           + ": --virtual-time runs stub targets only (on CAF's "
             "deterministic scheduler); target.type is \""
           + config::target_type_name(m.target.type) + "\"");
  if (!nodes.empty() && !read_text_file(opts.manifest, p.manifest_text))
    refuse(opts.manifest + ": cannot read it again (" + std::strerror(errno)
           + ")");
  // Under virtual time the run starts at a fixed epoch, so that reruns
  // give byte-identical results.
  p.epoch_us = opts.virtual_time ? virtual_epoch_us : wall_now_us();
  for (auto* output :
       {&opts.out, &opts.resume, &opts.summary_json, &opts.timeline})
    if (auto input = input_named_by(*output, m))
      refuse(*output + ": this is " + *input
             + "; results never overwrite a run's input (choose another "
               "file)");
  open_results(p);
  auto& target = *p.target;
  p.source = make_dataset_source(m);
  if (target.index) {
    if (target.skipped >= m.task_count()) {
      p.nothing_left = true;
      return;
    }
    auto index = target.index;
    bool rerun = opts.rerun_failed;
    p.source
      = make_filtered_source(p.source, [index, rerun](const task_spec& t) {
          auto last = index->last_status(t.id);
          return !last || !skip_on_resume(*last, rerun);
        });
    open_error err;
    if (!reopen_for_append(target, err))
      refuse(err.message, error::unwritable);
  }
  // The header goes out before the actor system starts, so that a process
  // killed at once still leaves a file that --resume takes; with nodes,
  // once they all said yes.
  if (nodes.empty()) {
    std::string err;
    if (begin_results(p, err) != exit_ok)
      refuse(err, error::unwritable);
  }
  if (cache)
    p.source = p.cached
      = std::make_shared<cached_source>(p.source, cache, m.target);
  if (config::is_http_target(m.target.type) && !custom_executor) {
    try {
      p.client = make_http_client(m.target);
    } catch (const std::runtime_error& e) {
      refuse(m.path + ": target.type \""
             + config::target_type_name(m.target.type)
             + "\": " + e.what()); // libcurl cannot be loaded
    }
  }
}

} // namespace

void prepare_run(prepared_run& p, bool custom_executor) {
  p.custom_executor = custom_executor;
  if (p.cli.concurrency)
    p.m.execution.concurrency = *p.cli.concurrency;
  // First, as when the command line read them with the manifest: a broken
  // dataset is the first error told.
  if (!p.cli.limits.read_datasets)
    start_datasets(p);
  try {
    prepare_rest(p, custom_executor);
  } catch (const error&) {
    std::string err;
    if (p.datasets.valid() && await_datasets(p, err) != exit_ok)
      refuse(err);
    throw;
  }
}

int await_datasets(prepared_run& p, std::string& err) {
  if (!p.datasets.valid())
    return exit_ok;
  try {
    err = take_datasets(p, p.datasets.get());
  } catch (const std::exception& e) {
    err = p.cli.manifest + ": reading the datasets failed (" + e.what() + ")";
  }
  return err.empty() ? exit_ok : exit_usage;
}

int begin_results(const prepared_run& p, std::string& err) {
  auto& t = *p.target;
  if (!write_header(t, p.cli, p.m, p.epoch_us, err))
    return exit_unwritable;
  if (!p.cli.no_results_file && !enough_space(t, p.m.task_count(), err))
    return exit_unwritable;
  return exit_ok;
}

} // namespace troupe::runtime
