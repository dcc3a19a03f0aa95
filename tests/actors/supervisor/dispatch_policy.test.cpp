// The rate limiter's bucket and the adaptive limit, on their own.

#include "actors/supervisor/dispatch_policy.hpp"

#include <boost/test/unit_test.hpp>

#include <deque>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(dispatch_policy)

BOOST_AUTO_TEST_CASE(a_bucket_allows_its_burst_then_its_rate) {
  token_bucket b{5, 10}; // 5 per second, burst 10
  int taken = 0;
  while (b.try_take(0))
    ++taken;
  BOOST_CHECK_EQUAL(taken, 10);
  BOOST_CHECK_EQUAL(b.next_token_us(0), 200'000);
  BOOST_CHECK(!b.try_take(199'999));
  BOOST_CHECK(b.try_take(200'000));
  BOOST_CHECK_EQUAL(b.next_token_us(200'000), 400'000);
}

BOOST_AUTO_TEST_CASE(a_token_is_never_more_than_a_day_away) {
  // 1e-10 per second would put the next token 317 years ahead, past what a
  // timer's nanoseconds hold.
  token_bucket b{1e-10, 1};
  BOOST_CHECK(b.try_take(0));
  BOOST_CHECK_EQUAL(b.next_token_us(5), 5 + 86'400'000'000);
}

BOOST_AUTO_TEST_CASE(no_one_second_window_exceeds_rate_plus_burst) {
  token_bucket b{20, 5};
  std::deque<int64_t> starts;
  size_t most = 0;
  // Try to start an attempt every millisecond for ten seconds.
  for (int64_t t = 0; t <= 10'000'000; t += 1000) {
    if (!b.try_take(t))
      continue;
    starts.push_back(t);
    while (starts.front() <= t - 1'000'000)
      starts.pop_front();
    most = std::max(most, starts.size());
  }
  BOOST_CHECK_LE(most, 25u);
  BOOST_CHECK_GE(most, 20u);
}

BOOST_AUTO_TEST_CASE(a_disabled_bucket_never_blocks) {
  token_bucket b;
  for (int i = 0; i < 1000; ++i)
    BOOST_CHECK(b.try_take(0));
}

BOOST_AUTO_TEST_CASE(aimd_halves_once_per_signal_and_grows_by_streaks) {
  aimd_limit a{32};
  BOOST_CHECK_EQUAL(a.limit(), 32u);
  a.on_throttle(0, 1'000); // halves at 1 ms
  BOOST_CHECK_EQUAL(a.limit(), 16u);
  a.on_throttle(0, 2'000);      // sent with it, under the old limit
  a.on_throttle(1'000, 50'000); // in the same microsecond as the decrease
  BOOST_CHECK_EQUAL(a.limit(), 16u);
  a.on_throttle(1'001, 1'500); // sent under the new limit
  BOOST_CHECK_EQUAL(a.limit(), 8u);
  for (int i = 0; i < 7; ++i)
    a.on_success();
  BOOST_CHECK_EQUAL(a.limit(), 8u);
  a.on_success(); // a streak of 8
  BOOST_CHECK_EQUAL(a.limit(), 9u);
  for (int t = 1; t < 10; ++t)
    a.on_throttle(t * 1'000'000, t * 1'000'000 + 100);
  BOOST_CHECK_EQUAL(a.limit(), 1u); // never below one
  BOOST_CHECK_EQUAL(a.min_seen(), 1u);
  for (int i = 0; i < 10'000; ++i)
    a.on_success();
  BOOST_CHECK_EQUAL(a.limit(), 32u); // never above the concurrency
}

BOOST_AUTO_TEST_SUITE_END()
