// The dispatch gate on its own, on exact times: the sink's backlog, batches
// and their pauses, the adaptive limit and the rate limiter, and the order
// in which they hold a start.

#include "actors/supervisor/dispatch_gate.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

namespace {

constexpr auto a_task = start_kind::task;
constexpr auto a_retry = start_kind::retry;

dispatch_settings rate(double per_second, uint32_t burst) {
  dispatch_settings d;
  d.rate_per_second = per_second;
  d.burst = burst;
  return d;
}

// Starts as many of `kind` at `now_us` as the gate lets out.
int start_all(dispatch_gate& g, start_kind kind, int64_t now_us,
              gate_load load = {}) {
  int n = 0;
  while (g.ask(kind, now_us, load).kind == gate_verdict::now) {
    g.started(kind, now_us);
    ++n;
    ++load.running;
    ++load.in_flight;
  }
  return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dispatch_gate)

BOOST_AUTO_TEST_CASE(with_no_policy_every_start_may_go_now) {
  troupe::dispatch_gate g{dispatch_settings{}, 4};
  for (int i = 0; i < 100; ++i) {
    auto v = g.ask(a_task, 0, {uint64_t(i), uint64_t(i)});
    BOOST_CHECK_EQUAL(v.kind, gate_verdict::now);
    g.started(a_task, 0);
  }
  BOOST_CHECK_EQUAL(g.limit(), 0u); // not adaptive
}

BOOST_AUTO_TEST_CASE(asking_takes_nothing_starting_takes_a_token) {
  troupe::dispatch_gate g{rate(10, 2), 8};
  for (int i = 0; i < 5; ++i)
    BOOST_CHECK_EQUAL(g.ask(a_task, 0, {}).kind, gate_verdict::now);
  BOOST_CHECK_EQUAL(start_all(g, a_task, 0), 2);
  auto v = g.ask(a_task, 0, {});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::at);
  BOOST_CHECK_EQUAL(v.at_us, 100'000);
  BOOST_CHECK_EQUAL(g.ask(a_retry, 99'999, {}).kind, gate_verdict::at);
  BOOST_CHECK_EQUAL(g.ask(a_retry, 100'000, {}).kind, gate_verdict::now);
}

BOOST_AUTO_TEST_CASE(retries_and_tasks_share_the_rate) {
  troupe::dispatch_gate g{rate(5, 1), 8};
  BOOST_CHECK_EQUAL(start_all(g, a_retry, 0), 1);
  auto v = g.ask(a_task, 0, {});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::at);
  BOOST_CHECK_EQUAL(v.at_us, 200'000);
}

BOOST_AUTO_TEST_CASE(the_adaptive_limit_waits_for_a_call_to_end) {
  dispatch_settings d;
  d.adaptive = true;
  troupe::dispatch_gate g{d, 4};
  BOOST_CHECK_EQUAL(g.limit(), 4u);
  BOOST_CHECK_EQUAL(start_all(g, a_task, 0), 4);
  BOOST_CHECK_EQUAL(g.ask(a_retry, 0, {4, 4}).kind, gate_verdict::after_finish);
  // A throttle halves it: two calls in flight are now enough to wait.
  g.on_throttle(0, 1'000);
  BOOST_CHECK_EQUAL(g.limit(), 2u);
  BOOST_CHECK_EQUAL(g.min_seen(), 2u);
  BOOST_CHECK_EQUAL(g.ask(a_task, 1'000, {2, 3}).kind,
                    gate_verdict::after_finish);
  BOOST_CHECK_EQUAL(g.ask(a_task, 1'000, {1, 3}).kind, gate_verdict::now);
  g.on_success();
  g.on_success();
  BOOST_CHECK_EQUAL(g.limit(), 3u);
}

BOOST_AUTO_TEST_CASE(a_batch_pauses_once_its_last_task_is_over) {
  dispatch_settings d;
  d.batch_size = 3;
  d.batch_pause_us = 1'000'000;
  troupe::dispatch_gate g{d, 8};
  BOOST_CHECK_EQUAL(start_all(g, a_task, 0), 3);
  // The batch is used up, its tasks still in flight: wait for them.
  BOOST_CHECK_EQUAL(g.ask(a_task, 50'000, {3, 3}).kind,
                    gate_verdict::after_finish);
  // Retries are under way already: no batch holds them.
  BOOST_CHECK_EQUAL(g.ask(a_retry, 50'000, {2, 3}).kind, gate_verdict::now);
  // The last one ended at 300 ms: the pause runs to 1.3 s.
  auto v = g.ask(a_task, 300'000, {0, 0});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::paused_until);
  BOOST_CHECK_EQUAL(v.at_us, 1'300'000);
  v = g.ask(a_task, 1'299'999, {0, 0});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::paused_until);
  BOOST_CHECK_EQUAL(v.at_us, 1'300'000);
  BOOST_CHECK_EQUAL(start_all(g, a_task, 1'300'000), 3);
  BOOST_CHECK_EQUAL(g.ask(a_task, 1'300'000, {3, 3}).kind,
                    gate_verdict::after_finish);
}

BOOST_AUTO_TEST_CASE(a_full_sink_holds_new_tasks_not_retries) {
  troupe::dispatch_gate g{dispatch_settings{}, 8};
  for (uint64_t i = 0; i < troupe::dispatch_gate::max_sink_backlog; ++i)
    g.on_sent();
  BOOST_CHECK(g.sink_full());
  BOOST_CHECK_EQUAL(g.ask(a_task, 0, {}).kind, gate_verdict::after_finish);
  BOOST_CHECK_EQUAL(g.ask(a_retry, 0, {}).kind, gate_verdict::now);
  g.on_written(1);
  BOOST_CHECK(!g.sink_full());
  BOOST_CHECK_EQUAL(g.ask(a_task, 0, {}).kind, gate_verdict::now);
  g.on_written(1'000'000); // never below zero
  g.on_sent();
  BOOST_CHECK(!g.sink_full());
}

BOOST_AUTO_TEST_CASE(the_backlog_and_batch_answer_before_the_rate) {
  auto d = rate(1, 1);
  d.batch_size = 1;
  d.batch_pause_us = 500'000;
  troupe::dispatch_gate g{d, 8};
  BOOST_CHECK_EQUAL(start_all(g, a_task, 0), 1);
  // No token until 1 s, but the batch speaks first.
  auto v = g.ask(a_task, 0, {0, 0});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::paused_until);
  BOOST_CHECK_EQUAL(v.at_us, 500'000);
  // Its pause is over, the token is not.
  v = g.ask(a_task, 500'000, {0, 0});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::at);
  BOOST_CHECK_EQUAL(v.at_us, 1'000'000);
}

BOOST_AUTO_TEST_CASE(a_used_up_batch_holds_tasks_until_its_pause_is_over) {
  dispatch_settings d;
  d.batch_size = 2;
  d.batch_pause_us = 1'000'000;
  troupe::dispatch_gate g{d, 8};
  BOOST_CHECK(!g.holds_tasks(0, {}));
  BOOST_CHECK_EQUAL(start_all(g, a_task, 0), 2);
  // Its tasks in flight: the source is not read.
  BOOST_CHECK(g.holds_tasks(50'000, {2, 2}));
  // Its last task is over: read the next one, whose ask starts the pause.
  BOOST_CHECK(!g.holds_tasks(100'000, {0, 0}));
  BOOST_CHECK_EQUAL(g.ask(a_task, 100'000, {0, 0}).kind,
                    gate_verdict::paused_until);
  BOOST_CHECK(g.holds_tasks(100'000, {0, 0}));
  BOOST_CHECK(g.holds_tasks(1'099'999, {0, 0}));
  BOOST_CHECK(!g.holds_tasks(1'100'000, {0, 0}));
}

BOOST_AUTO_TEST_CASE(a_full_sink_holds_tasks_but_not_a_batch_pause) {
  dispatch_settings d;
  d.batch_size = 1;
  d.batch_pause_us = 1'000'000;
  troupe::dispatch_gate g{d, 8};
  BOOST_CHECK_EQUAL(start_all(g, a_task, 0), 1);
  for (uint64_t i = 0; i < troupe::dispatch_gate::max_sink_backlog; ++i)
    g.on_sent();
  BOOST_CHECK(g.holds_tasks(0, {1, 1}));
  // The batch's last task is over: its pause starts now, full sink or not.
  BOOST_CHECK(!g.holds_tasks(200'000, {0, 0}));
  auto v = g.ask(a_task, 200'000, {0, 0});
  BOOST_CHECK_EQUAL(v.kind, gate_verdict::paused_until);
  BOOST_CHECK_EQUAL(v.at_us, 1'200'000);
  // The pause is over and the sink still full: held until it writes.
  BOOST_CHECK(g.holds_tasks(1'200'000, {0, 0}));
  BOOST_CHECK_EQUAL(g.ask(a_task, 1'200'000, {0, 0}).kind,
                    gate_verdict::after_finish);
  g.on_written(1);
  BOOST_CHECK(!g.holds_tasks(1'200'000, {0, 0}));
  BOOST_CHECK_EQUAL(g.ask(a_task, 1'200'000, {0, 0}).kind, gate_verdict::now);
}

BOOST_AUTO_TEST_SUITE_END()
