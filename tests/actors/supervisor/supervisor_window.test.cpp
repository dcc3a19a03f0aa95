// The window on virtual time: a node's busy worker gets one task queued
// ahead of it at its relay, which starts it as soon as the worker's result
// is in (supervisor_nodes.cpp, result_relay.hpp). A lost node gives its
// queued tasks back with a node_lost attempt each (the relay may have
// started them), a crashed worker's goes back once, a worker gone into
// backoff gives its back (for another worker), and a stop has the relay
// drop them (they end CANCELLED) while one it already handed over runs to
// its end. A rate limit, adaptive concurrency or batches turn it off.
//
// Every case has no local worker and one node of two workers with a relay;
// tasks take 100 ms.

#include "tests/actors/supervisor/nodes_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;

namespace {

struct window_fixture : nodes_fixture {
  window_fixture() {
    local_workers = 0;
    relays = true;
  }

  void start_window(size_t tasks) {
    stub_settings s;
    s.delay_us = 100'000;
    start_nodes(tasks, 2, {2}, s);
    run();
  }
};

// What a fake supervisor heard from a relay, in order: "backoff on",
// "backoff off", "take_back <task>" and "results <n>".
using heard = std::shared_ptr<std::vector<std::string>>;

caf::behavior fake_supervisor(caf::event_based_actor*, heard log) {
  return {
    [=](backoff_atom, bool on, uint64_t) {
      log->push_back(on ? "backoff on" : "backoff off");
    },
    [=](take_back_atom, indexed_task& x) {
      log->push_back("take_back " + x.task.id);
    },
    [=](results_atom, std::vector<indexed_result>& xs) {
      log->push_back("results " + std::to_string(xs.size()));
    },
  };
}

// A node worker that records the tasks it is sent and, told so, says to
// its relay that it goes into backoff (start) or out of it (wake), or that
// its task is done (drain).
caf::behavior fake_worker(caf::event_based_actor* self, heard runs,
                          caf::actor relay) {
  return {
    [=](run_atom, task_spec& t) { runs->push_back(t.id); },
    [=](start_atom) {
      self->send(relay, backoff_atom::value, true, uint64_t{0});
    },
    [=](wake_atom, int64_t) {
      self->send(relay, backoff_atom::value, false, uint64_t{0});
    },
    [=](drain_atom) {
      self->send(relay, result_atom::value, uint32_t{0}, task_result{});
    },
  };
}

task_spec task_named(const std::string& id) {
  task_spec t;
  t.id = id;
  return t;
}

} // namespace

// The suite of supervisor_nodes.test.cpp, whose fixture these tests extend:
// a fixture per case, as the harness builds in unity batches where one
// suite has one suite-wide fixture.
BOOST_AUTO_TEST_SUITE(supervisor_nodes)

BOOST_FIXTURE_TEST_CASE(each_busy_node_worker_has_one_task_queued_ahead,
                        window_fixture) {
  start_window(6);
  // c0 and c1 run; c2 and c3 wait at the relay and count as pending.
  auto st = status();
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 2u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::pending), 4u);
  run_until_idle();
  auto summary = done();
  check_one_line_each(6);
  // Two at a time, back to back: each pair starts as the one before ends.
  for (size_t i = 0; i < 6; ++i) {
    auto& r = sink_rec->of("d/c" + std::to_string(i) + "#0");
    BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
    BOOST_CHECK_EQUAL(r.started_us, static_cast<int64_t>(i / 2) * 100'000);
    BOOST_CHECK_EQUAL(r.node, "n0");
    BOOST_CHECK_EQUAL(r.attempt_log.size(), 1u);
  }
  BOOST_CHECK_EQUAL(summary.wall_us, 300'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 6u);
}

BOOST_FIXTURE_TEST_CASE(a_lost_node_gives_back_its_queued_tasks_too,
                        window_fixture) {
  // n0 is lost at 50 ms with c0 and c1 running and c2 and c3 queued at its
  // relay (which might have started them); a second node of two workers
  // comes back at 60 ms and runs them all, each with a node_lost attempt
  // first. Without the window c2 and c3 would not have left the
  // supervisor, and would have none.
  start_window(5);
  advance(50ms);
  lose(0);
  auto st = status();
  BOOST_CHECK_EQUAL(count_of(st, task_status::running), 0u);
  BOOST_CHECK_EQUAL(count_of(st, task_status::pending), 5u);
  advance(10ms);
  come_back("n1", 2);
  run_until_idle();
  done();
  check_one_line_each(5);
  for (auto id : {"d/c0#0", "d/c1#0", "d/c2#0", "d/c3#0"}) {
    auto& r = sink_rec->of(id);
    BOOST_CHECK_EQUAL(r.status, task_status::succeeded);
    BOOST_CHECK_EQUAL(r.node, "n1");
    BOOST_CHECK_EQUAL(r.attempts(), 1u);
    BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 2u);
    BOOST_CHECK(r.attempt_log[0].lost);
    BOOST_CHECK_EQUAL(r.attempt_log[0].node, "n0");
    BOOST_CHECK_EQUAL(r.attempt_log[0].started_us, 0);
    BOOST_CHECK_EQUAL(r.attempt_log[0].duration_us, 50'000);
    BOOST_CHECK_EQUAL(r.attempt_log[0].error, lost_text(0));
  }
  // Back in seq order, ahead of c4: c0 and c1 at 60 ms, c2 and c3 next.
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").attempt_log[1].started_us, 60'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").attempt_log[1].started_us, 160'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c4#0").started_us, 260'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c4#0").attempt_log.size(), 1u);
}

