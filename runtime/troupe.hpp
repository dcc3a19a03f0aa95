#pragma once

// troupe as a library (installed as <troupe/troupe.hpp>): load or build a
// manifest, run it with the built-in executors or your own, and get results
// and progress through callbacks. No CAF header heavier than
// caf/meta/type_name.hpp comes in; runtime/troupe_caf.hpp adds actor
// executors for CAF users. docs/library.md has the thread and lifetime rules.
//
//   manifest ─▶ start(m, options) ─▶ run_handle ─▶ wait() ─▶ run_summary
//                    │                 cancel(), status()
//                    └▶ one callback thread: on_result, on_attempt,
//                       on_progress
//
// Errors: every function here that cannot do its job throws troupe::error,
// with the message the command line prints (after "troupe: ") and the exit
// code it would use.

#include "actors/function/execute_function.hpp"
#include "config/manifest.hpp"
#include "messages/execution.hpp"
#include "messages/run.hpp"
#include "messages/task.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace troupe {

/// A checked manifest (config/manifest.hpp). Get one from load_manifest or
/// manifest_from_json: both run the command line's checker. Treat it as
/// read-only: fields changed afterwards are not checked again, and the hash
/// in the results header stays the text's. Use run_options for overrides.
using manifest = config::manifest;

/// Caps on the manifest's size and on dataset lines.
using load_options = config::load_options;

/// What went wrong, and the exit code `troupe run` gives it.
class error : public std::runtime_error {
public:
  enum kind : int {
    bad_input = 2,  ///< bad manifest, options or files
    unwritable = 4, ///< the results file cannot be created or written
  };

  error(kind k, const std::string& what) : std::runtime_error(what), kind_(k) {}

  kind code() const noexcept {
    return kind_;
  }

  /// The exit code of `troupe run` for it.
  int exit_code() const noexcept {
    return static_cast<int>(kind_);
  }

private:
  kind kind_;
};

/// Reads and checks a manifest file and its dataset files, as `troupe run`
/// does; throws troupe::error (bad_input) with the same message.
manifest load_manifest(const std::string& path,
                       const load_options& limits = {});

/// Checks a manifest given as JSON text, through the same checker as
/// load_manifest: errors read "<base_dir>/<name>: <json path>: ...", as they
/// would for that file. Dataset files are found relative to base_dir.
manifest manifest_from_json(std::string_view json_text,
                            std::string base_dir = ".",
                            std::string name = "manifest.json",
                            const load_options& limits = {});

/// One finished attempt (on_attempt): messages/execution.hpp.
using attempt_event = troupe::attempt_event;

/// Called on the run's one callback thread, in order (see docs/library.md).
struct callbacks {
  /// Once per task result, in the order the results file gets them.
  std::function<void(const task_result&)> on_result;
  /// Every `progress_interval_ms` while the run goes, and once at its end.
  std::function<void(const run_status&)> on_progress;
  /// Once per finished attempt. Costs nothing when unset.
  std::function<void(const attempt_event&)> on_attempt;
  int64_t progress_interval_ms = 1000;
  /// Whether on_progress also gets the final status, once at the end.
  bool progress_at_end = true;
};

/// The factory of an actor executor (runtime/troupe_caf.hpp).
struct actor_executor_factory;

/// How to run a manifest.
struct run_options {
  /// The JSONL results file; empty for none (results reach on_result only,
  /// and the run cannot be resumed).
  std::string results_file;
  /// Overwrite an existing results file.
  bool force = false;
  /// Continue results_file instead: run the tasks it lacks or that ended
  /// CANCELLED (also FAILED, TIMEOUT and ERROR with rerun_failed).
  bool resume = false;
  bool rerun_failed = false;
  /// Over execution_policy.concurrency.
  std::optional<uint32_t> concurrency;
  /// The result cache folder, empty for none.
  std::string cache;
  /// Also write the summary as JSON here, empty for none.
  std::string summary_file;
  callbacks on;
  /// A function executor: replaces the manifest's target (needed for a
  /// "custom" target). Empty for the target's own executor.
  execute_function execute;
  /// Threads of execute's pool; 0 for the run's concurrency.
  uint32_t pool_size = 0;
  /// An actor executor (troupe_caf.hpp's use_actor_executor); wins over
  /// execute.
  std::shared_ptr<const actor_executor_factory> actor_executor;
};

namespace runtime {
class run_core;
} // namespace runtime

/// A run in progress. Movable, not copyable. Its destructor cancels the run
/// (if it still goes) and waits for its end, callbacks included.
class run_handle {
public:
  run_handle(run_handle&&) noexcept;
  run_handle& operator=(run_handle&&) noexcept;
  run_handle(const run_handle&) = delete;
  run_handle& operator=(const run_handle&) = delete;
  ~run_handle();

  /// Stops the run as Ctrl+C does: no new dispatch, attempts in flight
  /// finish, unstarted tasks end CANCELLED with `reason`. Any thread, any
  /// number of times (the first reason wins), before or after the end.
  void cancel(const std::string& reason = "");

  /// Waits for the end, callbacks included; the summary. Rethrows what a
  /// callback threw; throws troupe::error when the run could not finish
  /// its job (a dataset file broke mid-run, the summary file). Once only.
  run_summary wait();

  /// A fresh snapshot of the run; after its end, the final one.
  run_status status() const;

  /// Whether the run has ended (wait() would not block).
  bool done() const;

private:
  friend run_handle start(const manifest&, run_options);
  explicit run_handle(std::unique_ptr<runtime::run_core> core);
  std::unique_ptr<runtime::run_core> core_;
};

/// Starts a run and returns at once. Throws troupe::error when it cannot
/// start (bad options, a results file it may not create, ...).
run_handle start(const manifest& m, run_options options);

/// Runs to the end: start(m, options).wait().
run_summary run(const manifest& m, run_options options);

/// troupe's version.
const char* version() noexcept;

} // namespace troupe
