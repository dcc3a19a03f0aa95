// The progress line's text.

#include "actors/results/progress.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(progress)

BOOST_AUTO_TEST_CASE(the_line_shows_done_rate_eta_and_counts) {
  run_status s;
  s.total = 100;
  s.counts[static_cast<size_t>(task_status::succeeded)] = 20;
  s.counts[static_cast<size_t>(task_status::failed)] = 3;
  s.counts[static_cast<size_t>(task_status::timeout)] = 1;
  s.counts[static_cast<size_t>(task_status::error)] = 1;
  s.counts[static_cast<size_t>(task_status::running)] = 8;
  s.backoff = 2;
  s.elapsed_us = 5'000'000;
  BOOST_CHECK_EQUAL(render_progress(s),
                    "25/100 25% 5.0/s eta 0:00:15 | ok 20 failed 3 timeout 1 "
                    "error 1 cancelled 0 | running 8 backoff 2 | 0:00:05");
  BOOST_CHECK_EQUAL(render_progress(s, true),
                    "25/100 25% 5.0/s eta 0:00:15 | ok 20 failed 3 timeout 1 "
                    "error 1 cancelled 0 | running 8 backoff 2 | 0:00:05 "
                    "[throttled]");
  // A resumed run counts its rate from this run's tasks only.
  s.done_before = 15;
  BOOST_CHECK_EQUAL(render_progress(s),
                    "25/100 25% 2.0/s eta 0:00:37 | ok 20 failed 3 timeout 1 "
                    "error 1 cancelled 0 | running 8 backoff 2 | 0:00:05");
  s.done_before = 0;
  s.stopping = true;
  BOOST_CHECK_EQUAL(render_progress(s),
                    "25/100 25% 5.0/s | ok 20 failed 3 timeout 1 error 1 "
                    "cancelled 0 | running 8 backoff 2 | 0:00:05 [stopping]");
}

BOOST_AUTO_TEST_CASE(a_live_line_fits_the_terminal) {
  BOOST_CHECK_EQUAL(fit_width("abcdef", 4), "abc");
  BOOST_CHECK_EQUAL(fit_width("abcdef", 0), "abcdef");
  BOOST_CHECK_EQUAL(fit_width("abc", 80), "abc");
}

BOOST_AUTO_TEST_SUITE_END()
