// Backoff delays and keyed random draws.

#include "actors/worker/backoff.hpp"

#include "messages/fnv1a.hpp"

#include <algorithm>
#include <cmath>

namespace troupe {

namespace {

uint64_t splitmix64(uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

int64_t backoff_delay_us(const retry_settings& policy, uint32_t k,
                         double unit) noexcept {
  double delay = static_cast<double>(policy.backoff_us)
                 * std::pow(policy.multiplier, static_cast<double>(k - 1));
  delay = std::min(delay, static_cast<double>(policy.max_backoff_us));
  switch (policy.jitter) {
    case jitter_mode::none:
      break;
    case jitter_mode::full:
      delay *= unit;
      break;
    case jitter_mode::equal:
      delay = delay / 2 + delay / 2 * unit;
      break;
  }
  return static_cast<int64_t>(std::llround(delay));
}

double unit_draw(uint64_t seed, std::string_view key, uint64_t n) noexcept {
  auto h = fnv1a(key, troupe_hash_basis ^ splitmix64(seed));
  auto x = splitmix64(h ^ splitmix64(n + 0x632be59bd9b4e019ull));
  return static_cast<double>(x >> 11) * 0x1.0p-53;
}

} // namespace troupe
