// The supervisor on virtual time: dispatch under a bounded pool, statistics,
// cancellation, aborts and reproducible seeded failures.

#include "tests/actors/supervisor/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;

BOOST_FIXTURE_TEST_SUITE(supervisor, supervisor_fixture)

BOOST_AUTO_TEST_CASE(spawns_exactly_concurrency_workers_and_never_exceeds_it) {
  stub_settings s;
  // Delays that vary from task to task, so completions interleave.
  for (int i = 0; i < 100; ++i)
    s.behaviors["d/c" + std::to_string(i) + "#0"] = {test::scripted(
      ("delay:" + std::to_string(10 + (i * 37) % 90) + "ms").c_str())};
  start(100, 7, s);
  run();
  auto st = status();
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 7u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::pending), 93u);
  // Only the tasks handed to workers have been read from the source.
  BOOST_CHECK_EQUAL(source->pulled, 7u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 100u);
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 100u);
  BOOST_CHECK_EQUAL(test::max_overlap(attempt_intervals(sink_rec->results)),
                    7u);
  BOOST_CHECK_EQUAL(executor_stats().second, 7u);
}

BOOST_AUTO_TEST_CASE(each_of_the_eight_statuses_is_observed) {
  // Two workers, two attempts at most, 1 s timeout, 1 s backoff:
  //   t=0     c0 runs (100 ms); c1 errs at once and backs off (QUEUED)
  //   t=100   c0 SUCCEEDED; c2 FAILED (fatal); c3 starts and times out
  //   t=1000  c1 errs again: ERROR; c4 runs (900 ms), then c5 at 1900
  //   t=2800  c6 starts; t=3100 c3 times out a second time: TIMEOUT, c7
  //           starts
  //   t=3200  cancel: c8 never started, CANCELLED; c6 and c7 finish
  stub_settings s;
  s.behaviors["d/c0#0"] = {test::scripted("delay:100ms")};
  s.behaviors["d/c1#0"] = {test::scripted("error")};
  s.behaviors["d/c2#0"] = {test::scripted("fatal")};
  s.behaviors["d/c3#0"] = {test::scripted("timeout")};
  for (auto id : {"d/c4#0", "d/c5#0", "d/c6#0", "d/c7#0", "d/c8#0"})
    s.behaviors[id] = {test::scripted("delay:900ms")};
  retry.max_attempts = 2;
  timeout_us = 1'000'000;
  start(9, 2, s);
  std::set<task_status> seen;
  run();
  auto st = status();
  BOOST_CHECK_EQUAL(count_of(st, task_status::pending), 7u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::queued), 1u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 1u);
  for (size_t i = 0; i < task_status_count; ++i)
    if (st.counts[i] > 0)
      seen.insert(static_cast<task_status>(i));
  advance(3200ms);
  caf::anon_send(sup, cancel_atom::value, std::string{"test cancel"});
  run_until_idle();
  auto summary = done();
  for (auto& r : sink_rec->results)
    seen.insert(r.status);
  BOOST_CHECK_EQUAL(seen.size(), task_status_count);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").status, task_status::error);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").status, task_status::failed);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").status, task_status::timeout);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c6#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c7#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c8#0").status, task_status::cancelled);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c6#0").attempt_log[0].started_us,
                    2'800'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c7#0").attempt_log[0].started_us,
                    3'100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c7#0").finished_us, 4'000'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 5u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 1u);
}

BOOST_AUTO_TEST_CASE(statistics_add_up) {
  stub_settings s;
  s.delay_us = 10'000;
  s.behaviors["d/c0#0"]
    = {test::scripted("failure"), test::scripted("success")};
  s.behaviors["d/c1#0"] = {test::scripted("failure")};
  s.behaviors["d/c2#0"] = {test::scripted("fatal")};
  s.behaviors["d/c3#0"] = {test::scripted("timeout"), test::scripted("timeout"),
                           test::scripted("success")};
  s.behaviors["d/c4#0"] = {test::scripted("delay:250ms")};
  timeout_us = 100'000;
  start(20, 4, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(summary.total, 20u);
  uint64_t sum = 0;
  for (auto c : summary.counts)
    sum += c;
  BOOST_CHECK_EQUAL(sum, 20u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 17u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::failed), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::timeout), 1u);
  uint64_t attempts = 0;
  for (auto& r : sink_rec->results)
    attempts += r.attempts();
  // 15 single attempts, c0 2, c1 3, c2 1, c3 3, c4 1 (times out at 100 ms
  // three times).
  BOOST_CHECK_EQUAL(summary.attempts, attempts);
  BOOST_CHECK_EQUAL(summary.attempts, 15u + 2 + 3 + 1 + 3 + 3);
  BOOST_CHECK_EQUAL(summary.retries, summary.attempts - 20);
  BOOST_CHECK_EQUAL(summary.max_us, 100'000);
  BOOST_CHECK_EQUAL(summary.p50_us, 10'000);
  // stub_failure (c1), stub_fatal (c2), timeout (c4): one each.
  BOOST_REQUIRE_EQUAL(summary.failures.size(), 3u);
  BOOST_CHECK_EQUAL(summary.failures[0].count, 1u);
  BOOST_CHECK_EQUAL(summary.slowest.size(), 5u);
  BOOST_CHECK_EQUAL(sink_rec->summaries.size(), 1u);
}

BOOST_AUTO_TEST_CASE(cancel_finishes_in_flight_and_cancels_unstarted) {
  stub_settings s;
  s.delay_us = 1'000'000;
  start(10, 2, s);
  advance(500ms);
  caf::anon_send(sup, cancel_atom::value, std::string{"user cancel"});
  run();
  // Unstarted tasks are written CANCELLED at once; the two in flight go on.
  auto st = status();
  BOOST_CHECK(st.stopping);
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 2u);
  advance(500ms);
  auto summary = done();
  BOOST_CHECK_EQUAL(summary.end, run_end::cancelled);
  BOOST_CHECK_EQUAL(summary.reason, "user cancel");
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 8u);
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 10u);
  for (auto& r : sink_rec->results) {
    if (r.status == task_status::cancelled) {
      BOOST_CHECK_EQUAL(r.attempts(), 0u);
      BOOST_CHECK_EQUAL(r.started_us, -1);
      BOOST_CHECK_EQUAL(r.error, "user cancel");
    } else {
      BOOST_CHECK_EQUAL(r.latency_us, 1'000'000);
    }
  }
  BOOST_CHECK_EQUAL(executor_stats().first, 2u);
  BOOST_CHECK_EQUAL(now_ms(), 1000.0);
}

