#pragma once

// The supervisor's test fixture: a stub executor, a vector task source, a
// recording sink and listener on virtual time, and helper executors (one
// that caps calls like Dify, one that throws).

#include "actors/crash_reason.hpp"
#include "actors/stub/stub_executor.hpp"
#include "actors/supervisor/supervisor.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/run_counts.hpp"
#include "tests/support/timeline.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace troupe::test {

using namespace std::chrono_literals;

/// A task source over a vector; it answers the tasks in `answers` itself
/// (as runtime's result cache does).
class vector_source : public task_source {
public:
  explicit vector_source(size_t n, const std::string& dataset = "d",
                         const expectation& expect = {},
                         std::map<uint64_t, std::string> answers = {})
    : answers_(std::move(answers)) {
    for (size_t i = 0; i < n; ++i) {
      task_spec t;
      t.expect = expect;
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

  bool next_item(source_item& out) override {
    out.answer.reset();
    if (!next(out.task))
      return false;
    if (auto i = answers_.find(out.task.seq); i != answers_.end()) {
      auto& r = out.answer.emplace(result_for(out.task));
      r.status = task_status::succeeded;
      r.output_json = i->second;
      r.cached = true;
    }
    return true;
  }

  size_t pulled = 0;

private:
  std::map<uint64_t, std::string> answers_;
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
  /// Every task's checks, and the outputs the source answers by seq.
  expectation expect;
  std::map<uint64_t, std::string> answers;
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
    source = std::make_shared<vector_source>(tasks, "d", expect, answers);
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

  std::pair<uint64_t, uint64_t> executor_stats() {
    std::pair<uint64_t, uint64_t> out;
    caf::scoped_actor self{sys};
    self->send(exec, status_atom::value);
    sched.run();
    self->receive(
      [&](stub_executor_status& s) {
        out = {s.executed, s.max_in_flight};
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

inline capped_actor::behavior_type
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
inline executor_actor::behavior_type
throwing_executor(executor_actor::pointer self) {
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
inline std::function<void(worker_fault_point, const task_spec&)>
throw_at(worker_fault_point point, std::string task_id) {
  return [=](worker_fault_point at, const task_spec& task) {
    if (at == point && task.id == task_id)
      throw std::runtime_error("boom");
  };
}

// Every attempt's [start, end), from the results' logs.
inline std::vector<std::pair<int64_t, int64_t>>
attempt_intervals(const std::vector<task_result>& results) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (auto& r : results)
    for (auto& a : r.attempt_log)
      out.emplace_back(a.started_us, a.started_us + a.duration_us);
  return out;
}

// The most attempts started within any window of `window_us`.
inline size_t most_starts_in(const std::vector<task_result>& results,
                             int64_t window_us) {
  std::vector<int64_t> starts;
  for (auto& [start, end] : attempt_intervals(results))
    starts.push_back(start);
  return test::most_within(std::move(starts), window_us);
}

} // namespace troupe::test
