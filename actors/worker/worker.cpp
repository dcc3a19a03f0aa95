// The worker's task state machine.
//
//            run(task)                         reply / deadline
//   idle ──────────────────▶ attempting ───────────────────────▶ (decide)
//    ▲                          ▲                                   │
//    │                          │ retry(gen)        retryable, attempts and
//    │                          │                   deadline left, no cancel
//    │                     backing_off ◀────────────────────────────┘
//    │                          │ cancel                             │
//    │                          ▼                                    │ final
//    └────────── report result to the listener ◀─────────────────────┘
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
#include "actors/worker/assertions.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

namespace troupe {

namespace {

constexpr int64_t no_deadline = std::numeric_limits<int64_t>::max();

struct worker_state {
  worker_config cfg;
  task_spec task;
  task_result result;
  task_status status = task_status::pending;
  uint32_t attempt = 0;
  uint64_t gen = 0;
  uint64_t requests = 0;
  uint64_t request_id = 0;
  int64_t attempt_started_us = 0;
  /// When the attempt in flight times out, and whether the task deadline
  /// (not the attempt timeout) sets that time.
  int64_t attempt_deadline_us = no_deadline;
  bool deadline_limited = false;
  /// Times of the deadline timers pending in the clock.
  std::vector<int64_t> timers;
  int64_t task_deadline_us = no_deadline;
  bool cancel_requested = false;
  std::string cancel_reason;
  static inline const char* name = "worker";
};

using worker_pointer = worker_actor::stateful_pointer<worker_state>;

worker_actor::behavior_type idle(worker_pointer self);
worker_actor::behavior_type attempting(worker_pointer self);
worker_actor::behavior_type backing_off(worker_pointer self);

int64_t now_us(worker_pointer self) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           self->clock().now() - self->state.cfg.run_start)
    .count();
}

// Calls the test-only fault hook, if any.
void fault_point(worker_pointer self, worker_fault_point at) {
  if (self->state.cfg.fault)
    self->state.cfg.fault(at, self->state.task);
}

std::string seconds_text(int64_t us) {
  auto s = std::to_string(static_cast<double>(us) / 1e6);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.')
    s.pop_back();
  return s + " s";
}

// Ends the task: sends the result and waits for the next one.
void complete(worker_pointer self, task_status status) {
  auto& st = self->state;
  if (st.status == task_status::queued && st.attempt > 0)
    self->send(st.cfg.listener, backoff_atom::value, false, st.task.seq);
  ++st.gen;
  auto& r = st.result;
  r.status = status;
  r.finished_us = now_us(self);
  if (!r.attempt_log.empty())
    r.latency_us = r.attempt_log.back().duration_us;
  if (status == task_status::succeeded) {
    r.error.clear();
    r.error_code.clear();
    r.assertions
      = check_expectation(st.task.expect, r.output_json, r.latency_us);
  }
  self->send(st.cfg.listener, result_atom::value, st.cfg.index, std::move(r));
  fault_point(self, worker_fault_point::result);
  st.result = task_result{};
  st.task = task_spec{};
  st.status = task_status::pending;
  st.attempt = 0;
  st.cancel_requested = false;
  self->become(idle(self));
}

void complete_cancelled(worker_pointer self, const std::string& reason) {
  auto& r = self->state.result;
  r.error = reason;
  r.error_code = "cancelled";
  r.output_json.clear();
  complete(self, task_status::cancelled);
}

void do_attempt(worker_pointer self);

// A retryable attempt ended: back off and try again, or give up.
void try_retry(worker_pointer self, task_status last, int64_t retry_after_us) {
  auto& st = self->state;
  if (st.attempt >= st.cfg.retry.max_attempts) {
    complete(self, last);
    return;
  }
  // A retry would run after the cancel: the task ends unfinished.
  if (st.cancel_requested) {
    complete_cancelled(self, st.cancel_reason);
    return;
  }
  int64_t delay = retry_after_us;
  if (delay < 0)
    delay
      = backoff_delay_us(st.cfg.retry, st.attempt,
                         unit_draw(st.cfg.jitter_seed, st.task.id, st.attempt));
  auto now = now_us(self);
  if (st.task_deadline_us != no_deadline
      && now + delay >= st.task_deadline_us) {
    st.result.error += " (not retried: the task deadline of "
                       + seconds_text(st.cfg.deadline_us)
                       + " would pass during the backoff)";
    complete(self, last);
    return;
  }
  st.status = task_status::queued;
  self->send(st.cfg.listener, backoff_atom::value, true, st.task.seq);
  fault_point(self, worker_fault_point::backoff);
  self->delayed_send(self, std::chrono::microseconds{delay}, retry_atom::value,
                     st.gen);
  self->become(backing_off(self));
}

