// The library API (runtime/troupe.hpp) on top of the run core, which the
// command line uses too.

#include "runtime/troupe.hpp"

#include "runtime/run.hpp"
#include "runtime/run_core.hpp"

#include <utility>

namespace troupe {

namespace {

// The command line's options for the run the program asked for.
runtime::run_options cli_options(const manifest& m, const run_options& o) {
  // A run with nodes sends them the manifest's text, which the command
  // line reads from its file; a manifest in code has none to send.
  if (!m.execution.nodes.empty())
    throw error{error::bad_input,
                m.path
                  + ": execution_policy.nodes: runs with nodes are the "
                    "command line's (troupe run --nodes); the library "
                    "runs on this machine only"};
  runtime::run_options cli;
  cli.manifest = m.path;
  if (o.resume) {
    if (o.results_file.empty())
      throw error{error::bad_input,
                  "run_options: resume needs the results_file to continue"};
    if (o.force)
      throw error{error::bad_input,
                  "run_options: force does not go with resume (a resumed "
                  "file is appended to, never overwritten)"};
    cli.resume = o.results_file;
  } else {
    if (o.rerun_failed)
      throw error{error::bad_input, "run_options: rerun_failed needs resume"};
    cli.out = o.results_file;
    cli.no_results_file = o.results_file.empty();
  }
  cli.force = o.force;
  cli.rerun_failed = o.rerun_failed;
  if (o.concurrency && *o.concurrency == 0)
    throw error{error::bad_input, "run_options: concurrency must be >= 1"};
  cli.concurrency = o.concurrency;
  cli.cache = o.cache;
  cli.summary_json = o.summary_file;
  cli.progress = runtime::progress_mode::never;
  return cli;
}

} // namespace

manifest load_manifest(const std::string& path, const load_options& limits) {
  auto loaded = config::load_manifest(path, limits);
  if (auto* err = std::get_if<config::config_error>(&loaded))
    throw error{error::bad_input, err->message};
  return std::move(std::get<manifest>(loaded));
}

manifest manifest_from_json(std::string_view json_text, std::string base_dir,
                            std::string name, const load_options& limits) {
  auto path = std::move(name);
  if (!base_dir.empty())
    path = base_dir + (base_dir.back() == '/' ? "" : "/") + path;
  if (json_text.size() > limits.max_manifest_bytes)
    throw error{error::bad_input, path + ": manifest is over the limit of "
                                    + std::to_string(limits.max_manifest_bytes)
                                    + " bytes"};
  auto parsed = config::parse_manifest(std::string{json_text}, path, limits);
  if (auto* err = std::get_if<config::config_error>(&parsed))
    throw error{error::bad_input, err->message};
  return std::move(std::get<manifest>(parsed));
}

run_handle::run_handle(std::unique_ptr<runtime::run_core> core)
  : core_(std::move(core)) {}

run_handle::run_handle(run_handle&&) noexcept = default;

run_handle& run_handle::operator=(run_handle&& other) noexcept {
  if (this != &other) {
    core_.reset(); // cancels and waits for the run it had
    core_ = std::move(other.core_);
  }
  return *this;
}

run_handle::~run_handle() = default;

void run_handle::cancel(const std::string& reason) {
  if (core_)
    core_->cancel(reason);
}

run_summary run_handle::wait() {
  if (!core_)
    throw error{error::bad_input, "wait() on a moved-from run_handle"};
  auto out = core_->wait();
  if (out.callback_failure)
    std::rethrow_exception(out.callback_failure);
  if (!out.source_error.empty())
    throw error{error::bad_input, out.source_error};
  if (!out.summary_error.empty())
    throw error{error::bad_input, out.summary_error};
  return std::move(out.summary);
}

run_status run_handle::status() const {
  return core_ ? core_->status() : run_status{};
}

bool run_handle::done() const {
  return !core_ || core_->done();
}

run_handle start(const manifest& m, run_options options) {
  auto cli = cli_options(m, options);
  return run_handle{
    std::make_unique<runtime::run_core>(m, std::move(cli), std::move(options))};
}

run_summary run(const manifest& m, run_options options) {
  return start(m, std::move(options)).wait();
}

const char* version() noexcept {
  return runtime::version();
}

} // namespace troupe
