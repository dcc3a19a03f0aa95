// The supervisor's dispatch policies on virtual time: the rate limit, batches,
// adaptive concurrency and the run's deadline.

#include "tests/actors/supervisor/supervisor_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;

BOOST_FIXTURE_TEST_SUITE(supervisor, supervisor_fixture)

BOOST_AUTO_TEST_CASE(a_rate_limit_bounds_starts_in_every_second_retries_too) {
  stub_settings s;
  // Every third task fails once: its retry needs a token as well.
  for (int i = 0; i < 90; i += 3)
    s.behaviors["d/c" + std::to_string(i) + "#0"]
      = {test::scripted("failure"), test::scripted("success")};
  retry.backoff_us = 100'000;
  dispatch.rate_per_second = 10;
  dispatch.burst = 5;
  start(90, 8, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 90u);
  BOOST_CHECK_EQUAL(summary.attempts, 120u);
  // At most rate + burst = 15 starts in any one-second window (14 in a
  // half-open one: the burst of 5, then one every 100 ms), and the limit is
  // held to the end: 120 attempts take (120 - 5) / 10 s.
  auto most = most_starts_in(sink_rec->results, 1'000'000);
  BOOST_CHECK_LE(most, 15u);
  BOOST_CHECK_GE(most, 14u);
  BOOST_CHECK_EQUAL(summary.wall_us, 11'500'000);
}

BOOST_AUTO_TEST_CASE(batches_start_after_the_last_one_and_a_pause) {
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c1#0"] = {test::scripted("delay:300ms")};
  dispatch.batch_size = 4;
  dispatch.batch_pause_us = 1'000'000;
  start(10, 8, s);
  run_until_idle();
  done();
  std::map<std::string, int64_t> start_of;
  for (auto& r : sink_rec->results)
    start_of[r.task_id] = r.attempt_log.at(0).started_us;
  // Batch 1 (c0..c3) ends with c1 at 300 ms; batch 2 starts 1 s later,
  // ends at 1,400 ms; batch 3 (c8, c9) starts at 2,400 ms.
  for (int i = 0; i < 4; ++i)
    BOOST_CHECK_EQUAL(start_of["d/c" + std::to_string(i) + "#0"], 0);
  for (int i = 4; i < 8; ++i)
    BOOST_CHECK_EQUAL(start_of["d/c" + std::to_string(i) + "#0"], 1'300'000);
  BOOST_CHECK_EQUAL(start_of["d/c8#0"], 2'400'000);
  BOOST_CHECK_EQUAL(start_of["d/c9#0"], 2'400'000);
}

// A task the source answers itself (a result-cache hit) waits for its
// batch like any other: it is not read while the batch before it runs.
BOOST_AUTO_TEST_CASE(a_cached_task_behind_a_used_up_batch_waits_for_it) {
  stub_settings s;
  s.delay_us = 100'000;
  answers[2] = R"({"answer":"cached"})";
  dispatch.batch_size = 2;
  dispatch.batch_pause_us = 1'000'000;
  start(4, 4, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 4u);
  BOOST_CHECK_EQUAL(summary.cached, 1u);
  // c2 is read when the first batch is over (100 ms), in source order.
  BOOST_REQUIRE_EQUAL(sink_rec->results.size(), 4u);
  BOOST_CHECK_EQUAL(sink_rec->results[2].task_id, "d/c2#0");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").finished_us, 100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").attempt_log.at(0).started_us,
                    1'100'000);
}

BOOST_AUTO_TEST_CASE(
  a_cancel_during_a_batch_cancels_the_cached_task_behind_it) {
  stub_settings s;
  s.delay_us = 100'000;
  answers[2] = R"({"answer":"cached"})";
  dispatch.batch_size = 2;
  dispatch.batch_pause_us = 1'000'000;
  start(4, 4, s);
  advance(50ms);
  caf::anon_send(sup, cancel_atom::value, std::string{"user cancel"});
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 2u);
  BOOST_CHECK_EQUAL(summary.cached, 0u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").status, task_status::cancelled);
}

BOOST_AUTO_TEST_CASE(adaptive_concurrency_converges_under_a_service_cap) {
  auto run_with = [&](bool adaptive) {
    supervisor_fixture f;
    f.retry = {200, 50'000, 1.0, 60'000'000, jitter_mode::none};
    f.dispatch.adaptive = adaptive;
    auto capped = f.sys.spawn(capped_executor, int64_t{4});
    f.custom_executor = capped;
    f.start(200, 32, stub_settings{});
    f.run_until_idle();
    auto summary = f.done();
    BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 200u);
    int64_t rejected = 0;
    caf::scoped_actor self{f.sys};
    self->send(capped, status_atom::value);
    f.sched.run();
    self->receive([&](int64_t n) { rejected = n; },
                  caf::after(std::chrono::seconds{0}) >> [] {});
    caf::anon_send_exit(capped, caf::exit_reason::user_shutdown);
    return std::make_pair(rejected, summary);
  };
  auto [fixed_rejected, fixed] = run_with(false);
  auto [adaptive_rejected, adaptive] = run_with(true);
  // Without adaptive, 32 workers keep knocking on a door for 4; with it,
  // the limit settles around the cap (between 2 and 5) and only its probes
  // are refused. Each burst of refusals halves it once: the 28 calls refused
  // at 0 ms take it to 16, not to 1.
  BOOST_CHECK_EQUAL(fixed_rejected, 2576);
  BOOST_CHECK_EQUAL(adaptive_rejected, 78);
  BOOST_CHECK_EQUAL(adaptive.concurrency_min, 2u);
  BOOST_CHECK_EQUAL(adaptive.concurrency_final, 5u);
  // Refusals cost nothing on virtual time, so the fixed run is as fast as
  // 4 at a time allows (200 x 100 ms / 4); adaptive gives up a little.
  BOOST_CHECK_EQUAL(fixed.wall_us, 5'000'000);
  BOOST_CHECK_EQUAL(adaptive.wall_us, 5'600'000);
  BOOST_CHECK_EQUAL(fixed.concurrency_final, 0u); // not adaptive
}

BOOST_AUTO_TEST_CASE(the_run_deadline_cancels_like_ctrl_c) {
  stub_settings s;
  s.delay_us = 1'000'000;
  dispatch.run_deadline_us = 3'500'000;
  start(20, 2, s);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(summary.end, run_end::deadline);
  BOOST_CHECK_EQUAL(summary.reason, "run deadline of 3.5 s passed");
  // c6, c7 were in flight at 3.5 s and finish at 4 s; 12 never started.
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 8u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 12u);
  BOOST_CHECK_EQUAL(summary.wall_us, 4'000'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c19#0").finished_us, 3'500'000);
}

BOOST_AUTO_TEST_SUITE_END()
