// The worker's state machine on virtual time: attempts, deadlines, exact
// backoff gaps, retry decisions and cancellation.

#include "actors/worker/worker.hpp"

#include "actors/stub/stub_executor.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "tests/support/deterministic_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;

namespace {

struct worker_fixture : test::deterministic_fixture {
  std::shared_ptr<test::recorded> rec = std::make_shared<test::recorded>();
  stub_executor_actor exec;
  worker_actor w;
  retry_settings retry;
  worker_config cfg;

  worker_fixture() {
    retry.max_attempts = 3;
    retry.backoff_us = 2'000'000;
    retry.multiplier = 1.5;
    retry.max_backoff_us = 60'000'000;
    cfg.timeout_us = 1'000'000;
  }

  ~worker_fixture() {
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(exec, caf::exit_reason::user_shutdown);
  }

  void start(stub_settings s) {
    exec = spawn_stub_executor(sys, std::move(s));
    cfg.executor = exec;
    cfg.listener = spawn_recorder(rec);
    cfg.retry = retry;
    cfg.run_start = t0;
    w = spawn_worker(sys, cfg);
  }

  void script(const std::string& id, std::vector<stub_behavior> list) {
    stub_settings s;
    s.behaviors[id] = std::move(list);
    start(std::move(s));
  }

  void send_task(const std::string& id) {
    task_spec t;
    t.id = id;
    t.dataset = "d";
    t.case_id = id.substr(2, id.find('#') - 2);
    t.inputs_json = "{}";
    t.params_json = "{}";
    caf::anon_send(w, run_atom::value, std::move(t));
  }

  std::vector<double> starts_ms(const task_result& r) {
    std::vector<double> out;
    for (auto& a : r.attempt_log)
      out.push_back(test::ms(a.started_us));
    return out;
  }

