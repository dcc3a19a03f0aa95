// Run statistics and the latency histogram.

#include "actors/supervisor/run_stats.hpp"

#include <algorithm>

namespace troupe {

namespace {

constexpr int sub_bits = 7;
constexpr int64_t linear_limit = 256; // exact below this
constexpr int first_exponent = 8;     // 2^8 == linear_limit
constexpr int last_exponent = 45;     // about a year in microseconds
constexpr size_t slowest_kept = 5;
constexpr size_t assertion_failures_kept = 20;
constexpr size_t failure_codes_kept = 64;

size_t bucket_of(int64_t us) noexcept {
  if (us < linear_limit)
    return static_cast<size_t>(us < 0 ? 0 : us);
  auto v = static_cast<uint64_t>(us);
  int e = 63 - __builtin_clzll(v);
  if (e > last_exponent)
    e = last_exponent, v = (uint64_t{2} << e) - 1;
  auto sub = (v >> (e - sub_bits)) & ((1u << sub_bits) - 1);
  return static_cast<size_t>(linear_limit)
         + static_cast<size_t>(e - first_exponent) * (size_t{1} << sub_bits)
         + sub;
}

bool slower(const task_note& x, const task_note& y) {
  // Min-heap order: the fastest of the kept ones sits on top.
  return x.latency_us > y.latency_us;
}

} // namespace

latency_histogram::latency_histogram()
  : counts_(bucket_count()), sums_(bucket_count()) {}

size_t latency_histogram::bucket_count() noexcept {
  return static_cast<size_t>(linear_limit)
         + static_cast<size_t>(last_exponent - first_exponent + 1)
             * (size_t{1} << sub_bits);
}

void latency_histogram::add(int64_t us) noexcept {
  if (us < 0)
    us = 0;
  auto b = bucket_of(us);
  counts_[b] += 1;
  sums_[b] += static_cast<uint64_t>(us);
  ++count_;
  max_ = std::max(max_, us);
}

int64_t latency_histogram::percentile(double p) const noexcept {
  if (count_ == 0)
    return -1;
  auto rank = static_cast<uint64_t>(p * static_cast<double>(count_));
  if (static_cast<double>(rank) < p * static_cast<double>(count_))
    ++rank;
  rank = std::clamp<uint64_t>(rank, 1, count_);
  if (rank == count_)
    return max_;
  uint64_t seen = 0;
  for (size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      auto mean = (sums_[b] + counts_[b] / 2) / counts_[b];
      return std::min(static_cast<int64_t>(mean), max_);
    }
  }
  return max_;
}

void run_stats::add(const task_result& r) {
  counts_[static_cast<size_t>(r.status)] += 1;
  ++finished_;
  attempts_ += r.attempts();
  // A conversation's turns each start with a first attempt of their own.
  uint32_t firsts = 1;
  if (!r.turns.empty()) {
    firsts = 0;
    for (auto& t : r.turns)
      firsts += t.attempts > 0 ? 1 : 0;
    firsts = std::max<uint32_t>(firsts, 1);
  }
  if (r.attempts() > firsts)
    retries_ += r.attempts() - firsts;
  if (r.tokens > 0)
    tokens_ += static_cast<uint64_t>(r.tokens);
  if (r.cached)
    ++cached_;
  if (r.status == task_status::succeeded && r.assertions_failed()) {
    ++assertions_failed_;
    for (auto& a : r.assertions)
      if (!a.passed && assertion_failures_.size() < assertion_failures_kept)
        assertion_failures_.push_back({r.task_id, a.check, a.detail});
  }
  if (r.latency_us >= 0 && r.status != task_status::cancelled) {
    latency_.add(r.latency_us);
    task_note note{r.task_id, r.latency_us, {}};
    if (slowest_.size() < slowest_kept) {
      slowest_.push_back(std::move(note));
      std::push_heap(slowest_.begin(), slowest_.end(), slower);
    } else if (r.latency_us > slowest_.front().latency_us) {
      std::pop_heap(slowest_.begin(), slowest_.end(), slower);
      slowest_.back() = std::move(note);
      std::push_heap(slowest_.begin(), slowest_.end(), slower);
    }
  }
  if (r.status != task_status::succeeded) {
    auto code = r.error_code.empty() ? std::string{"unknown"} : r.error_code;
    auto i = failures_.find(code);
    if (i == failures_.end() && failures_.size() >= failure_codes_kept) {
      // Bounded memory: rare codes beyond the first 64 share one group.
      code = "other";
      i = failures_.find(code);
    }
    if (i == failures_.end()) {
      i = failures_.emplace(code, failure_group{code, 0, {}}).first;
      i->second.example = task_note{r.task_id, r.latency_us, r.error};
    }
    i->second.count += 1;
  }
}

run_summary run_stats::summary() const {
  run_summary s;
  s.counts = counts_;
  s.attempts = attempts_;
  s.retries = retries_;
  s.tokens = tokens_;
  s.p50_us = latency_.percentile(0.50);
  s.p90_us = latency_.percentile(0.90);
  s.p99_us = latency_.percentile(0.99);
  s.max_us = latency_.max();
  s.slowest = slowest_;
  std::sort(s.slowest.begin(), s.slowest.end(),
            [](auto& x, auto& y) { return x.latency_us > y.latency_us; });
  for (auto& kv : failures_)
    s.failures.push_back(kv.second);
  s.assertions_failed = assertions_failed_;
  s.assertion_failures = assertion_failures_;
  s.cached = cached_;
  s.finished_this_run = finished_ - baseline_;
  std::stable_sort(s.failures.begin(), s.failures.end(),
                   [](auto& x, auto& y) { return x.count > y.count; });
  return s;
}

} // namespace troupe
