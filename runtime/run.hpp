#pragma once

// What `troupe run` and `troupe validate` do, wired from config to actors:
// load the manifest, open the results file, start the actor system, run the
// supervisor to the end, print the summary, and pick the exit code.

#include "config/manifest.hpp"
#include "runtime/system.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::runtime {

/// Exit codes (product.md, "Command line").
enum exit_code : int {
  exit_ok = 0,         ///< every task succeeded
  exit_failed = 1,     ///< some task did not
  exit_usage = 2,      ///< bad input or bad usage
  exit_aborted = 3,    ///< the service aborted the run (auth, quota)
  exit_unwritable = 4, ///< results could not be written (disk full, ...)
  exit_cancelled = 130 ///< cancelled by the user
};

enum class progress_mode { automatic, always, never };

/// Options of `troupe run`.
struct run_options {
  std::string manifest;
  /// Results file; empty for a new file named after the manifest and time.
  std::string out;
  /// No results file at all (library runs: results reach callbacks only).
  bool no_results_file = false;
  /// Overwrite an existing results file (not with resume).
  bool force = false;
  std::optional<uint32_t> concurrency;
  std::string summary_json;
  progress_mode progress = progress_mode::automatic;
  /// Continue this results file: run only the tasks it lacks or that ended
  /// CANCELLED (and FAILED, TIMEOUT, ERROR with rerun_failed). It takes no
  /// `out` or `force`; the command line enforces that.
  std::string resume;
  /// Only with resume.
  bool rerun_failed = false;
  /// The result cache folder, empty for none.
  std::string cache;
  /// Run on CAF's deterministic scheduler in virtual time (stub targets).
  bool virtual_time = false;
  /// With virtual_time: write the whole timeline to this file.
  std::string timeline;
  /// Caps on the manifest's size and on dataset lines, as the manifest was
  /// loaded with. With read_datasets off (the command line), the run reads
  /// the datasets itself: before anything else or, in a new run with
  /// nodes, while the nodes connect.
  config::load_options limits;
  /// `troupe node`s whose workers join the run: "HOST:PORT,...", empty for
  /// the manifest's execution_policy.nodes (if any).
  std::string nodes;
  /// With nodes: workers in this process too (default none); over the
  /// manifest's execution_policy.local_workers.
  std::optional<uint32_t> local_workers;
  /// With nodes: how long a run whose nodes are all gone waits for one to
  /// come back (default 30 s); over execution_policy.node_grace_seconds.
  std::optional<double> node_grace_seconds;
  /// With nodes: mutual TLS to every node.
  tls_files tls;
  /// With nodes and TLS: send the API key to the nodes instead of having
  /// them read it from their own environments.
  bool send_keys = false;
  /// The command line: run() ends the process itself once everything is
  /// written and flushed (std::_Exit with the exit code), and the actor
  /// system is left standing for that end to stop instead of torn down
  /// (5 to 15 ms a run). Not under a sanitizer, whose leak check needs a
  /// normal exit.
  bool quick_exit = false;
};

/// Runs a manifest; returns the exit code.
int run(const run_options& opts);

/// Checks a manifest and prints its task count; returns the exit code.
int validate(const std::string& manifest,
             const config::load_options& limits = {});

/// troupe's version.
const char* version() noexcept;

} // namespace troupe::runtime