  std::pair<std::string, task_status> status() {
    std::pair<std::string, task_status> out;
    caf::scoped_actor self{sys};
    self->send(w, status_atom::value);
    sched.run();
    self->receive(
      [&](worker_status& s) {
        out = {s.task_id, s.status};
      },
      caf::after(0s) >> [] { BOOST_FAIL("worker did not answer status"); });
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(worker, worker_fixture)

BOOST_AUTO_TEST_CASE(backoff_waits_two_then_three_then_four_and_a_half_s) {
  retry.max_attempts = 4;
  script("d/c#0", {test::scripted("failure"), test::scripted("failure"),
                   test::scripted("failure"), test::scripted("success")});
  send_task("d/c#0");
  run();
  // First attempt fails at once; the retry is a timer 2.0 s out.
  BOOST_CHECK_EQUAL(rec->backoff, 1);
  advance(1999ms);
  BOOST_CHECK_EQUAL(status().second, task_status::queued);
  advance(1ms);
  BOOST_CHECK_EQUAL(now_ms(), 2000.0);
  // Second attempt failed too: next gap 3.0 s, then 4.5 s.
  advance(2999ms);
  BOOST_CHECK(rec->results.empty());
  advance(1ms);
  advance(4499ms);
  BOOST_CHECK(rec->results.empty());
  advance(1ms);
  BOOST_REQUIRE_EQUAL(rec->results.size(), 1u);
  auto& r = rec->results[0];
  BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
  BOOST_CHECK_EQUAL(r.attempts(), 4u);
  auto starts = starts_ms(r);
  std::vector<double> expected{0, 2000, 5000, 9500};
  BOOST_CHECK_EQUAL_COLLECTIONS(starts.begin(), starts.end(), expected.begin(),
                                expected.end());
  BOOST_CHECK_EQUAL(rec->backoff, 0);
}

BOOST_AUTO_TEST_CASE(backoff_is_capped_by_max_backoff) {
  retry.max_attempts = 4;
  retry.backoff_us = 10'000'000;
  retry.multiplier = 3;
  retry.max_backoff_us = 20'000'000;
  script("d/c#0", {test::scripted("failure")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::failed);
  auto starts = starts_ms(r);
  // Gaps 10 s, then 30 s and 90 s capped to 20 s.
  std::vector<double> expected{0, 10000, 30000, 50000};
  BOOST_CHECK_EQUAL_COLLECTIONS(starts.begin(), starts.end(), expected.begin(),
                                expected.end());
}

BOOST_AUTO_TEST_CASE(full_jitter_draws_each_gap_from_the_seed) {
  retry.max_attempts = 4;
  retry.jitter = jitter_mode::full;
  cfg.jitter_seed = 42;
  script("d/c#0", {test::scripted("failure")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_REQUIRE_EQUAL(r.attempts(), 4u);
  int64_t at = 0;
  for (uint32_t k = 1; k < 4; ++k) {
    auto gap = backoff_delay_us(retry, k, unit_draw(42, "d/c#0", k));
    at += gap;
    BOOST_CHECK_EQUAL(r.attempt_log[k].started_us, at);
    auto full = backoff_delay_us(
      retry_settings{3, 2'000'000, 1.5, 60'000'000, jitter_mode::none}, k, 0);
    BOOST_CHECK_GE(gap, 0);
    BOOST_CHECK_LE(gap, full);
  }
}

BOOST_AUTO_TEST_CASE(timeout_gives_timeout_then_a_retry) {
  script("d/c#0", {test::scripted("timeout"), test::scripted("success")});
  send_task("d/c#0");
  run();
  BOOST_CHECK_EQUAL(status().second, task_status::running);
  advance(999ms);
  BOOST_CHECK_EQUAL(status().second, task_status::running);
  advance(1ms); // the attempt's deadline fires
  BOOST_CHECK_EQUAL(status().second, task_status::queued);
  advance(2000ms); // backoff, then the second attempt answers at once
  BOOST_REQUIRE_EQUAL(rec->results.size(), 1u);
  auto& r = rec->results[0];
  BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
  BOOST_REQUIRE_EQUAL(r.attempts(), 2u);
  BOOST_CHECK_EQUAL(r.attempt_log[0].status, task_status::timeout);
  BOOST_CHECK_EQUAL(r.attempt_log[0].duration_us, 1'000'000);
  BOOST_CHECK_EQUAL(r.attempt_log[0].error, "attempt timed out after 1 s");
  BOOST_CHECK_EQUAL(r.attempt_log[1].status, task_status::succeeded);
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 3'000'000);
  BOOST_CHECK(r.error.empty());
}

BOOST_AUTO_TEST_CASE(
  an_answer_at_the_deadline_is_a_timeout_whatever_comes_first) {
  // Another attempt had the stub arm its one timer for t = 1 s before this
  // worker armed its deadline for the same instant: the stub's answer comes
  // first, at the deadline, and is still too late.
  retry.max_attempts = 1;
  stub_settings s;
  s.delay_us = 1'000'000;
  start(s);
  attempt_request other;
  other.request_id = 1'000'000'000;
  other.task.id = "d/other#0";
  other.task.dataset = "d";
  other.task.inputs_json = "{}";
  caf::anon_send(exec, execute_atom::value, std::move(other));
  run();
  send_task("d/c#0");
  advance(1000ms);
  BOOST_REQUIRE_EQUAL(rec->results.size(), 1u);
  auto& r = rec->results[0];
  BOOST_CHECK_EQUAL(r.status, task_status::timeout);
  BOOST_REQUIRE_EQUAL(r.attempts(), 1u);
  BOOST_CHECK_EQUAL(r.attempt_log[0].duration_us, 1'000'000);
  BOOST_CHECK_EQUAL(r.attempt_log[0].error, "attempt timed out after 1 s");
}

BOOST_AUTO_TEST_CASE(fatal_is_never_retried) {
  retry.max_attempts = 5;
  script("d/c#0", {test::scripted("fatal"), test::scripted("success")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::failed);
  BOOST_CHECK_EQUAL(r.attempts(), 1u);
  BOOST_CHECK_EQUAL(r.error_code, "stub_fatal");
  BOOST_CHECK_EQUAL(r.finished_us, 0);
}

BOOST_AUTO_TEST_CASE(max_attempts_bounds_the_retries) {
  retry.max_attempts = 3;
  script("d/c#0", {test::scripted("failure")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::failed);
  BOOST_CHECK_EQUAL(r.attempts(), 3u);
  BOOST_CHECK_EQUAL(r.error_code, "stub_failure");
}

BOOST_AUTO_TEST_CASE(last_attempt_decides_the_final_status) {
  retry.max_attempts = 2;
  retry.backoff_us = 1000;
  script("d/c#0", {test::scripted("failure"), test::scripted("error")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::error);
  BOOST_CHECK_EQUAL(r.attempt_log[0].status, task_status::failed);
  BOOST_CHECK_EQUAL(r.attempt_log[1].status, task_status::error);
}

BOOST_AUTO_TEST_CASE(task_deadline_cuts_the_last_attempt_short) {
  retry.max_attempts = 10;
  retry.backoff_us = 200'000;
  retry.multiplier = 1;
  cfg.deadline_us = 2'500'000;
  script("d/c#0", {test::scripted("timeout")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::timeout);
  // 0 (1 s), 1.2 s (1 s), 2.4 s: only 0.1 s left before the task deadline.
  BOOST_REQUIRE_EQUAL(r.attempts(), 3u);
  BOOST_CHECK_EQUAL(r.attempt_log[2].started_us, 2'400'000);
  BOOST_CHECK_EQUAL(r.attempt_log[2].duration_us, 100'000);
  BOOST_CHECK_EQUAL(r.error, "task deadline of 2.5 s passed");
  BOOST_CHECK_EQUAL(r.finished_us, 2'500'000);
}

BOOST_AUTO_TEST_CASE(no_retry_when_the_backoff_would_pass_the_deadline) {
  retry.backoff_us = 5'000'000;
  cfg.deadline_us = 3'000'000;
  script("d/c#0", {test::scripted("failure"), test::scripted("success")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::failed);
  BOOST_CHECK_EQUAL(r.attempts(), 1u);
  BOOST_CHECK_NE(r.error.find("task deadline of 3 s would pass"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(retry_after_overrides_the_backoff) {
  script("d/c#0",
         {test::scripted("429:retry-after=7"), test::scripted("success")});
  send_task("d/c#0");
  run_until_idle();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
  BOOST_REQUIRE_EQUAL(r.attempts(), 2u);
  BOOST_CHECK_EQUAL(r.attempt_log[0].http_status, 429);
  BOOST_CHECK_EQUAL(r.attempt_log[1].started_us, 7'000'000);
}

BOOST_AUTO_TEST_CASE(cancel_during_backoff_ends_the_task_cancelled_at_once) {
  script("d/c#0", {test::scripted("failure"), test::scripted("success")});
  send_task("d/c#0");
  advance(500ms);
  caf::anon_send(w, cancel_atom::value, false, std::string{"stop"});
  run();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
  BOOST_CHECK_EQUAL(r.error, "stop");
  BOOST_CHECK_EQUAL(r.attempts(), 1u);
  BOOST_CHECK_EQUAL(rec->backoff, 0);
  // The stale backoff timer fires later and changes nothing.
  run_until_idle();
  BOOST_CHECK_EQUAL(rec->results.size(), 1u);
}

BOOST_AUTO_TEST_CASE(cancel_lets_the_attempt_in_flight_finish) {
  script("d/c#0", {test::scripted("delay:300ms")});
  send_task("d/c#0");
  advance(100ms);
  caf::anon_send(w, cancel_atom::value, false, std::string{"stop"});
  run();
  BOOST_CHECK(rec->results.empty());
  advance(200ms);
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
  BOOST_CHECK_EQUAL(r.latency_us, 300'000);
}

BOOST_AUTO_TEST_CASE(cancel_turns_a_retryable_outcome_into_cancelled) {
  script("d/c#0", {test::scripted("timeout"), test::scripted("success")});
  send_task("d/c#0");
  advance(100ms);
  caf::anon_send(w, cancel_atom::value, false, std::string{"stop"});
  advance(900ms);
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
  BOOST_CHECK_EQUAL(r.attempts(), 1u);
  BOOST_CHECK_EQUAL(r.attempt_log[0].status, task_status::timeout);
}

BOOST_AUTO_TEST_CASE(abort_cancel_stops_the_attempt_now) {
  script("d/c#0", {test::scripted("delay:10s")});
  send_task("d/c#0");
  advance(100ms);
  caf::anon_send(w, cancel_atom::value, true, std::string{"run aborted"});
  run();
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
  BOOST_CHECK_EQUAL(r.error, "run aborted");
  BOOST_CHECK_EQUAL(now_ms(), 100.0);
}

BOOST_AUTO_TEST_CASE(auth_reports_an_abort_and_fails_the_task) {
  script("d/c#0", {test::scripted("auth")});
  send_task("d/c#0");
  run();
  BOOST_REQUIRE_EQUAL(rec->aborts.size(), 1u);
  BOOST_CHECK_EQUAL(rec->aborts[0], "d/c#0: stub 401 Unauthorized");
  auto& r = rec->of("d/c#0");
  BOOST_CHECK_EQUAL(r.status, task_status::failed);
  BOOST_CHECK_EQUAL(r.http_status, 401);
  BOOST_CHECK_EQUAL(r.attempts(), 1u);
}

BOOST_AUTO_TEST_CASE(an_idle_worker_reports_pending) {
  script("d/c#0", {test::scripted("success")});
  auto s = status();
  BOOST_CHECK_EQUAL(s.first, "");
  BOOST_CHECK_EQUAL(s.second, task_status::pending);
}

BOOST_AUTO_TEST_SUITE_END()
