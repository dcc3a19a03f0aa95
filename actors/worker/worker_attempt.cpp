// One attempt of the worker's task: the request and its deadline, the
// reply's classification, and the choice to retry (backing_off) or end.

#include "actors/crash_reason.hpp"
#include "actors/worker/worker_state.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>

namespace troupe {

namespace {

// The steady clock the HTTP client times its transfers on: the executor
// measures the attempt's queue time from this stamp.
int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

std::string seconds_text(int64_t us) {
  auto s = std::to_string(static_cast<double>(us) / 1e6);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.')
    s.pop_back();
  return s + " s";
}

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
  emit_attempt_event(self, delay);
  self->send(st.cfg.listener, backoff_atom::value, true, st.task.seq);
  fault_point(self, worker_fault_point::backoff);
  self->delayed_send(self, std::chrono::microseconds{delay}, retry_atom::value,
                     st.gen);
  self->become(backing_off(self));
}

void on_attempt_timeout(worker_pointer self);

void on_reply(worker_pointer self, attempt_reply& reply) {
  auto& st = self->state;
  // An answer at or past the deadline is too late, whichever of the two
  // came first: on virtual time the deadline's timer and the executor's
  // answer can be due at the same instant, in either order.
  if (st.attempt_deadline_us != no_deadline
      && now_us(self) >= st.attempt_deadline_us) {
    on_attempt_timeout(self);
    return;
  }
  auto status = status_of(reply.result);
  record_attempt(self, status, reply.error, reply.http_status);
  auto& r = st.result;
  auto& rec = r.attempt_log.back();
  rec.latency_us = reply.latency_us;
  rec.queue_us = reply.queue_us;
  rec.connect_us = reply.connect_us;
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
      if (!st.task.turns.empty() && next_turn(self))
        return;
      complete(self, status);
      return;
    case outcome::rejected:
    case outcome::error_final:
      complete(self, status);
      return;
    case outcome::cancelled:
      r.error_code = to_string(error_code::cancelled);
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
  r.error_code = to_string(error_code::timeout);
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
  r.error_code = to_string(error_code::executor);
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

} // namespace

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
  st.attempt_event_due = static_cast<bool>(st.cfg.on_attempt);
}

void emit_attempt_event(worker_pointer self, int64_t retry_delay_us) {
  auto& st = self->state;
  if (!st.attempt_event_due)
    return;
  st.attempt_event_due = false;
  auto& rec = st.result.attempt_log.back();
  attempt_event ev;
  ev.task_id = st.task.id;
  ev.attempt = static_cast<uint32_t>(st.result.attempt_log.size());
  ev.status = rec.status;
  ev.started_us = rec.started_us;
  ev.duration_us = rec.duration_us;
  ev.error = rec.error;
  ev.http_status = rec.http_status;
  ev.latency_us = rec.latency_us;
  ev.queue_us = rec.queue_us;
  ev.connect_us = rec.connect_us;
  ev.will_retry = retry_delay_us >= 0;
  ev.retry_delay_us = retry_delay_us;
  st.cfg.on_attempt(ev);
}

// A deadline timer fired with no attempt in flight: it only goes.
void forget_timer(worker_pointer self, int64_t at) {
  auto& timers = self->state.timers;
  auto i = std::find(timers.begin(), timers.end(), at);
  if (i != timers.end())
    timers.erase(i);
}

// A deadline timer fired: time the attempt out, or re-arm for its deadline.
void on_deadline_timer(worker_pointer self, int64_t at) {
  auto& st = self->state;
  forget_timer(self, at);
  if (st.attempt_deadline_us == no_deadline)
    return;
  if (now_us(self) >= st.attempt_deadline_us)
    on_attempt_timeout(self);
  else
    arm_deadline(self, st.attempt_deadline_us);
}

void do_attempt(worker_pointer self) {
  auto& st = self->state;
  // A conversation's next turn: its last attempt is over for good.
  emit_attempt_event(self);
  ++st.attempt;
  ++st.gen;
  auto now = now_us(self);
  if (st.attempt == 1 && st.turn == 0) {
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
  // Unique in this process, where the executor is: a worker that takes a
  // crashed one's index must not reuse its ids, which the executor may
  // still hold for the dead worker's attempt. Below 2^63: the HTTP
  // executor marks its own stop calls with the top bit.
  static std::atomic<uint64_t> next_request_id{0};
  st.request_id = ++next_request_id;
  fault_point(self, worker_fault_point::attempt);
  // The task's attempt count, over all its turns: a stub script lists a
  // conversation's attempts in order.
  auto attempt = static_cast<uint32_t>(st.result.attempt_log.size() + 1);
  attempt_request req{st.request_id, attempt, st.task, steady_now_us()};
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

} // namespace troupe
