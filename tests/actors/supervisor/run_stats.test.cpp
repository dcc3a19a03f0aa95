// Run statistics: the bounded histogram's percentiles, the slowest tasks and
// the failure groups.

#include "actors/supervisor/run_stats.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/run_counts.hpp"

using namespace troupe;
using troupe::test::count_of;

namespace {

task_result result(const std::string& id, task_status s, int64_t latency_us,
                   uint32_t attempts = 1, const std::string& code = "") {
  task_result r;
  r.task_id = id;
  r.status = s;
  r.latency_us = latency_us;
  r.attempt_log.resize(attempts);
  r.error_code = code;
  r.error = code.empty() ? "" : "error " + id;
  return r;
}

} // namespace

BOOST_AUTO_TEST_SUITE(run_stats)

BOOST_AUTO_TEST_CASE(equal_values_give_exact_percentiles) {
  latency_histogram h;
  for (int i = 0; i < 1000; ++i)
    h.add(100'000);
  BOOST_CHECK_EQUAL(h.percentile(0.5), 100'000);
  BOOST_CHECK_EQUAL(h.percentile(0.99), 100'000);
  BOOST_CHECK_EQUAL(h.max(), 100'000);
}

BOOST_AUTO_TEST_CASE(percentiles_follow_nearest_rank_within_one_percent) {
  latency_histogram h;
  for (int64_t v = 1; v <= 100'000; ++v)
    h.add(v * 10); // 10 us .. 1 s
  auto check = [&](double p, double expected) {
    auto got = static_cast<double>(h.percentile(p));
    BOOST_CHECK_CLOSE(got, expected, 1.0);
  };
  check(0.5, 500'000);
  check(0.9, 900'000);
  check(0.99, 990'000);
  BOOST_CHECK_EQUAL(h.max(), 1'000'000);
  BOOST_CHECK_EQUAL(h.percentile(1.0), 1'000'000);
  BOOST_CHECK_EQUAL(h.count(), 100'000u);
}

BOOST_AUTO_TEST_CASE(small_values_are_exact) {
  latency_histogram h;
  for (int64_t v : {3, 1, 2, 200, 5})
    h.add(v);
  BOOST_CHECK_EQUAL(h.percentile(0.2), 1);
  BOOST_CHECK_EQUAL(h.percentile(0.5), 3);
  BOOST_CHECK_EQUAL(h.percentile(0.9), 200);
  BOOST_CHECK_EQUAL(latency_histogram().percentile(0.5), -1);
}

BOOST_AUTO_TEST_CASE(memory_is_fixed_whatever_the_values) {
  latency_histogram h;
  int64_t last = 0;
  for (int64_t v = 1; v < (int64_t{1} << 50); v *= 3)
    h.add(last = v);
  // 256 exact buckets, then 128 per power of two up to 2^45 us: 40 KB.
  BOOST_CHECK_EQUAL(latency_histogram::bucket_count(), 5120u);
  BOOST_CHECK_EQUAL(h.max(), last);
  BOOST_CHECK_EQUAL(h.percentile(1.0), last);
}

BOOST_AUTO_TEST_CASE(summary_keeps_the_five_slowest_and_groups_failures) {
  troupe::run_stats stats;
  for (int i = 0; i < 20; ++i)
    stats.add(
      result("t" + std::to_string(i), task_status::succeeded, 1000 * (i + 1)));
  stats.add(result("f1", task_status::failed, 5, 3, "http_500"));
  stats.add(result("f2", task_status::failed, 5, 3, "http_500"));
  stats.add(result("x1", task_status::error, 5, 1, "reset"));
  stats.add(result("c1", task_status::cancelled, -1, 0, "cancelled"));
  auto s = stats.summary();
  BOOST_CHECK_EQUAL(count_of(s, task_status::succeeded), 20u);
  BOOST_CHECK_EQUAL(s.attempts, 20u + 3 + 3 + 1);
  BOOST_CHECK_EQUAL(s.retries, 4u);
  BOOST_REQUIRE_EQUAL(s.slowest.size(), 5u);
  BOOST_CHECK_EQUAL(s.slowest[0].task_id, "t19");
  BOOST_CHECK_EQUAL(s.slowest[4].task_id, "t15");
  BOOST_REQUIRE_EQUAL(s.failures.size(), 3u);
  BOOST_CHECK_EQUAL(s.failures[0].error_code, "http_500");
  BOOST_CHECK_EQUAL(s.failures[0].count, 2u);
  BOOST_CHECK_EQUAL(s.failures[0].example.task_id, "f1");
  BOOST_CHECK_EQUAL(s.failures[0].example.error, "error f1");
  // Cancelled tasks made no attempt and stay out of the latencies.
  BOOST_CHECK_EQUAL(s.max_us, 20'000);
}

BOOST_AUTO_TEST_CASE(failure_groups_are_bounded) {
  troupe::run_stats stats;
  for (int i = 0; i < 200; ++i)
    stats.add(result("f" + std::to_string(i), task_status::failed, 1, 1,
                     "code_" + std::to_string(i)));
  auto s = stats.summary();
  BOOST_CHECK_EQUAL(s.failures.size(), 65u);
  BOOST_CHECK_EQUAL(s.failures[0].error_code, "other");
  BOOST_CHECK_EQUAL(s.failures[0].count, 136u);
}

BOOST_AUTO_TEST_SUITE_END()
