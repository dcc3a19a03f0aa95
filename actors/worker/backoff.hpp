#pragma once

// The retry policy's arithmetic (product.md, "Retry"): the delay before
// attempt k+1 is backoff * multiplier^(k-1), capped, then jittered. Random
// draws are keyed on (seed, task id, attempt), so a seeded run reproduces
// whatever order the tasks happen to run in.

#include <cstdint>
#include <string_view>

namespace troupe {

enum class jitter_mode : uint8_t { none, full, equal };

/// The retry policy, in microseconds.
struct retry_settings {
  uint32_t max_attempts = 3;
  int64_t backoff_us = 2'000'000;
  double multiplier = 1.5;
  int64_t max_backoff_us = 60'000'000;
  jitter_mode jitter = jitter_mode::none;
};

/// The delay before attempt `k + 1`, after attempt `k` (k >= 1) failed.
/// `unit` is a random draw in [0, 1), used only by jitter.
int64_t backoff_delay_us(const retry_settings& policy, uint32_t k,
                         double unit) noexcept;

/// A reproducible draw in [0, 1) for one (seed, key, n).
double unit_draw(uint64_t seed, std::string_view key, uint64_t n) noexcept;

} // namespace troupe