void record_attempt(worker_pointer self, task_status status,
                    const std::string& error, int32_t http_status) {
  auto& st = self->state;
  st.attempt_deadline_us = no_deadline;
  attempt_record rec;
  rec.status = status;
  rec.started_us = st.attempt_started_us;
  rec.duration_us = now_us(self) - st.attempt_started_us;
  rec.error = error;
  rec.http_status = http_status;
  st.result.attempt_log.push_back(std::move(rec));
}

void on_reply(worker_pointer self, attempt_reply& reply) {
  auto& st = self->state;
  auto status = status_of(reply.result);
  record_attempt(self, status, reply.error, reply.http_status);
  auto& r = st.result;
  r.output_json = std::move(reply.output_json);
  r.error = std::move(reply.error);
  r.error_code = std::move(reply.error_code);
  r.http_status = reply.http_status;
  r.tokens = reply.tokens;
  r.first_event_us = reply.first_event_us;
  r.dify = std::move(reply.dify);
  if (reply.result == outcome::throttled)
    self->send(st.cfg.listener, throttle_atom::value, st.attempt_started_us);
  switch (reply.result) {
    case outcome::success:
    case outcome::rejected:
      complete(self, status);
      return;
    case outcome::cancelled:
      r.error_code = "cancelled";
      if (st.cancel_requested && r.error.empty())
        r.error = st.cancel_reason;
      complete(self, status);
      return;
    case outcome::abort_run:
      self->send(st.cfg.listener, abort_atom::value,
                 st.task.id + ": " + r.error);
      complete(self, status);
      return;
    default:
      try_retry(self, status, reply.retry_after_us);
  }
}

// The attempt in flight passed its deadline.
void on_attempt_timeout(worker_pointer self) {
  auto& st = self->state;
  ++st.gen; // a late reply is now stale
  // Free whatever the attempt holds (a timer, a connection).
  self->send(st.cfg.executor, abort_atom::value, st.request_id);
  auto& r = st.result;
  r.output_json.clear();
  r.http_status = 0;
  r.error_code = "timeout";
  if (st.deadline_limited) {
    r.error
      = "task deadline of " + seconds_text(st.cfg.deadline_us) + " passed";
    record_attempt(self, task_status::timeout, r.error, 0);
    complete(self, task_status::timeout);
    return;
  }
  r.error = "attempt timed out after " + seconds_text(st.cfg.timeout_us);
  record_attempt(self, task_status::timeout, r.error, 0);
  try_retry(self, task_status::timeout, -1);
}

void on_request_error(worker_pointer self, const caf::error& err) {
  auto& st = self->state;
  auto& r = st.result;
  r.output_json.clear();
  r.http_status = 0;
  r.error = "executor failed: " + crash_text(self->system(), err);
  r.error_code = "executor";
  record_attempt(self, task_status::error, r.error, 0);
  try_retry(self, task_status::error, -1);
}

// Makes sure a deadline timer fires at `at` or earlier.
void arm_deadline(worker_pointer self, int64_t at) {
  auto& st = self->state;
  for (auto t : st.timers)
    if (t <= at)
      return;
  st.timers.push_back(at);
  self->delayed_send(self, std::chrono::microseconds{at - now_us(self)},
                     deadline_atom::value, at);
}

// A deadline timer fired: time the attempt out, or re-arm for its deadline.
void on_deadline_timer(worker_pointer self, int64_t at) {
  auto& st = self->state;
  auto i = std::find(st.timers.begin(), st.timers.end(), at);
  if (i != st.timers.end())
    st.timers.erase(i);
  if (st.status != task_status::running
      || st.attempt_deadline_us == no_deadline)
    return;
  if (now_us(self) >= st.attempt_deadline_us)
    on_attempt_timeout(self);
  else
    arm_deadline(self, st.attempt_deadline_us);
}

