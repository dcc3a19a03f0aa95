// Node loss on virtual time (docs/distribution-plan.md, section 4), with
// the fake nodes of nodes_fixture.hpp: requeue, node_lost attempts, late
// messages dropped.
//
// Every case has one local worker, which takes c0 at t = 0 (the start
// dispatches before any node's workers join), and one node of one worker,
// which takes c1.

#include "tests/actors/supervisor/nodes_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;

BOOST_FIXTURE_TEST_SUITE(supervisor_nodes, nodes_fixture)

BOOST_AUTO_TEST_CASE(a_lost_nodes_tasks_run_again_ahead_of_new_ones) {
  // Tasks of 100 ms; c0 local, c1 and c2 on n0's two workers. n0 is lost
  // at 50 ms: c1 and c2 run next on the local worker, before c3.
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(5, 3, {2}, s);
  advance(50ms);
  BOOST_CHECK_EQUAL(count_of(status(), task_status::running), 3u);
  lose(0);
  auto st = status();
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 1u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::pending), 4u);
  run_until_idle();
  auto summary = done();
  check_one_line_each(5);
  // Dispatch order: c0, then c1, c2 (taken back), then c3, c4.
  std::vector<std::string> order;
  for (auto& r : sink_rec->results)
    order.push_back(r.task_id);
  std::vector<std::string> expected{"d/c0#0", "d/c1#0", "d/c2#0", "d/c3#0",
                                    "d/c4#0"};
  BOOST_CHECK_EQUAL_COLLECTIONS(order.begin(), order.end(), expected.begin(),
                                expected.end());
  for (auto id : {"d/c1#0", "d/c2#0"}) {
    auto& r = sink_rec->of(id);
    BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
    BOOST_CHECK_EQUAL(r.node, "local");
    BOOST_CHECK_EQUAL(r.started_us, 0);
    BOOST_CHECK_EQUAL(r.attempts(), 1u);
    BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 2u);
    auto& lost = r.attempt_log[0];
    BOOST_CHECK(lost.lost);
    BOOST_CHECK_EQUAL(lost.node, "n0");
    BOOST_CHECK_EQUAL(lost.started_us, 0);
    BOOST_CHECK_EQUAL(lost.duration_us, 50'000);
    BOOST_CHECK_EQUAL(lost.error, lost_text(0));
    BOOST_CHECK(!r.attempt_log[1].lost);
    BOOST_CHECK_EQUAL(r.attempt_log[1].status, task_status::succeeded);
  }
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").attempt_log[1].started_us, 100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").attempt_log[1].started_us, 200'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").started_us, 300'000);
  // One worker from 50 ms on: 5 tasks end at 500 ms. Lost attempts are no
  // attempts: 5 of them, no retry.
  BOOST_CHECK_EQUAL(summary.wall_us, 500'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 5u);
  BOOST_CHECK_EQUAL(summary.attempts, 5u);
  BOOST_CHECK_EQUAL(summary.retries, 0u);
}

BOOST_AUTO_TEST_CASE(a_lost_attempt_does_not_count_against_max_attempts) {
  // max_attempts 3. c1 fails twice on n0 and is lost in its second backoff;
  // on the local worker it gets three attempts of its own again.
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c0#0"] = {test::scripted("delay:4s")};
  s.behaviors["d/c1#0"] = {test::scripted("failure"), test::scripted("failure"),
                           test::scripted("success")};
  start_nodes(2, 2, {1}, s);
  // c1: attempt 1 [0, 100 ms], backoff 1 s, attempt 2 [1.1 s, 1.2 s], then
  // a backoff of 2 s: lost at 1.5 s.
  advance(1500ms);
  lose(0);
  run_until_idle();
  done();
  check_one_line_each(2);
  auto& r = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
  BOOST_CHECK_EQUAL(r.attempts(), 3u);
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 4u);
  BOOST_CHECK(r.attempt_log[0].lost);
  BOOST_CHECK_EQUAL(r.attempt_log[0].duration_us, 1'500'000);
  // Again from attempt 1 once the local worker is free at 4 s (c0 takes 4 s).
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 4'000'000);
  BOOST_CHECK_EQUAL(r.attempt_log[1].status, task_status::failed);
  BOOST_CHECK_EQUAL(r.attempt_log[3].status, task_status::succeeded);
}

BOOST_AUTO_TEST_CASE(late_messages_from_a_lost_nodes_worker_are_dropped) {
  // Retries need permits (a rate limit), so the lost worker asks for one.
  // c1 fails on n0 at 100 ms and backs off (1 s); n0 is lost at 150 ms. c1
  // runs again on the local worker from 500 ms (after c0): it fails at
  // 600 ms and backs off until 1.6 s. At 1.1 s the lost worker asks for its
  // retry's permit: answered no, it leaves its backoff and reports c1
  // CANCELLED. None of it may touch c1's new run: still one task in
  // backoff, no throttle (a permit given would have run its 429).
  dispatch.rate_per_second = 1000;
  dispatch.burst = 10;
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c0#0"] = {test::scripted("delay:500ms")};
  s.behaviors["d/c1#0"] = {test::scripted("failure"), test::scripted("429"),
                           test::scripted("success")};
  start_nodes(3, 2, {1}, s);
  advance(150ms);
  BOOST_CHECK_EQUAL(status().backoff, 1u);
  lose(0);
  BOOST_CHECK_EQUAL(status().backoff, 0u);
  advance(1150ms); // 1.3 s
  auto st = status();
  BOOST_CHECK_EQUAL(st.backoff, 1u);
  BOOST_CHECK_EQUAL(st.throttled, 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::queued), 1u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::succeeded), 1u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::cancelled), 0u);
  run_until_idle();
  auto summary = done();
  check_one_line_each(3);
  auto& r = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
  BOOST_CHECK_EQUAL(r.node, "local");
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 4u);
  BOOST_CHECK(r.attempt_log[0].lost);
  BOOST_CHECK_EQUAL(r.attempt_log[0].duration_us, 150'000);
  // Local attempts at 500 ms, 1.6 s (the 429) and, 2 s later, 3.7 s.
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 500'000);
  BOOST_CHECK_EQUAL(r.attempt_log[2].started_us, 1'600'000);
  BOOST_CHECK_EQUAL(r.attempt_log[3].started_us, 3'700'000);
  BOOST_CHECK_EQUAL(summary.end, run_end::completed);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 3u);
  BOOST_CHECK_EQUAL(summary.attempts, 5u);
  BOOST_CHECK_EQUAL(summary.wall_us, 3'900'000);
}

