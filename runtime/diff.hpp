#pragma once

// `troupe diff BASE NEW [--html F] [--json] [--slower X]`: what changed
// between two results files, task by task (matched by id, the last line of
// each task winning, as in `report`): statuses, checks, latency, tokens and
// outputs. Something got worse (a task that no longer succeeds, a check
// that newly fails): exit 1, the regression gate for CI.
//
//   BASE, NEW ─▶ compare_runs ─▶ run_diff ─▶ text | JSON | HTML

#include "config/manifest.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace troupe::runtime {

/// Options of `troupe diff`.
struct diff_options {
  std::string base;
  std::string next;
  std::string html;
  bool json = false;
  /// A task whose latency grew by more than this factor is listed as
  /// slower (and its new latency is at least 1 ms more).
  double slower = 2.0;
};

/// One task's change.
struct task_change {
  std::string task_id;
  std::string before;
  std::string after;
  /// Why, when the task no longer succeeds (its error), or the check's name.
  std::string detail;
};

/// Latency and tokens of one dataset on each side.
struct dataset_delta {
  /// p50, p90, p99 in microseconds, -1 when there is none.
  int64_t base_p[3] = {-1, -1, -1};
  int64_t next_p[3] = {-1, -1, -1};
  uint64_t base_tokens = 0;
  uint64_t next_tokens = 0;
};

/// Everything `troupe diff` shows.
struct run_diff {
  std::string base_path;
  std::string next_path;
  std::string base_name;
  std::string next_name;
  /// Set when the two runs' manifests differ.
  std::string manifest_warning;
  /// Tasks on each side (last line each), and per status.
  uint64_t base_tasks = 0;
  uint64_t next_tasks = 0;
  /// Statuses that either side has, in the order people see them.
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>>
    status_counts;
  std::vector<task_change> newly_failing;
  std::vector<task_change> fixed;
  /// Other status changes (FAILED to ERROR, CANCELLED to FAILED, ...).
  std::vector<task_change> other_status;
  std::vector<task_change> checks_newly_failing;
  std::vector<task_change> checks_newly_passing;
  /// Latencies in ms as text ("46.8"), the factor in `detail`.
  std::vector<task_change> slower;
  /// Outputs as JSON text (whole).
  std::vector<task_change> outputs_changed;
  std::vector<std::string> only_in_base;
  std::vector<std::string> only_in_next;
  std::map<std::string, dataset_delta> datasets;
  uint64_t base_tokens = 0;
  uint64_t next_tokens = 0;

  /// Whether something got worse: a task that no longer succeeds, or a
  /// check that newly fails.
  bool worse() const noexcept {
    return !newly_failing.empty() || !checks_newly_failing.empty();
  }
};

/// Compares two results files; an error names the file.
config::result<run_diff> compare_runs(const diff_options& opts);

/// The text report (lists cut at `list_limit` entries each).
std::string render_diff_text(const run_diff& d, size_t list_limit = 50);

/// The whole diff as one JSON object.
std::string render_diff_json(const run_diff& d);

/// One self-contained HTML page, whole outputs included.
std::string render_diff_html(const run_diff& d);

/// A short view of how `before` became `after`: the part around the first
/// difference, at most about `width` characters of each.
std::pair<std::string, std::string> short_change(const std::string& before,
                                                 const std::string& after,
                                                 size_t width = 60);

/// `s` cut to about `width` bytes (at a character boundary), "..." added.
std::string cut_text(const std::string& s, size_t width);

/// Runs `troupe diff`; returns the exit code.
int diff(const diff_options& opts);

} // namespace troupe::runtime
