// Supervision on virtual time: workers and executors that throw or die, and
// the run that goes on.

#include "tests/actors/supervisor/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;

BOOST_FIXTURE_TEST_SUITE(supervisor, supervisor_fixture)

BOOST_AUTO_TEST_CASE(a_worker_that_throws_ends_its_task_and_is_replaced) {
  stub_settings s;
  s.delay_us = 100'000;
  fault = throw_at(worker_fault_point::attempt, "d/c1#0");
  start(6, 2, s);
  run();
  // c1 killed worker 1 at once; its replacement took c2.
  auto st = status();
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 2u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::error), 1u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 6u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 5u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 1u);
  auto& crashed = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(crashed.status, task_status::error);
  BOOST_CHECK_EQUAL(crashed.error_code, "worker_crashed");
  BOOST_CHECK_EQUAL(crashed.error, "worker 1 crashed: boom");
  BOOST_CHECK_EQUAL(crashed.started_us, 0);
  BOOST_CHECK_EQUAL(crashed.finished_us, 0);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").attempt_log.at(0).started_us, 0);
  // Two workers all along: 5 tasks of 100 ms take 300 ms.
  BOOST_CHECK_EQUAL(summary.wall_us, 300'000);
  BOOST_CHECK_EQUAL(test::max_overlap(attempt_intervals(sink_rec->results)),
                    2u);
}

BOOST_AUTO_TEST_CASE(a_worker_that_dies_in_backoff_leaves_nothing_in_backoff) {
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c0#0"]
    = {test::scripted("failure"), test::scripted("success")};
  fault = throw_at(worker_fault_point::backoff, "d/c0#0");
  start(3, 2, s);
  advance(100ms);
  // c1 is done and c0's worker died: c2 alone runs, on its replacement.
  auto st = status();
  BOOST_CHECK_EQUAL(st.backoff, 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::queued), 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 1u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 3u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 1u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").error_code, "worker_crashed");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").finished_us, 100'000);
  BOOST_CHECK_EQUAL(summary.wall_us, 200'000);
}

BOOST_AUTO_TEST_CASE(a_worker_that_dies_waiting_for_a_permit_frees_it) {
  // One token a second. c0 fails at once and asks for a retry's permit at
  // 100 ms, then its worker dies. The token of 1 s must go to c1, not to
  // the dead worker's permit.
  stub_settings s;
  s.behaviors["d/c0#0"]
    = {test::scripted("failure"), test::scripted("success")};
  retry.backoff_us = 100'000;
  dispatch.rate_per_second = 1;
  dispatch.burst = 1;
  fault = throw_at(worker_fault_point::permit, "d/c0#0");
  start(2, 2, s);
  advance(500ms);
  auto st = status();
  BOOST_CHECK_EQUAL(st.backoff, 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::error), 1u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 2u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").status, task_status::error);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").error_code, "worker_crashed");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").finished_us, 100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").attempt_log.at(0).started_us,
                    1'000'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 1u);
}

BOOST_AUTO_TEST_CASE(a_worker_that_dies_after_its_result_writes_one_line) {
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c1#0"] = {test::scripted("delay:300ms")};
  fault = throw_at(worker_fault_point::result, "d/c0#0");
  start(2, 2, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 2u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 0u);
}

BOOST_AUTO_TEST_CASE(an_executor_that_throws_answers_error_and_lives_on) {
  stub_settings s;
  s.behaviors["d/c0#0"] = {test::scripted("crash"), test::scripted("success")};
  s.behaviors["d/c1#0"] = {test::scripted("crash")};
  start(4, 2, s);
  run_until_idle();
  auto summary = done();
  auto& retried = sink_rec->of("d/c0#0");
  BOOST_CHECK_EQUAL(retried.status, task_status::succeeded);
  BOOST_REQUIRE_EQUAL(retried.attempt_log.size(), 2u);
  BOOST_CHECK_EQUAL(retried.attempt_log[0].status, task_status::error);
  BOOST_CHECK_EQUAL(retried.attempt_log[0].error, "executor threw: stub crash");
  auto& failed = sink_rec->of("d/c1#0");
  BOOST_CHECK_EQUAL(failed.status, task_status::error);
  BOOST_CHECK_EQUAL(failed.error_code, "executor_exception");
  BOOST_CHECK_EQUAL(failed.attempts(), 3u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 3u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 1u);
  // Still alive: it answers, and counted every attempt.
  BOOST_CHECK_EQUAL(executor_stats().first, 2u + 3 + 1 + 1);
}

BOOST_AUTO_TEST_CASE(a_dead_executor_fails_attempts_and_the_run_still_ends) {
  auto dead = sys.spawn(throwing_executor);
  custom_executor = dead;
  start(3, 2, stub_settings{});
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 3u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 3u);
  for (auto& r : sink_rec->results) {
    BOOST_CHECK_EQUAL(r.error_code, "executor");
    BOOST_CHECK_EQUAL(r.attempts(), 3u);
  }
  // The attempt that killed it learnt why.
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").attempt_log.at(0).error,
                    "executor failed: boom");
  // Backoffs of 1 s and 2 s; c2 starts when c0 and c1 are over.
  BOOST_CHECK_EQUAL(summary.wall_us, 6'000'000);
}

BOOST_AUTO_TEST_SUITE_END()