BOOST_AUTO_TEST_CASE(a_late_result_and_throttle_from_a_lost_node_are_dropped) {
  // One attempt per task. c1's attempt on n0 answers 429 at 100 ms, but n0
  // is lost at 50 ms: the throttle and the FAILED result come late. c1
  // runs again on the local worker after c0, from 100 ms.
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c1#0"] = {test::scripted("429"), test::scripted("success")};
  retry.max_attempts = 1;
  start_nodes(2, 2, {1}, s);
  advance(50ms);
  lose(0);
  advance(100ms);
  auto st = status();
  BOOST_CHECK_EQUAL(st.throttled, 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::failed), 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 1u);
  run_until_idle();
  done();
  check_one_line_each(2);
  auto& r = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(r.status, task_status::failed);
  BOOST_CHECK_EQUAL(r.attempts(), 1u);
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 2u);
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 100'000);
}

BOOST_AUTO_TEST_CASE(a_stop_ends_taken_back_tasks_cancelled) {
  // n0 is lost while the local worker is busy; then the run is cancelled:
  // c1 (taken back) ends CANCELLED with its node_lost attempt, like the
  // unstarted c2 and c3; c0 finishes.
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(4, 2, {1}, s);
  advance(50ms);
  lose(0);
  caf::anon_send(sup, cancel_atom::value, std::string{"stop"});
  run_until_idle();
  auto summary = done();
  check_one_line_each(4);
  BOOST_CHECK_EQUAL(summary.end, run_end::cancelled);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").status, task_status::succeeded);
  auto& r = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
  BOOST_CHECK_EQUAL(r.error, "stop");
  BOOST_CHECK_EQUAL(r.started_us, 0);
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 1u);
  BOOST_CHECK(r.attempt_log[0].lost);
  BOOST_CHECK_EQUAL(r.attempts(), 0u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").status, task_status::cancelled);
}

BOOST_AUTO_TEST_CASE(a_node_lost_while_stopping_has_its_task_cancelled) {
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(4, 2, {1}, s);
  advance(50ms);
  caf::anon_send(sup, cancel_atom::value, std::string{"stop"});
  run();
  lose(0);
  run_until_idle();
  auto summary = done();
  check_one_line_each(4);
  BOOST_CHECK_EQUAL(summary.wall_us, 100'000);
  auto& r = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 1u);
  BOOST_CHECK(r.attempt_log[0].lost);
  BOOST_CHECK_EQUAL(r.finished_us, 50'000);
}

BOOST_AUTO_TEST_CASE(a_mute_node_next_to_a_good_one_adds_nothing) {
  // n0 never answers; n1 and the local worker run every task.
  mute = {0};
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(4, 4, {2, 1}, s);
  run_until_idle();
  auto summary = done();
  check_one_line_each(4);
  BOOST_CHECK_EQUAL(summary.end, run_end::completed);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 4u);
  BOOST_CHECK_EQUAL(summary.wall_us, 200'000);
  for (auto& r : sink_rec->results)
    BOOST_CHECK(r.node == "local" || r.node == "n1");
}

BOOST_AUTO_TEST_CASE(a_crashed_node_worker_is_replaced_by_its_node) {
  // No local worker; n0's one worker crashes at 50 ms holding c0: c0 ends
  // ERROR worker_crashed, as locally, and n0 spawns a new worker at the
  // same index, which runs c1 and c2 (no grace, no node lost).
  local_workers = 0;
  stub_settings s;
  s.delay_us = 100'000;
  start_nodes(3, 1, {1}, s);
  advance(50ms);
  BOOST_REQUIRE_EQUAL(node_workers->size(), 1u);
  caf::anon_send_exit(node_workers->at(0),
                      caf::exit_reason::unhandled_exception);
  run_until_idle();
  auto summary = done();
  check_one_line_each(3);
  BOOST_CHECK_EQUAL(summary.end, run_end::completed);
  BOOST_CHECK_EQUAL(node_workers->size(), 2u);
  auto& r = sink_rec->of("d/c0#0");
  BOOST_CHECK_EQUAL(r.status, task_status::error);
  BOOST_CHECK_EQUAL(r.error_code, "worker_crashed");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").node, "n0");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").started_us, 50'000);
  BOOST_CHECK_EQUAL(summary.wall_us, 250'000);
}

BOOST_AUTO_TEST_SUITE_END()
