#pragma once

// Run-level vocabulary: the live status snapshot the progress line shows, and
// the final summary printed, appended to the results and written as JSON.

#include "messages/task.hpp"

#include <caf/meta/type_name.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// Counts indexed by task_status.
using status_counts = std::array<uint64_t, task_status_count>;

/// How a run ended.
enum class run_end : uint8_t {
  completed,  ///< every task reached a terminal status on its own
  cancelled,  ///< cancelled by the user (Ctrl+C or a scripted event)
  aborted,    ///< stopped by the service (401, 403, quota)
  deadline,   ///< run_deadline_seconds passed
  unwritable, ///< the results file could not be written (exit 4)
  no_nodes,   ///< every node was lost and no worker was left
};

std::string to_string(run_end x);

/// A snapshot of a run in progress.
struct run_status {
  uint64_t total = 0;
  /// Per status; PENDING counts tasks not yet dispatched.
  status_counts counts{};
  /// Tasks waiting in backoff for their next attempt (part of QUEUED).
  uint64_t backoff = 0;
  uint64_t attempts = 0;
  /// Throttled answers (429 and the like) seen so far.
  uint64_t throttled = 0;
  /// Microseconds since the run started.
  int64_t elapsed_us = 0;
  /// Whether the run is being cancelled.
  bool stopping = false;
  /// Tasks that had finished in earlier runs of a resumed results file.
  uint64_t done_before = 0;
  /// The configured concurrency, and the adaptive limit (0: not adaptive).
  uint32_t concurrency = 0;
  uint32_t effective_concurrency = 0;
  /// Tasks whose result line is written.
  uint64_t done() const noexcept;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_status& x) {
  return f(caf::meta::type_name("troupe::run_status"), x.total, x.counts,
           x.backoff, x.attempts, x.throttled, x.elapsed_us, x.stopping,
           x.done_before, x.concurrency, x.effective_concurrency);
}

/// A task that stood out (slow, or an example of a failure).
struct task_note {
  std::string task_id;
  int64_t latency_us = 0;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_note& x) {
  return f(caf::meta::type_name("troupe::task_note"), x.task_id, x.latency_us,
           x.error);
}

/// Failures that share an error code.
struct failure_group {
  std::string error_code;
  uint64_t count = 0;
  task_note example;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure_group& x) {
  return f(caf::meta::type_name("troupe::failure_group"), x.error_code, x.count,
           x.example);
}

/// A check that failed.
struct assertion_note {
  std::string task_id;
  std::string check;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assertion_note& x) {
  return f(caf::meta::type_name("troupe::assertion_note"), x.task_id, x.check,
           x.detail);
}

/// The whole run, summed up.
struct run_summary {
  uint64_t total = 0;
  status_counts counts{};
  uint64_t attempts = 0;
  uint64_t retries = 0;
  uint64_t tokens = 0;
  int64_t wall_us = 0;
  /// Latency percentiles over tasks that made an attempt, -1 when none.
  int64_t p50_us = -1;
  int64_t p90_us = -1;
  int64_t p99_us = -1;
  int64_t max_us = -1;
  /// The slowest tasks, slowest first (at most five).
  std::vector<task_note> slowest;
  /// Tasks that did not succeed, grouped by error code, largest group first.
  std::vector<failure_group> failures;
  run_end end = run_end::completed;
  /// Why the run was cancelled or aborted, empty when it completed.
  std::string reason;
  /// SUCCEEDED tasks with a failed check, and the first failures.
  uint64_t assertions_failed = 0;
  std::vector<assertion_note> assertion_failures;
  /// Tasks answered from the result cache.
  uint64_t cached = 0;
  /// Tasks finished in this run (the rest come from a resumed file).
  uint64_t finished_this_run = 0;
  /// With adaptive concurrency: the limit at the end and the lowest one.
  uint32_t concurrency_final = 0;
  uint32_t concurrency_min = 0;

  /// Tasks finished in this run per second of its wall time.
  double tasks_per_second() const noexcept;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_summary& x) {
  return f(caf::meta::type_name("troupe::run_summary"), x.total, x.counts,
           x.attempts, x.retries, x.tokens, x.wall_us, x.p50_us, x.p90_us,
           x.p99_us, x.max_us, x.slowest, x.failures, x.end, x.reason,
           x.assertions_failed, x.assertion_failures, x.cached,
           x.finished_this_run, x.concurrency_final, x.concurrency_min);
}

} // namespace troupe