BOOST_AUTO_TEST_CASE(auth_aborts_the_run_and_makes_no_more_calls) {
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c2#0"]
    = {test::scripted("delay:150ms")};              // in flight at the abort
  s.behaviors["d/c3#0"] = {test::scripted("auth")}; // answers at 200 ms
  start(50, 2, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(summary.end, run_end::aborted);
  BOOST_CHECK_EQUAL(summary.reason,
                    "run aborted: d/c3#0: stub 401 Unauthorized");
  auto& failed = sink_rec->of("d/c3#0");
  BOOST_CHECK_EQUAL(failed.status, task_status::failed);
  BOOST_CHECK_EQUAL(failed.http_status, 401);
  // c0..c3 ran; c2 was in flight beside c3 and was stopped at once; the
  // rest never started.
  BOOST_CHECK_EQUAL(executor_stats().first, 4u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").status, task_status::cancelled);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").finished_us, 200'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::failed), 1u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 47u);
  for (auto& r : sink_rec->results)
    if (r.status == task_status::cancelled)
      BOOST_CHECK_EQUAL(r.error, summary.reason);
}

BOOST_AUTO_TEST_CASE(a_seeded_failure_rate_reproduces) {
  auto run_once = [&](uint64_t seed) {
    supervisor_fixture f;
    stub_settings s;
    s.failure_rate = 0.3;
    s.seed = seed;
    f.retry.max_attempts = 1;
    f.start(1000, 8, s);
    f.run_until_idle();
    f.done();
    std::map<std::string, task_status> out;
    for (auto& r : f.sink_rec->results)
      out[r.task_id] = r.status;
    return out;
  };
  auto first = run_once(7);
  auto again = run_once(7);
  auto other = run_once(8);
  BOOST_CHECK(first == again);
  BOOST_CHECK(first != other);
  auto failed = std::count_if(first.begin(), first.end(), [](auto& kv) {
    return kv.second == task_status::failed;
  });
  // 1000 draws at p = 0.3: 300 +- 4.5 standard deviations.
  BOOST_CHECK_GE(failed, 235);
  BOOST_CHECK_LE(failed, 365);
}

BOOST_AUTO_TEST_CASE(setters_change_the_script_mid_run) {
  stub_settings s;
  s.delay_us = 100'000;
  retry.max_attempts = 1;
  start(6, 1, s);
  advance(50ms);
  caf::anon_send(exec, set_failure_rate_atom::value, 1.0);
  caf::anon_send(exec, set_behavior_atom::value, std::string{"d/c2#0"},
                 std::vector<stub_behavior>{test::scripted("fatal")});
  caf::anon_send(exec, set_delay_atom::value, int64_t{200'000});
  run();
  // c0 was already running (100 ms); c1 fails (rate 1.0) at 300 ms, then
  // c2 starts and is fatal; clearing at 350 ms changes nothing for c2.
  advance(300ms);
  caf::anon_send(exec, clear_behaviors_atom::value);
  caf::anon_send(exec, set_failure_rate_atom::value, 0.0);
  run_until_idle();
  done();
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").latency_us, 100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").status, task_status::failed);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").error_code, "stub_failure");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").status, task_status::failed);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").error_code, "stub_fatal");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").latency_us, 200'000);
}

BOOST_AUTO_TEST_CASE(a_task_the_source_answered_is_written_without_a_call) {
  stub_settings s;
  s.delay_us = 100'000;
  expect.contains = {"old"};
  answers[1] = R"({"answer":"old"})";
  start(3, 1, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 3u);
  BOOST_CHECK_EQUAL(summary.cached, 1u);
  BOOST_CHECK_EQUAL(executor_stats().first, 2u);
  // c1 is written when it is read: after c0, at 100 ms, in source order.
  BOOST_REQUIRE_EQUAL(sink_rec->results.size(), 3u);
  BOOST_CHECK_EQUAL(sink_rec->results[1].task_id, "d/c1#0");
  auto& answered = sink_rec->of("d/c1#0");
  BOOST_CHECK(answered.cached);
  BOOST_CHECK(answered.attempt_log.empty());
  BOOST_CHECK_EQUAL(answered.started_us, 100'000);
  BOOST_CHECK_EQUAL(answered.finished_us, 100'000);
  // Its checks ran like those of the tasks the workers ran.
  BOOST_REQUIRE_EQUAL(answered.assertions.size(), 1u);
  BOOST_CHECK(answered.assertions[0].passed);
  BOOST_REQUIRE_EQUAL(sink_rec->of("d/c0#0").assertions.size(), 1u);
  BOOST_CHECK(!sink_rec->of("d/c0#0").assertions[0].passed);
  BOOST_CHECK_EQUAL(summary.assertions_failed, 2u);
}

BOOST_AUTO_TEST_SUITE_END()