BOOST_FIXTURE_TEST_CASE(a_crashed_workers_queued_task_goes_back_once,
                        window_fixture) {
  // c0's worker dies as c0 starts: c0 ends worker_crashed, and c3, queued
  // ahead of it, goes back to run again (with no attempt lost: it never
  // started). The outcome is the one a run without the window has (c3
  // never sent to that worker): this checks the crash path's bookkeeping,
  // the loss test above that the window is on.
  fault = throw_at(worker_fault_point::attempt, "d/c0#0");
  start_window(6);
  BOOST_CHECK_EQUAL(count_of(status(), task_status::error), 1u);
  run_until_idle();
  auto summary = done();
  check_one_line_each(6);
  auto& crashed = sink_rec->of("d/c0#0");
  BOOST_CHECK_EQUAL(crashed.status, task_status::error);
  BOOST_CHECK_EQUAL(crashed.error_code, "worker_crashed");
  BOOST_CHECK_EQUAL(crashed.error, "worker 1 crashed: boom");
  for (auto id : {"d/c1#0", "d/c2#0", "d/c3#0", "d/c4#0", "d/c5#0"}) {
    BOOST_CHECK_EQUAL(sink_rec->of(id).status, task_status::succeeded);
    BOOST_CHECK_EQUAL(sink_rec->of(id).attempt_log.size(), 1u);
  }
  BOOST_CHECK_EQUAL(count_of(summary, task_status::error), 1u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 5u);
}

