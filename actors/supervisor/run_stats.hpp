#pragma once

// Statistics the supervisor keeps while a run goes on: counts, attempts, a
// latency histogram of bounded memory, the slowest tasks and the failures
// grouped by error code. Plain class, no actor: tested on its own.

#include "messages/run.hpp"
#include "messages/task.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace troupe {

/// A log-linear histogram of microsecond values: exact below 256 us, then
/// 128 buckets per power of two (under 0.8 % error). Each bucket also keeps
/// the sum of its values, so a percentile whose bucket holds equal values is
/// exact. Memory is fixed (about 70 KB) whatever the number of values.
class latency_histogram {
public:
  latency_histogram();

  void add(int64_t us) noexcept;

  uint64_t count() const noexcept {
    return count_;
  }

  int64_t max() const noexcept {
    return max_;
  }

  /// The nearest-rank percentile (p in (0, 1]), -1 when empty.
  int64_t percentile(double p) const noexcept;

  /// Number of buckets, for tests.
  static size_t bucket_count() noexcept;

private:
  std::vector<uint64_t> counts_;
  std::vector<uint64_t> sums_;
  uint64_t count_ = 0;
  int64_t max_ = -1;
};

/// Aggregates task results into a run_summary.
class run_stats {
public:
  /// Takes one finished task into account.
  void add(const task_result& r);

  /// Counts per status of the tasks added so far.
  const status_counts& counts() const noexcept {
    return counts_;
  }

  uint64_t attempts() const noexcept {
    return attempts_;
  }

  uint64_t finished() const noexcept {
    return finished_;
  }

  /// The summary so far; the caller fills in total, wall time and end.
  run_summary summary() const;

  /// Takes what has been added so far as an earlier run's (a resumed
  /// results file): it counts in the summary, not in this run's rate.
  void mark_baseline() noexcept {
    baseline_ = finished_;
  }

  uint64_t baseline() const noexcept {
    return baseline_;
  }

private:
  uint64_t baseline_ = 0;
  uint64_t assertions_failed_ = 0;
  uint64_t cached_ = 0;
  std::vector<assertion_note> assertion_failures_;
  status_counts counts_{};
  uint64_t finished_ = 0;
  uint64_t attempts_ = 0;
  uint64_t retries_ = 0;
  uint64_t tokens_ = 0;
  latency_histogram latency_;
  std::vector<task_note> slowest_; // a min-heap on latency, at most 5
  std::map<std::string, failure_group> failures_;
};

} // namespace troupe
