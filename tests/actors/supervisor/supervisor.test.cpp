// The supervisor on virtual time: dispatch under a bounded pool, statistics,
// cancellation, aborts and reproducible seeded failures.

#include "actors/supervisor/supervisor.hpp"

#include "actors/crash_reason.hpp"
#include "actors/stub/stub_executor.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/timeline.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

using namespace std::chrono_literals;
using namespace troupe;

namespace {

/// A task source over a vector.
class vector_source : public task_source {
public:
  explicit vector_source(size_t n, const std::string& dataset = "d") {
    for (size_t i = 0; i < n; ++i) {
      task_spec t;
      t.dataset = dataset;
      t.case_id = "c" + std::to_string(i);
      t.id = dataset + "/" + t.case_id + "#0";
      t.inputs_json = "{}";
      t.params_json = "{}";
      t.seq = i;
      tasks_.push_back(std::move(t));
    }
  }

  bool next(task_spec& out) override {
    if (pos_ >= tasks_.size())
      return false;
    out = tasks_[pos_++];
    ++pulled;
    return true;
  }

  size_t pulled = 0;

private:
  std::vector<task_spec> tasks_;
  size_t pos_ = 0;
};

struct supervisor_fixture : test::deterministic_fixture {
  std::shared_ptr<test::recorded> sink_rec = std::make_shared<test::recorded>();
  stub_executor_actor exec;
  supervisor_actor sup;
  std::shared_ptr<vector_source> source;
  std::unique_ptr<caf::scoped_actor> listener;
  retry_settings retry{3, 1'000'000, 2.0, 60'000'000, jitter_mode::none};
  int64_t timeout_us = 5'000'000;
  dispatch_settings dispatch;
  /// Set to use another executor than the stub (see capped_executor).
  executor_actor custom_executor;
  /// The workers' test-only fault hook.
  std::function<void(worker_fault_point, const task_spec&)> fault;

  ~supervisor_fixture() {
    listener.reset();
    caf::anon_send_exit(exec, caf::exit_reason::user_shutdown);
    if (sup)
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
  }

  void start(size_t tasks, uint32_t concurrency, stub_settings s) {
    exec = spawn_stub_executor(sys, std::move(s));
    source = std::make_shared<vector_source>(tasks);
    listener = std::make_unique<caf::scoped_actor>(sys);
    supervisor_config sc;
    sc.dispatch = dispatch;
    sc.concurrency = concurrency;
    sc.worker.executor
      = custom_executor ? custom_executor : executor_actor{exec};
    sc.worker.retry = retry;
    sc.worker.timeout_us = timeout_us;
    sc.worker.run_start = t0;
    sc.worker.fault = fault;
    sc.source = source;
    sc.total = tasks;
    sc.sink = spawn_recording_sink(sink_rec);
    sc.listener = caf::actor_cast<caf::actor>(*listener);
    sup = spawn_supervisor(sys, std::move(sc));
    caf::anon_send(sup, start_atom::value);
  }

  run_status status() {
    run_status out;
    caf::scoped_actor self{sys};
    self->send(sup, status_atom::value);
    sched.run();
    self->receive([&](run_status& s) { out = s; },
                  caf::after(0s) >> [] { BOOST_FAIL("no status reply"); });
    return out;
  }

  /// The (done, summary) the supervisor sent when it finished.
  run_summary done() {
    run_summary out;
    bool got = false;
    (*listener)->receive(
      [&](done_atom, run_summary& s, bool ok) {
        out = s;
        got = ok;
      },
      caf::after(0s) >> [] { BOOST_FAIL("the run has not finished"); });
    BOOST_CHECK(got);
    return out;
  }

  uint64_t count(const run_summary& s, task_status x) {
    return s.counts[static_cast<size_t>(x)];
  }