void do_attempt(worker_pointer self) {
  auto& st = self->state;
  ++st.attempt;
  ++st.gen;
  st.status = task_status::running;
  auto now = now_us(self);
  if (st.attempt == 1) {
    st.result.started_us = now;
    st.task_deadline_us
      = st.cfg.deadline_us > 0 ? now + st.cfg.deadline_us : no_deadline;
  }
  st.attempt_started_us = now;
  st.attempt_deadline_us = now + st.cfg.timeout_us;
  st.deadline_limited = false;
  if (st.task_deadline_us <= st.attempt_deadline_us) {
    st.attempt_deadline_us = st.task_deadline_us;
    st.deadline_limited = true;
  }
  arm_deadline(self, st.attempt_deadline_us);
  st.request_id = (uint64_t{st.cfg.index} << 40) | ++st.requests;
  fault_point(self, worker_fault_point::attempt);
  attempt_request req{st.request_id, st.attempt, st.task};
  auto gen = st.gen;
  // No CAF timeout here: the deadline timer above bounds the attempt.
  self
    ->request(st.cfg.executor, caf::infinite, execute_atom::value,
              std::move(req))
    .then(
      [=](attempt_reply& reply) {
        if (gen == self->state.gen)
          on_reply(self, reply);
      },
      [=](caf::error& err) {
        if (gen == self->state.gen)
          on_request_error(self, err);
      });
}

void on_run(worker_pointer self, task_spec& task) {
  auto& st = self->state;
  st.task = std::move(task);
  st.result = result_for(st.task);
  st.result.cache_key = st.task.cache_key;
  st.attempt = 0;
  st.cancel_requested = false;
  st.status = task_status::queued;
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
  r.error_code = "internal";
  r.finished_us = now_us(self);
  self->send(self->state.cfg.listener, result_atom::value,
             self->state.cfg.index, std::move(r));
}

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
          complete_cancelled(self, "cancelled before its retry could start");
          return;
        }
        do_attempt(self);
        self->become(attempting(self));
      },
      [=](caf::error&) {
        if (gen == self->state.gen)
          complete_cancelled(self, "cancelled before its retry could start");
      });
  fault_point(self, worker_fault_point::permit);
}

worker_actor::behavior_type idle(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run(self, task); },
    [=](cancel_atom, bool, const std::string&) {},
    [=](status_atom) {
      return caf::result<std::string, task_status>{std::string{},
                                                   task_status::pending};
    },
    [=](retry_atom, uint64_t) {},
    [=](deadline_atom, int64_t at) { on_deadline_timer(self, at); },
  };
}

worker_actor::behavior_type attempting(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run_while_busy(self, task); },
    [=](cancel_atom, bool now, const std::string& reason) {
      auto& st = self->state;
      if (now) {
        self->send(st.cfg.executor, abort_atom::value, st.request_id);
        record_attempt(self, task_status::cancelled, reason, 0);
        complete_cancelled(self, reason);
        return;
      }
      st.cancel_requested = true;
      st.cancel_reason = reason;
      // The executor may end the attempt early (a Dify stop call).
      self->send(st.cfg.executor, cancel_atom::value, st.request_id);
    },
    [=](status_atom) {
      return caf::result<std::string, task_status>{self->state.task.id,
                                                   self->state.status};
    },
    [=](retry_atom, uint64_t) {},
    [=](deadline_atom, int64_t at) { on_deadline_timer(self, at); },
  };
}

worker_actor::behavior_type backing_off(worker_pointer self) {
  return {
    [=](run_atom, task_spec& task) { on_run_while_busy(self, task); },
    [=](cancel_atom, bool, const std::string& reason) {
      complete_cancelled(self, reason);
    },
    [=](status_atom) {
      return caf::result<std::string, task_status>{self->state.task.id,
                                                   self->state.status};
    },
    [=](retry_atom, uint64_t gen) {
      if (gen != self->state.gen)
        return;
      if (self->state.cfg.gated)
        return ask_permit(self, gen);
      self->send(self->state.cfg.listener, backoff_atom::value, false,
                 self->state.task.seq);
      do_attempt(self);
      self->become(attempting(self));
    },
    [=](deadline_atom, int64_t at) { on_deadline_timer(self, at); },
  };
}

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
