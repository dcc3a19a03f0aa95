#pragma once

// Before a run starts (run_core): the checks of the options against the
// manifest, the results file opened (or resumed), the task stream, the
// cache and the HTTP client. Every refusal throws troupe::error with the
// message the command line prints.

#include "runtime/dataset_source.hpp"
#include "runtime/result_cache.hpp"
#include "runtime/results_target.hpp"
#include "runtime/run.hpp"
#include "runtime/troupe.hpp"

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>

namespace troupe {
class http_client;
class task_source;
} // namespace troupe

namespace troupe::runtime {

/// What a run needs from before its start.
struct prepared_run {
  config::manifest m;
  run_options cli;
  std::optional<results_target> target;
  std::shared_ptr<task_source> source;
  std::shared_ptr<cached_source> cached;
  std::shared_ptr<http_client> client;
  std::string api_key;
  /// With nodes: the manifest's text, sent to each.
  std::string manifest_text;
  int64_t epoch_us = 0;
  /// A resume with every task done: nothing to run.
  bool nothing_left = false;
  /// The program gives the executor (library API).
  bool custom_executor = false;
  /// The datasets' pass, under way while the nodes connect.
  std::future<config::result<config::manifest>> datasets;
};

/// Checks and opens everything; throws troupe::error. Without nodes the
/// results header is written too (with nodes: begin_results, later).
void prepare_run(prepared_run& p, bool custom_executor);

/// Writes the results header and checks the room for results: exit_ok, or
/// exit_unwritable with `err`.
int begin_results(const prepared_run& p, std::string& err);

/// Waits for the datasets' pass, if one is under way, and takes its counts:
/// exit_ok, or exit_usage with `err` (a broken dataset, or files a run with
/// nodes cannot upload).
int await_datasets(prepared_run& p, std::string& err);

} // namespace troupe::runtime
