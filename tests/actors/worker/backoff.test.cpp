// The retry arithmetic on its own: the formula, the cap, the jitter bounds
// and the reproducible draws.

#include "actors/worker/backoff.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(the_original_example_waits_2_3_and_4_5_seconds) {
  retry_settings p{4, 2'000'000, 1.5, 60'000'000, jitter_mode::none};
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 1, 0.7), 2'000'000);
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 2, 0.7), 3'000'000);
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 3, 0.7), 4'500'000);
}

BOOST_AUTO_TEST_CASE(the_cap_applies_before_jitter) {
  retry_settings p{10, 1'000'000, 2.0, 5'000'000, jitter_mode::none};
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 3, 0), 4'000'000);
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 4, 0), 5'000'000);
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 9, 0), 5'000'000);
  p.jitter = jitter_mode::full;
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 9, 0.5), 2'500'000);
  p.jitter = jitter_mode::equal;
  BOOST_CHECK_EQUAL(backoff_delay_us(p, 9, 0.5), 3'750'000);
}

BOOST_AUTO_TEST_CASE(jitter_stays_within_its_bounds) {
  retry_settings full{10, 2'000'000, 1.5, 60'000'000, jitter_mode::full};
  retry_settings equal = full;
  equal.jitter = jitter_mode::equal;
  retry_settings none = full;
  none.jitter = jitter_mode::none;
  std::set<int64_t> distinct;
  for (uint32_t k = 1; k <= 6; ++k) {
    auto d = backoff_delay_us(none, k, 0);
    for (int i = 0; i < 500; ++i) {
      auto u = unit_draw(99, "task-" + std::to_string(i), k);
      auto f = backoff_delay_us(full, k, u);
      auto e = backoff_delay_us(equal, k, u);
      BOOST_CHECK(f >= 0 && f <= d);
      BOOST_CHECK(e >= d / 2 && e <= d);
      distinct.insert(f);
    }
  }
  // The draws actually vary.
  BOOST_CHECK_GT(distinct.size(), 2500u);
}

BOOST_AUTO_TEST_CASE(draws_are_keyed_and_reproducible) {
  auto x = unit_draw(7, "d/c1#0", 1);
  BOOST_CHECK_EQUAL(x, unit_draw(7, "d/c1#0", 1));
  BOOST_CHECK_NE(x, unit_draw(8, "d/c1#0", 1));
  BOOST_CHECK_NE(x, unit_draw(7, "d/c1#0", 2));
  BOOST_CHECK_NE(x, unit_draw(7, "d/c2#0", 1));
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    auto u = unit_draw(1, "k", static_cast<uint64_t>(i));
    BOOST_REQUIRE(u >= 0.0 && u < 1.0);
    sum += u;
  }
  BOOST_CHECK_CLOSE(sum / 10000, 0.5, 3.0);
}

BOOST_AUTO_TEST_SUITE_END()
