// The worker's task state machine: the behaviour is the state.
//
//            run(task)                          reply / deadline
//   idle ──────────────────▶ attempting ────────────────────────▶ (decide)
//    ▲                        ▲      ▲                                │
//    │        retry(gen),     │      │ permit          retryable, attempts
//    │        no rate limit   │      │ granted         and deadline left,
//    │                        │      │                 no cancel      │
//    │                   backing_off ──▶ waiting_for_permit           │
//    │                    ▲  │ retry(gen),   │ (rate limit or         │
//    │                    │  │ gated         │  adaptive)             │
//    │                    └──┼───────────────┼────────────────────────┤
//    │                cancel │     cancel,   │ permit denied          │ final
//    │                       ▼               ▼                        ▼
//    └──────────────── report the result to the listener ◀───────────┘
//
// In backing_off and waiting_for_permit the task counts as QUEUED (the
// listener was told it backs off), in attempting as RUNNING.
//
// A generation counter tags every request and timer; anything that arrives
// with an old generation (a late reply, a backoff timer after a cancel) is
// dropped, since CAF 0.17 cannot cancel a delayed message.
//
// Attempt deadlines are not CAF request timeouts: CAF 0.17 keeps a request's
// timeout in its clock until it fires, even after the reply came, so a fast
// run with a 60 s timeout would pile up millions of dead timers. Instead a
// worker keeps at most a few deadline timers of its own: when one fires
// before the current attempt's deadline, it is re-armed for that deadline.
//
// A worker does not catch what its handlers throw: an exception ends it
// with the exception's text as its exit reason, and the supervisor, which
// monitors it, ends its task ERROR (worker_crashed) and spawns another.

#include "actors/worker/worker.hpp"

#include "actors/crash_reason.hpp"
#include "actors/worker/worker_state.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>

namespace troupe {

int64_t now_us(worker_pointer self) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           self->clock().now() - self->state.cfg.run_start)
    .count();
}

void fault_point(worker_pointer self, worker_fault_point at) {
  if (self->state.cfg.fault)
    self->state.cfg.fault(at, self->state.task);
}

namespace {

// The task leaves backoff (the listener counts it as running again, or it
// ends).
void leave_backoff(worker_pointer self) {
  self->send(self->state.cfg.listener, backoff_atom::value, false,
             self->state.task.seq);
}

} // namespace

// Ends the task: sends the result and waits for the next one.
void complete(worker_pointer self, task_status status) {
  auto& st = self->state;
  emit_attempt_event(self);
  ++st.gen;
  auto& r = st.result;
  r.status = status;
  r.finished_us = now_us(self);
  if (!r.attempt_log.empty()) {
    // An HTTP call's latency is its wire time; the wait before it is
    // recorded apart (queue_us, connect_us).
    auto& last = r.attempt_log.back();
    r.latency_us = last.latency_us >= 0 ? last.latency_us : last.duration_us;
    r.queue_us = last.queue_us;
    r.connect_us = last.connect_us;
  }
  if (!st.task.turns.empty())
    end_turns(self, status);
  // The supervisor checks the output against the task's expectation.
  if (status == task_status::succeeded) {
    r.error.clear();
    r.error_code.clear();
  }
  self->send(st.cfg.listener, result_atom::value, st.cfg.index, std::move(r));
  fault_point(self, worker_fault_point::result);
  st.result = task_result{};
  st.task = task_spec{};
  st.attempt = 0;
  st.turn = 0;
  st.cancel_requested = false;
  self->become(idle(self));
}

void complete_cancelled(worker_pointer self, const std::string& reason) {
  auto& r = self->state.result;
  r.error = reason;
  r.error_code = to_string(error_code::cancelled);
  r.output_json.clear();
  complete(self, task_status::cancelled);
}

namespace {

void on_run(worker_pointer self, task_spec& task) {
  auto& st = self->state;
  st.task = std::move(task);
  st.result = result_for(st.task);
  st.attempt = 0;
  st.turn = 0;
  st.cancel_requested = false;
  do_attempt(self);
  self->become(attempting(self));
}

// A second task while busy would be a supervisor bug; report it rather than
// drop it, so no task ever goes missing.
void on_run_while_busy(worker_pointer self, task_spec& task) {
  auto r = result_for(std::move(task));
  r.status = task_status::error;
  r.error = "internal error: worker " + std::to_string(self->state.cfg.index)
            + " was busy";
  r.error_code = to_string(error_code::internal);
  r.finished_us = now_us(self);
  self->send(self->state.cfg.listener, result_atom::value,
             self->state.cfg.index, std::move(r));
}

// Why a retry, or a conversation's next turn, never started.
std::string not_started(worker_pointer self) {
  auto& st = self->state;
  if (st.attempt == 0 && !st.task.turns.empty())
    return "cancelled before turn " + std::to_string(st.turn + 1) + " of "
           + std::to_string(st.task.turns.size()) + " could start";
  return "cancelled before its retry could start";
}

} // namespace

