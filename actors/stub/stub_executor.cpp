// The stub executor actor.
//
// One executor serves every worker, so an attempt that throws must not take
// it down: CAF 0.17 ends an actor whose handler throws, whatever its
// exception handler returns, and the attempts it holds would then wait for
// their deadlines and every later one fail. So each attempt's work is caught
// here and answered ERROR (retryable, error_code "executor_exception"), and
// the executor goes on. Should it die anyway, its exception handler names
// the reason in the error the pending request gets, and workers turn failed
// requests into ERROR attempts; it is not respawned, since a new one would
// have lost the script and the setters' changes.
//
// Delays run on one timer at a time: the attempts wait in order of their
// due time, and a tick at the earliest answers every one due by then and
// arms the next. An attempt per delayed message woke the clock's thread
// once per attempt (B2: 20,000 times a second); a tick answers all that
// came due together.

#include "actors/stub/stub_executor.hpp"

#include "actors/crash_reason.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <queue>
#include <set>
#include <unordered_map>

namespace troupe {

namespace {

struct pending_reply {
  caf::typed_response_promise<attempt_reply> promise;
  attempt_reply reply;
};

/// A delayed attempt's answer: when it is due (microseconds on the actor
/// clock), in the order they came for the same time.
struct due_reply {
  int64_t due_us;
  uint64_t order;
  uint64_t request_id;
  bool operator>(const due_reply& x) const noexcept {
    return due_us != x.due_us ? due_us > x.due_us : order > x.order;
  }
};

struct stub_executor_state {
  stub_script script;
  /// Attempts that have not been answered yet (delayed, or never answered).
  std::unordered_map<uint64_t, pending_reply> pending;
  /// The delayed ones by due time (an aborted one stays until due).
  std::priority_queue<due_reply, std::vector<due_reply>, std::greater<>> due;
  uint64_t order = 0;
  /// The due times of the ticks armed.
  std::multiset<int64_t> ticks;
  /// The most attempts ever in flight at once: the concurrency actually seen.
  uint64_t max_in_flight = 0;
  uint64_t executed = 0;
  static inline const char* name = "stub_executor";
};

using stub_pointer = stub_executor_actor::stateful_pointer<stub_executor_state>;

void do_execute(stub_pointer self, attempt_request& req,
                caf::typed_response_promise<attempt_reply>& rp);

int64_t clock_us(stub_pointer self) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           self->clock().now().time_since_epoch())
    .count();
}

// Makes sure a tick comes at `at_us` or earlier.
void arm_tick(stub_pointer self, int64_t at_us) {
  auto& ticks = self->state.ticks;
  if (!ticks.empty() && *ticks.begin() <= at_us)
    return;
  ticks.insert(at_us);
  self->delayed_send(self, std::chrono::microseconds{at_us - clock_us(self)},
                     reply_atom::value, static_cast<uint64_t>(at_us));
}

// The tick armed for `at_us`: answers what is due, arms the next one.
void on_tick(stub_pointer self, int64_t at_us) {
  auto& st = self->state;
  if (auto i = st.ticks.find(at_us); i != st.ticks.end())
    st.ticks.erase(i);
  auto now = clock_us(self);
  while (!st.due.empty() && st.due.top().due_us <= now) {
    auto id = st.due.top().request_id;
    st.due.pop();
    auto i = st.pending.find(id);
    if (i == st.pending.end())
      continue; // aborted meanwhile
    i->second.promise.deliver(std::move(i->second.reply));
    st.pending.erase(i);
  }
  if (!st.due.empty())
    arm_tick(self, st.due.top().due_us);
}

caf::typed_response_promise<attempt_reply> on_execute(stub_pointer self,
                                                      attempt_request& req) {
  ++self->state.executed;
  auto rp = self->make_response_promise<attempt_reply>();
  try {
    do_execute(self, req, rp);
  } catch (const std::exception& e) {
    attempt_reply r;
    r.result = outcome::error;
    r.error = std::string{"executor threw: "} + e.what();
    r.error_code = to_string(error_code::executor_exception);
    rp.deliver(std::move(r));
  }
  return rp;
}

void do_execute(stub_pointer self, attempt_request& req,
                caf::typed_response_promise<attempt_reply>& rp) {
  auto& st = self->state;
  auto b = st.script.pick(req.task.id, req.attempt);
  if (b.action != stub_action::timeout && b.delay_us == 0) {
    st.max_in_flight
      = std::max<uint64_t>(st.max_in_flight, st.pending.size() + 1);
    rp.deliver(stub_reply(b, req.task));
    return;
  }
  // "timeout" parks the promise until the worker's deadline makes it abort.
  auto reply = b.action == stub_action::timeout ? attempt_reply{}
                                                : stub_reply(b, req.task);
  st.pending.emplace(req.request_id, pending_reply{rp, std::move(reply)});
  st.max_in_flight = std::max<uint64_t>(st.max_in_flight, st.pending.size());
  if (b.action != stub_action::timeout) {
    auto at = clock_us(self) + b.delay_us;
    st.due.push(due_reply{at, st.order++, req.request_id});
    arm_tick(self, at);
  }
}

stub_executor_actor::behavior_type stub_executor(stub_pointer self,
                                                 stub_settings settings) {
  self->state.script = stub_script{std::move(settings)};
  self->set_exception_handler(crash_reason);
  return {
    [=](execute_atom, attempt_request& req) { return on_execute(self, req); },
    [=](reply_atom, uint64_t at_us) {
      on_tick(self, static_cast<int64_t>(at_us));
    },
    [=](abort_atom, uint64_t id) { self->state.pending.erase(id); },
    [=](cancel_atom, uint64_t) {
      // A stub attempt has nothing to stop early: it runs to its end.
    },
    [=](set_behavior_atom, std::string& id, std::vector<stub_behavior>& xs) {
      self->state.script.set_behavior(id, std::move(xs));
    },
    [=](set_failure_rate_atom, double rate) {
      self->state.script.set_failure_rate(rate);
    },
    [=](set_delay_atom, int64_t us) { self->state.script.set_delay(us); },
    [=](clear_behaviors_atom) { self->state.script.clear_behaviors(); },
    [=](status_atom) {
      return stub_executor_status{self->state.executed,
                                  self->state.max_in_flight};
    },
  };
}

} // namespace

stub_executor_actor spawn_stub_executor(caf::actor_system& sys,
                                        stub_settings settings) {
  return sys.spawn(stub_executor, std::move(settings));
}

} // namespace troupe
