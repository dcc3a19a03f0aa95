// No worker left (docs/distribution-plan.md, section 4), on virtual time:
// the run waits out the node grace for a node to come back (node_up), and
// ends the rest CANCELLED "no nodes" when none does. Same suite as
// supervisor_nodes.test.cpp, with its fake nodes.

#include "tests/actors/supervisor/nodes_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;

BOOST_FIXTURE_TEST_SUITE(supervisor_nodes, nodes_fixture)

BOOST_AUTO_TEST_CASE(with_no_worker_left_the_tasks_end_cancelled_no_nodes) {
  // No local worker, one node, lost at 50 ms with c0. The run waits out
  // the grace (2 s) for a node; none comes: c0 and the tasks never started
  // end CANCELLED "no nodes" (so --resume takes them).
  local_workers = 0;
  node_grace_us = 2'000'000;
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(3, 2, {1}, s);
  advance(50ms);
  lose(0);
  advance(1999ms);
  BOOST_CHECK(sink_rec->results.empty());
  BOOST_CHECK_EQUAL(count_of(status(), task_status::pending), 3u);
  run_until_idle();
  auto summary = done();
  check_one_line_each(3);
  BOOST_CHECK_EQUAL(summary.end, run_end::no_nodes);
  BOOST_CHECK_EQUAL(summary.reason, "no nodes");
  BOOST_CHECK_EQUAL(summary.wall_us, 2'050'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 3u);
  for (auto& r : sink_rec->results) {
    BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
    BOOST_CHECK_EQUAL(r.error, "no nodes");
    BOOST_CHECK_EQUAL(r.error_code, "cancelled");
  }
  BOOST_REQUIRE_EQUAL(sink_rec->of("d/c0#0").attempt_log.size(), 1u);
  BOOST_CHECK(sink_rec->of("d/c0#0").attempt_log[0].lost);
}

BOOST_AUTO_TEST_CASE(a_node_back_within_the_grace_takes_the_rest) {
  // No local worker; n0 (one worker) is lost at 50 ms with c0. It comes
  // back at 1.05 s, within the grace (5 s): its new worker runs c0 again
  // (its lost attempt first in the log), then c1 and c2.
  local_workers = 0;
  node_grace_us = 5'000'000;
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(3, 1, {1}, s);
  advance(50ms);
  lose(0);
  advance(1s);
  BOOST_CHECK(sink_rec->results.empty());
  come_back("n0", 1);
  run_until_idle();
  auto summary = done();
  check_one_line_each(3);
  BOOST_CHECK_EQUAL(summary.end, run_end::completed);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 3u);
  BOOST_CHECK_EQUAL(summary.wall_us, 1'350'000);
  auto& r = sink_rec->of("d/c0#0");
  BOOST_CHECK_EQUAL(r.node, "n0");
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 2u);
  BOOST_CHECK(r.attempt_log[0].lost);
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 1'050'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").started_us, 1'250'000);
}

BOOST_AUTO_TEST_CASE(a_node_lost_again_gets_a_whole_new_grace) {
  // Grace 2 s. n0 is lost at 50 ms, back at 1.05 s (the first grace's
  // timer, due at 2.05 s, is now stale), and lost again at 1.1 s with c0:
  // a new grace of 2 s ends the run at 3.1 s, not at 2.05 s.
  local_workers = 0;
  node_grace_us = 2'000'000;
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(3, 1, {1}, s);
  advance(50ms);
  lose(0);
  advance(1s);
  come_back("n0", 1);
  advance(50ms);
  lose(1);
  advance(1s); // 2.1 s: past the first grace
  BOOST_CHECK(sink_rec->results.empty());
  run_until_idle();
  auto summary = done();
  check_one_line_each(3);
  BOOST_CHECK_EQUAL(summary.end, run_end::no_nodes);
  BOOST_CHECK_EQUAL(summary.wall_us, 3'100'000);
  auto& r = sink_rec->of("d/c0#0");
  BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
  BOOST_CHECK_EQUAL(r.error, "no nodes");
  // One node_lost entry per stay: at 0 and at 1.05 s.
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 2u);
  BOOST_CHECK(r.attempt_log[0].lost && r.attempt_log[1].lost);
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 1'050'000);
}

BOOST_AUTO_TEST_CASE(a_node_that_gives_no_workers_is_lost) {
  // No local worker; n0 never answers `workers`: after the request's 10 s
  // the node is lost and, with no worker at all and none back within the
  // grace (1 s), the run ends.
  local_workers = 0;
  node_grace_us = 1'000'000;
  mute = {0};
  start_nodes(2, 2, {1}, stub_settings{});
  advance(9s);
  BOOST_CHECK(sink_rec->results.empty());
  run_until_idle();
  auto summary = done();
  check_one_line_each(2);
  BOOST_CHECK_EQUAL(summary.end, run_end::no_nodes);
  BOOST_CHECK_EQUAL(summary.wall_us, 11'000'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 2u);
}

BOOST_AUTO_TEST_CASE(a_replaced_worker_ends_the_grace_it_started) {
  // Grace 2 s. n0's only worker crashes at 50 ms: for a moment no worker is
  // left (a grace starts), then its replacement comes. When n0 is lost at
  // 1.05 s, the run gets a whole grace: it ends at 3.05 s, not at 2.05 s.
  local_workers = 0;
  node_grace_us = 2'000'000;
  stub_settings s;
  s.delay_us = 200'000;
  start_nodes(10, 1, {1}, s);
  advance(50ms);
  caf::anon_send_exit(node_workers->at(0),
                      caf::exit_reason::unhandled_exception);
  run();
  advance(1s);
  lose(0);
  advance(1s); // 2.05 s: the first grace would have ended the run here
  for (auto& r : sink_rec->results)
    BOOST_CHECK(r.status != task_status::cancelled);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(summary.end, run_end::no_nodes);
  BOOST_CHECK_EQUAL(summary.wall_us, 3'050'000);
}

BOOST_AUTO_TEST_CASE(a_node_gives_no_more_workers_than_the_concurrency) {
  // Concurrency 2, no local worker: n0 offers 10 workers and n1 5, each is
  // asked for 2. A node joining at 50 ms (as one back would, node_up) with
  // 50 is asked for 2 too. 8 tasks of 100 ms, 2 at a time: 400 ms.
  local_workers = 0;
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(8, 2, {10, 5}, s);
  run();
  BOOST_CHECK_EQUAL(node_workers->size(), 4u);
  advance(50ms);
  come_back("n2", 50);
  BOOST_CHECK_EQUAL(node_workers->size(), 6u);
  run_until_idle();
  auto summary = done();
  check_one_line_each(8);
  BOOST_CHECK_EQUAL(summary.wall_us, 400'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 8u);
  BOOST_CHECK_EQUAL(executor_stats().second, 2u); // at most 2 in flight
}

BOOST_AUTO_TEST_SUITE_END()