// With a rate limit or adaptive concurrency, a retry starts only when the
// supervisor says so; it counts the task as running from then on.
void ask_permit(worker_pointer self, uint64_t gen) {
  auto& st = self->state;
  self->request(st.cfg.listener, caf::infinite, permit_atom::value, st.task.seq)
    .then(
      [=](bool granted) {
        if (gen != self->state.gen)
          return; // cancelled meanwhile
        if (!granted) {
          leave_backoff(self);
          complete_cancelled(self, not_started(self));
          return;
        }
        do_attempt(self);
        self->become(attempting(self));
      },
      [=](caf::error&) {
        if (gen != self->state.gen)
          return;
        leave_backoff(self);
        complete_cancelled(self, not_started(self));
      });
  self->become(waiting_for_permit(self));
  fault_point(self, worker_fault_point::permit);
}

namespace {

// A cancel while an attempt is in flight: stop it now, or let it finish
// (the executor may end it early, with a Dify stop call).
void on_cancel_attempt(worker_pointer self, bool now,
                       const std::string& reason) {
  auto& st = self->state;
  if (now) {
    self->send(st.cfg.executor, abort_atom::value, st.request_id);
    record_attempt(self, task_status::cancelled, reason, 0);
    complete_cancelled(self, reason);
    return;
  }
  st.cancel_requested = true;
  st.cancel_reason = reason;
  // A conversation's turn in flight finishes; the task ends after it.
  if (st.task.turns.empty())
    self->send(st.cfg.executor, cancel_atom::value, st.request_id);
}

// The backoff is over: ask for a permit, or try again at once.
void on_retry(worker_pointer self, uint64_t gen) {
  if (self->state.cfg.gated) {
    ask_permit(self, gen);
    return;
  }
  leave_backoff(self);
  do_attempt(self);
  self->become(attempting(self));
}

worker_status status_reply(worker_pointer self, task_status status) {
  return {self->state.task.id, status};
}

} // namespace

worker_actor::behavior_type idle(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run(self, task); },
    [=](cancel_atom, bool, const std::string&) {},
    [=](status_atom) { return worker_status{}; },
    [=](retry_atom, uint64_t) {},
    [=](deadline_atom, int64_t at) { forget_timer(self, at); },
  };
}

worker_actor::behavior_type attempting(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run_while_busy(self, task); },
    [=](cancel_atom, bool now, const std::string& reason) {
      on_cancel_attempt(self, now, reason);
    },
    [=](status_atom) { return status_reply(self, task_status::running); },
    [=](retry_atom, uint64_t) {},
    [=](deadline_atom, int64_t at) { on_deadline_timer(self, at); },
  };
}

worker_actor::behavior_type backing_off(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run_while_busy(self, task); },
    [=](cancel_atom, bool, const std::string& reason) {
      leave_backoff(self);
      complete_cancelled(self, reason);
    },
    [=](status_atom) { return status_reply(self, task_status::queued); },
    [=](retry_atom, uint64_t gen) {
      if (gen == self->state.gen)
        on_retry(self, gen);
    },
    [=](deadline_atom, int64_t at) { forget_timer(self, at); },
  };
}

// A retry asked the listener for its permit (ask_permit).
worker_actor::behavior_type waiting_for_permit(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run_while_busy(self, task); },
    [=](cancel_atom, bool, const std::string& reason) {
      leave_backoff(self);
      complete_cancelled(self, reason);
    },
    [=](status_atom) { return status_reply(self, task_status::queued); },
    [=](retry_atom, uint64_t) {},
    [=](deadline_atom, int64_t at) { forget_timer(self, at); },
  };
}

namespace {

worker_actor::behavior_type worker(worker_pointer self, worker_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_exception_handler(crash_reason);
  return idle(self);
}

} // namespace

worker_actor spawn_worker(caf::actor_system& sys, worker_config cfg) {
  return sys.spawn(worker, std::move(cfg));
}

} // namespace troupe
