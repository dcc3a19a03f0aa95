// Token bucket and AIMD.

#include "actors/supervisor/dispatch_policy.hpp"

#include <algorithm>
#include <cmath>

namespace troupe {

void token_bucket::refill(int64_t now_us) {
  if (last_us_ < 0) {
    last_us_ = now_us;
    return;
  }
  if (now_us > last_us_) {
    tokens_ = std::min(
      capacity_,
      tokens_ + static_cast<double>(now_us - last_us_) * rate_ / 1e6);
    last_us_ = now_us;
  }
}

bool token_bucket::try_take(int64_t now_us) {
  if (!enabled())
    return true;
  refill(now_us);
  // A tiny tolerance: refills computed in doubles may fall a hair short.
  if (tokens_ >= 1.0 - 1e-9) {
    tokens_ -= 1.0;
    return true;
  }
  return false;
}

int64_t token_bucket::next_token_us(int64_t now_us) {
  refill(now_us);
  if (tokens_ >= 1.0 - 1e-9)
    return now_us;
  // Never more than a day ahead, whatever the rate: the wait becomes a
  // timer, whose nanoseconds must fit in 64 bits.
  constexpr double max_wait_us = 86'400e6;
  return now_us
         + static_cast<int64_t>(
           std::min(max_wait_us, std::ceil((1.0 - tokens_) * 1e6 / rate_)));
}

void aimd_limit::on_throttle(int64_t started_us, int64_t now_us) {
  streak_ = 0;
  if (started_us <= last_decrease_us_)
    return; // sent before it (or in the same microsecond, as good as)
  last_decrease_us_ = now_us;
  limit_ = std::max<uint32_t>(1, limit_ / 2);
  min_seen_ = std::min(min_seen_, limit_);
}

void aimd_limit::on_success() {
  if (limit_ >= max_)
    return;
  if (++streak_ >= limit_) {
    ++limit_;
    streak_ = 0;
  }
}

} // namespace troupe