  std::pair<uint64_t, uint64_t> executor_stats() {
    std::pair<uint64_t, uint64_t> out;
    caf::scoped_actor self{sys};
    self->send(exec, status_atom::value);
    sched.run();
    self->receive(
      [&](uint64_t executed, uint64_t max_in_flight) {
        out = {executed, max_in_flight};
      },
      caf::after(0s) >> [] { BOOST_FAIL("no executor reply"); });
    return out;
  }
};

// A service that answers in 100 ms and throttles (like Dify's
// APP_MAX_ACTIVE_REQUESTS) every call beyond `cap` at once.
struct capped_state {
  int64_t cap = 0;
  int64_t active = 0;
  int64_t rejected = 0;
  std::unordered_map<uint64_t, caf::typed_response_promise<attempt_reply>>
    pending;
};

using capped_actor
  = executor_actor::extend<caf::reacts_to<reply_atom, uint64_t>,
                           caf::replies_to<status_atom>::with<int64_t>>;

capped_actor::behavior_type
capped_executor(capped_actor::stateful_pointer<capped_state> self,
                int64_t cap) {
  self->state.cap = cap;
  return {
    [=](execute_atom, attempt_request& req) {
      auto& st = self->state;
      auto rp = self->make_response_promise<attempt_reply>();
      if (st.active >= st.cap) {
        ++st.rejected;
        attempt_reply r;
        r.result = outcome::throttled;
        r.http_status = 400;
        r.error = "Too many requests";
        rp.deliver(std::move(r));
        return rp;
      }
      ++st.active;
      st.pending.emplace(req.request_id, rp);
      self->delayed_send(self, std::chrono::milliseconds{100},
                         reply_atom::value, req.request_id);
      return rp;
    },
    [=](reply_atom, uint64_t id) {
      auto& st = self->state;
      --st.active;
      st.pending.at(id).deliver(attempt_reply{});
      st.pending.erase(id);
    },
    [=](abort_atom, uint64_t) {},
    [=](cancel_atom, uint64_t) {},
    [=](status_atom) { return self->state.rejected; },
  };
}

// An executor whose handler throws, uncaught: it dies on its first attempt.
executor_actor::behavior_type throwing_executor(executor_actor::pointer self) {
  self->set_exception_handler(crash_reason);
  return {
    [=](execute_atom, attempt_request&) -> attempt_reply {
      throw std::runtime_error("boom");
    },
    [=](abort_atom, uint64_t) {},
    [=](cancel_atom, uint64_t) {},
  };
}

// A fault hook that throws at `point` for `task_id`.
std::function<void(worker_fault_point, const task_spec&)>
throw_at(worker_fault_point point, std::string task_id) {
  return [=](worker_fault_point at, const task_spec& task) {
    if (at == point && task.id == task_id)
      throw std::runtime_error("boom");
  };
}

// Every attempt's [start, end), from the results' logs.
std::vector<std::pair<int64_t, int64_t>>
attempt_intervals(const std::vector<task_result>& results) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto& r : results)
    for (auto& a : r.attempt_log)
      out.emplace_back(a.started_us, a.started_us + a.duration_us);
  return out;
}

// The most attempts started within any window of `window_us`.
size_t most_starts_in(const std::vector<task_result>& results,
                      int64_t window_us) {
  std::vector<int64_t> starts;
  for (auto& [start, end] : attempt_intervals(results))
    starts.push_back(start);
  return test::most_within(std::move(starts), window_us);
}

} // namespace

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
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::running)], 7u);
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::pending)], 93u);
  // Only the tasks handed to workers have been read from the source.
  BOOST_CHECK_EQUAL(source->pulled, 7u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 100u);
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
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::pending)], 7u);
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::queued)], 1u);
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::running)], 1u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 5u);
  BOOST_CHECK_EQUAL(count(summary, task_status::cancelled), 1u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 17u);
  BOOST_CHECK_EQUAL(count(summary, task_status::failed), 2u);
  BOOST_CHECK_EQUAL(count(summary, task_status::timeout), 1u);
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
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::running)], 2u);
  advance(500ms);
  auto summary = done();
  BOOST_CHECK_EQUAL(summary.end, run_end::cancelled);
  BOOST_CHECK_EQUAL(summary.reason, "user cancel");
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count(summary, task_status::cancelled), 8u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count(summary, task_status::failed), 1u);
  BOOST_CHECK_EQUAL(count(summary, task_status::cancelled), 47u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 90u);
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
    BOOST_CHECK_EQUAL(f.count(summary, task_status::succeeded), 200u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 8u);
  BOOST_CHECK_EQUAL(count(summary, task_status::cancelled), 12u);
  BOOST_CHECK_EQUAL(summary.wall_us, 4'000'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c19#0").finished_us, 3'500'000);
}

BOOST_AUTO_TEST_CASE(a_worker_that_throws_ends_its_task_and_is_replaced) {
  stub_settings s;
  s.delay_us = 100'000;
  fault = throw_at(worker_fault_point::attempt, "d/c1#0");
  start(6, 2, s);
  run();
  // c1 killed worker 1 at once; its replacement took c2.
  auto st = status();
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::running)], 2u);
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::error)], 1u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 6u);
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 5u);
  BOOST_CHECK_EQUAL(count(summary, task_status::error), 1u);
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
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::queued)], 0u);
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::running)], 1u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 3u);
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count(summary, task_status::error), 1u);
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
  BOOST_CHECK_EQUAL(st.counts[static_cast<size_t>(task_status::error)], 1u);
  run_until_idle();
  auto summary = done();
  BOOST_CHECK_EQUAL(sink_rec->results.size(), 2u);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").status, task_status::error);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").error_code, "worker_crashed");
  BOOST_CHECK_EQUAL(sink_rec->of("d/c0#0").finished_us, 100'000);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").status, task_status::succeeded);
  BOOST_CHECK_EQUAL(sink_rec->of("d/c1#0").attempt_log.at(0).started_us,
                    1'000'000);
  BOOST_CHECK_EQUAL(count(summary, task_status::error), 1u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count(summary, task_status::error), 0u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::succeeded), 3u);
  BOOST_CHECK_EQUAL(count(summary, task_status::error), 1u);
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
  BOOST_CHECK_EQUAL(count(summary, task_status::error), 3u);
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
