#pragma once

// The supervisor's dispatch policies as plain classes (tested on their own):
// a token bucket for the global rate limit, and AIMD on the effective
// concurrency for `adaptive`.

#include <cstdint>

namespace troupe {

/// A token bucket over microsecond time: `rate` tokens a second, holding at
/// most `capacity`; full at the start. In any one-second window at most
/// rate + capacity attempts can start.
class token_bucket {
public:
  token_bucket() = default;

  token_bucket(double per_second, double capacity)
    : rate_(per_second), capacity_(capacity), tokens_(capacity) {}

  /// Whether a token is there at `now_us`; takes it if so.
  bool try_take(int64_t now_us);

  /// When the next token will be there (>= now_us).
  int64_t next_token_us(int64_t now_us);

  bool enabled() const noexcept {
    return rate_ > 0;
  }

private:
  void refill(int64_t now_us);

  double rate_ = 0;
  double capacity_ = 0;
  double tokens_ = 0;
  int64_t last_us_ = -1;
};

/// Additive increase, multiplicative decrease of the number of calls in
/// flight: a throttled answer halves it, and a streak of as many successes
/// as the current limit raises it by one. Calls sent before the last
/// decrease were sent under the old limit, so their throttles are the same
/// signal and do not halve it again (TCP's recovery point, per call).
class aimd_limit {
public:
  aimd_limit() = default;

  explicit aimd_limit(uint32_t max) : max_(max), limit_(max), min_seen_(max) {}

  /// A throttled answer (429, 400 "Too many requests") at `now_us` to a
  /// call started at `started_us`. Ignored if the call started no later
  /// than the last decrease: on virtual time a burst shares one instant.
  void on_throttle(int64_t started_us, int64_t now_us);

  /// A successful answer.
  void on_success();

  uint32_t limit() const noexcept {
    return limit_;
  }

  uint32_t min_seen() const noexcept {
    return min_seen_;
  }

private:
  uint32_t max_ = 1;
  uint32_t limit_ = 1;
  uint32_t min_seen_ = 1;
  uint32_t streak_ = 0;
  int64_t last_decrease_us_ = -1;
};

} // namespace troupe