BOOST_FIXTURE_TEST_CASE(a_cancel_ends_the_queued_tasks_and_lets_the_running_end,
                        window_fixture) {
  // Cancelled at 50 ms: c0 and c1 finish at 100 ms; c2 and c3, queued at
  // the relay, never start, and end CANCELLED with c4 and c5.
  start_window(6);
  advance(50ms);
  caf::anon_send(sup, cancel_atom::value, std::string{"user cancel"});
  run_until_idle();
  auto summary = done();
  check_one_line_each(6);
  for (auto id : {"d/c0#0", "d/c1#0"}) {
    BOOST_CHECK_EQUAL(sink_rec->of(id).status, task_status::succeeded);
    BOOST_CHECK_EQUAL(sink_rec->of(id).finished_us, 100'000);
  }
  for (auto id : {"d/c2#0", "d/c3#0", "d/c4#0", "d/c5#0"}) {
    auto& r = sink_rec->of(id);
    BOOST_CHECK_EQUAL(r.status, task_status::cancelled);
    BOOST_CHECK_EQUAL(r.error, "user cancel");
    BOOST_CHECK(r.attempt_log.empty());
  }
  BOOST_CHECK_EQUAL(summary.end, run_end::cancelled);
  BOOST_CHECK_EQUAL(summary.wall_us, 100'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::cancelled), 4u);
}

BOOST_FIXTURE_TEST_CASE(a_worker_gone_into_backoff_gives_back_its_queued_task,
                        window_fixture) {
  // c0 and c1 start at 0, c3 and c2 are queued ahead of their workers. c0
  // fails at 100 ms and waits 1 s for its second attempt: c3, queued ahead
  // of c0's worker, goes back to the supervisor and runs on the other worker
  // after c2 (at 200 ms) instead of after c0's retry (at 1,200 ms); c4
  // follows it there.
  stub_settings s;
  s.delay_us = 100'000;
  s.behaviors["d/c0#0"]
    = {test::scripted("failure"), test::scripted("success")};
  start_nodes(5, 2, {2}, s);
  run();
  run_until_idle();
  auto summary = done();
  check_one_line_each(5);
  auto& c0 = sink_rec->of("d/c0#0");
  BOOST_CHECK_EQUAL(c0.status, task_status::succeeded);
  BOOST_REQUIRE_EQUAL(c0.attempt_log.size(), 2u);
  BOOST_CHECK_EQUAL(c0.attempt_log[1].started_us, 1'100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").started_us, 100'000);
  auto& c3 = sink_rec->of("d/c3#0");
  BOOST_CHECK_EQUAL(c3.status, task_status::succeeded);
  BOOST_CHECK_EQUAL(c3.attempt_log.size(), 1u);
  BOOST_CHECK_EQUAL(c3.started_us, 200'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c4#0").started_us, 300'000);
  BOOST_CHECK_EQUAL(summary.wall_us, 1'200'000);
  BOOST_CHECK_EQUAL(count_of(summary, task_status::succeeded), 5u);
}

BOOST_FIXTURE_TEST_CASE(a_relay_gives_back_what_waits_for_a_worker_in_backoff,
                        window_fixture) {
  // The relay alone, between a fake supervisor and a fake worker at index
  // 0: the task queued ahead of the worker goes back when the worker goes
  // into backoff (after the backoff itself), so does one that comes while
  // it is in backoff (it crossed the backoff on its way), and once the
  // backoff is over a task waits for the worker again.
  auto log = std::make_shared<std::vector<std::string>>();
  auto runs = std::make_shared<std::vector<std::string>>();
  auto fake_sup = sys.spawn(fake_supervisor, log);
  auto relay = spawn_result_relay(sys, fake_sup);
  auto w = sys.spawn(fake_worker, runs, caf::actor_cast<caf::actor>(relay));
  auto send_task = [&](const std::string& id) {
    caf::anon_send(relay, run_atom::value,
                   std::vector<indexed_task>{indexed_task{0, task_named(id)}});
    run();
  };
  caf::anon_send(relay, workers_atom::value, uint32_t{0}, w);
  send_task("t");
  send_task("u"); // waits ahead of the busy worker
  caf::anon_send(w, start_atom::value);
  run();
  send_task("v"); // the worker is in backoff
  caf::anon_send(w, wake_atom::value, int64_t{0});
  run();
  send_task("x"); // waits again
  caf::anon_send(w, drain_atom::value);
  run();
  std::vector<std::string> want_log{"backoff on", "take_back u", "take_back v",
                                    "backoff off", "results 1"};
  BOOST_CHECK_EQUAL_COLLECTIONS(log->begin(), log->end(), want_log.begin(),
                                want_log.end());
  std::vector<std::string> want_runs{"t", "x"};
  BOOST_CHECK_EQUAL_COLLECTIONS(runs->begin(), runs->end(), want_runs.begin(),
                                want_runs.end());
  for (auto* a : {&fake_sup, &w})
    caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
  run();
}

BOOST_FIXTURE_TEST_CASE(a_rate_limit_turns_the_window_off, window_fixture) {
  // 10 starts a second, 2 at once: c0 and c1 at 0, then one token every
  // 100 ms. A task queued ahead would start without its token (c2 and c3
  // both at 100 ms); with the window off each waits for its own.
  dispatch.rate_per_second = 10;
  dispatch.burst = 2;
  start_window(4);
  run_until_idle();
  done();
  check_one_line_each(4);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").started_us, 0);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").started_us, 0);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c2#0").started_us, 100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c3#0").started_us, 200'000);
}

BOOST_AUTO_TEST_SUITE_END()
