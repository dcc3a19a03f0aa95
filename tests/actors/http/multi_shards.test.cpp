// Which multi handle a new transfer goes to, and how an attempt's time
// splits into queue, connect and wire time.

#include "actors/http/multi_shards.hpp"

#include "actors/http/attempt_times.hpp"
#include "actors/http/curl_transfer.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(multi_shards)

BOOST_AUTO_TEST_CASE(the_first_shard_with_room_takes_a_new_transfer) {
  BOOST_CHECK_EQUAL(pick_shard({}, 1000), 0u);
  BOOST_CHECK_EQUAL(pick_shard({999}, 1000), 0u);
  BOOST_CHECK_EQUAL(pick_shard({1000, 10, 0}, 1000), 1u);
  BOOST_CHECK_EQUAL(pick_shard({1000, 1000, 0}, 1000), 2u);
}

BOOST_AUTO_TEST_CASE(a_new_shard_when_every_shard_is_full) {
  BOOST_CHECK_EQUAL(pick_shard({1000}, 1000), 1u);
  BOOST_CHECK_EQUAL(pick_shard({3, 3, 3}, 3), 3u);
}

BOOST_AUTO_TEST_CASE(a_new_connection_splits_the_wait_into_queue_and_connect) {
  // Sent at 1,000; the connection took 300 of the wait until 2,000; the
  // answer's last byte came at 5,500.
  auto t = split_attempt_time(1'000, wire_times{2'000, 5'500, 300});
  BOOST_CHECK_EQUAL(t.latency_us, 3'500);
  BOOST_CHECK_EQUAL(t.connect_us, 300);
  BOOST_CHECK_EQUAL(t.queue_us, 700);
}

BOOST_AUTO_TEST_CASE(a_reused_connection_has_no_connect_time) {
  auto t = split_attempt_time(1'000, wire_times{1'250, 2'000, 0});
  BOOST_CHECK_EQUAL(t.latency_us, 750);
  BOOST_CHECK_EQUAL(t.connect_us, 0);
  BOOST_CHECK_EQUAL(t.queue_us, 250);
}

BOOST_AUTO_TEST_CASE(a_call_that_never_reached_the_wire_has_no_times) {
  auto t = split_attempt_time(1'000, wire_times{-1, -1, -1});
  BOOST_CHECK_EQUAL(t.latency_us, -1);
  BOOST_CHECK_EQUAL(t.queue_us, -1);
  BOOST_CHECK_EQUAL(t.connect_us, -1);
}

BOOST_AUTO_TEST_CASE(times_from_other_threads_never_go_negative) {
  // A stamp from before the worker's (clocks read on other threads).
  auto t = split_attempt_time(2'000, wire_times{1'990, 1'980, 50});
  BOOST_CHECK_EQUAL(t.latency_us, 0);
  BOOST_CHECK_EQUAL(t.queue_us, 0);
  BOOST_CHECK_EQUAL(t.connect_us, 50);
}

BOOST_AUTO_TEST_CASE(an_answer_byte_from_before_the_wire_is_no_end) {
  // Over a CONNECT proxy the blank line after "200 Connection established"
  // comes before the request goes out; a request that then gets no answer
  // has no end, rather than one before its start (latency 0).
  curl::transfer t;
  t.easy = curl_easy_init();
  t.wire_start_us = 2'000;
  t.last_byte_us = 1'500;
  curl::complete(t, CURLE_GOT_NOTHING);
  BOOST_CHECK_EQUAL(t.outcome.wire_start_us, 2'000);
  BOOST_CHECK_EQUAL(t.outcome.wire_end_us, -1);
  BOOST_CHECK_EQUAL(
    split_attempt_time(1'000, wire_times{2'000, -1, 0}).latency_us, -1);
  curl_easy_cleanup(t.easy);
}

BOOST_AUTO_TEST_SUITE_END()
