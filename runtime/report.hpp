#pragma once

// `troupe report RESULTS [--html FILE] [--json] [--summary-json FILE]
// [--junit FILE]`: the summary of any results file (an interrupted one
// included, last line of each task winning), as a table, as JSON, as one
// self-contained HTML page with inline SVG charts, and as JUnit XML.

#include "messages/run.hpp"
#include "runtime/matrix.hpp"
#include "runtime/results_file.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace troupe::runtime {

/// Options of `troupe report`.
struct report_options {
  std::string results;
  std::string html;
  bool json = false;
  /// Where to write the summary as JSON (as `run --summary-json` does).
  std::string summary_json;
  /// Where to write JUnit XML (runtime/junit_report.hpp).
  std::string junit;
};

/// Per-dataset figures.
struct dataset_figures {
  status_counts counts{};
  uint64_t tokens = 0;
  uint64_t assertions_failed = 0;
  std::vector<int64_t> latencies_sample; // at most 2,000, for the median
  uint64_t latency_count = 0;
};

/// A task that did not succeed, or whose checks failed.
struct report_row {
  std::string task_id;
  std::string status;
  uint32_t attempts = 0;
  std::string error;
};

/// Everything the report shows, computed in two passes over the file.
struct report_data {
  results_header header;
  uint64_t runs = 0;
  uint64_t partial_bytes = 0;
  uint64_t broken_lines = 0;
  run_summary summary;
  /// Tasks of the run without a result line (an interrupted run).
  uint64_t missing = 0;
  int64_t first_start_us = -1;
  int64_t last_finish_us = -1;
  /// Latency histogram: counts per bucket, bucket i covering
  /// [edge(i), edge(i+1)) with edges 10 us * 10^(i/8).
  std::vector<uint64_t> latency_buckets;
  /// Tasks finished per second since first_start_us.
  std::map<int64_t, uint64_t> finished_per_second;
  std::map<std::string, dataset_figures> datasets;
  std::vector<report_row> failed;
  uint64_t failed_total = 0;
  std::vector<report_row> assertion_failed;
  uint64_t assertion_failed_total = 0;
  /// Cases x parameter sets, filled when asked for (the HTML page).
  matrix_data matrix;
};

/// Reads a results file into report data; an error names the file. `each`,
/// if set, also sees the last line of every task, in file order;
/// `with_matrix` fills report_data::matrix too (the HTML page's).
config::result<report_data>
build_report(const std::string& path,
             const std::function<void(const task_result&)>& each = {},
             bool with_matrix = false);

/// The lower edge of latency bucket `i`, in microseconds.
double latency_edge_us(size_t i);

/// Runs `troupe report`; returns the exit code.
int report(const report_options& opts);

} // namespace troupe::runtime
