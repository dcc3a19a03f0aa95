#pragma once

// The one path every run takes, the library's (troupe::start) and the
// command line's (runtime::run) alike: check the options against the
// manifest, open the results file, pick the executor, then drive the actors
// on a thread of its own while the caller waits, cancels or asks for the
// status. The command line adds only its own concerns on top: the progress
// line, Ctrl+C, the summary table and the exit code.
//
//   run_core(m, cli, api) ─▶ checks, results file (throws troupe::error)
//        └▶ run thread: run_threaded | run_virtual ─▶ summary file
//                        └▶ callback thread (callbacks, progress)
//   cancel() / status() from any thread; wait() ─▶ core_outcome

#include "runtime/run.hpp"
#include "runtime/troupe.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace troupe::runtime {

/// How a run ended, with what the command line reports after it.
struct core_outcome {
  run_summary summary;
  /// False when a write to the results file failed (exit 4).
  bool results_ok = true;
  /// A resume found every task done: nothing ran, the summary is the file's.
  bool nothing_left = false;
  uint64_t skipped = 0;
  /// The results file, "" for none.
  std::string results_path;
  /// Why the dataset stream broke mid-run, "" if it did not (exit 2).
  std::string source_error;
  /// Why the summary file could not be written, "" if it was (exit 2).
  std::string summary_error;
  /// What a callback threw, if one did.
  std::exception_ptr callback_failure;
};

/// One run. Not copyable or movable: the run thread points at it.
class run_core {
public:
  /// Checks everything and starts the run; throws troupe::error when it
  /// cannot start. `cli` holds the command line's own options (nodes,
  /// virtual time, ...); its results fields are used as they are.
  /// `write_lock`: the result sink's, when the caller needs it before the
  /// run exists (Ctrl+C during the preparation); null for a new one.
  /// `ready` is told the core once it is checked, just before its run
  /// thread starts (cancel() works from then on).
  run_core(const config::manifest& m, run_options cli, troupe::run_options api,
           std::shared_ptr<std::mutex> write_lock = nullptr,
           const std::function<void(run_core&)>& ready = nullptr);
  run_core(const run_core&) = delete;
  run_core& operator=(const run_core&) = delete;

  /// Cancels the run if it still goes and waits for it.
  ~run_core();

  /// Cancels as Ctrl+C does; any thread, any time, the first reason wins.
  void cancel(std::string reason);

  /// Waits for the end, callbacks included; throws troupe::error when the
  /// run did not start after all (a node refused it). Once only.
  core_outcome wait();

  /// A fresh snapshot (the last one known under virtual time, or after the
  /// end).
  run_status status() const;

  /// Whether the run is over.
  bool done() const;

  /// Whether the caller is the callback thread (which must not wait).
  bool on_callback_thread() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// The status a finished run leaves, from its summary.
run_status final_status(const run_summary& s, uint32_t concurrency);

} // namespace troupe::runtime
