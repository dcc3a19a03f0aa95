#pragma once

// The worker's state and the parts of its state machine that run one
// attempt (worker_attempt.cpp): internal to the worker.

#include "actors/worker/worker.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace troupe {

constexpr int64_t no_deadline = std::numeric_limits<int64_t>::max();

struct worker_state {
  worker_config cfg;
  task_spec task;
  task_result result;
  /// The attempt of the turn in flight (of the task, without turns).
  uint32_t attempt = 0;
  /// A conversation's turn in flight, from 0.
  uint32_t turn = 0;
  uint64_t gen = 0;
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
  /// With cfg.on_attempt: the last recorded attempt awaits its event (sent
  /// once the worker knows whether it retries).
  bool attempt_event_due = false;
  static inline const char* name = "worker";
};

using worker_pointer = worker_actor::stateful_pointer<worker_state>;

/// The worker's behaviours, one per state (see the chart in worker.cpp).
worker_actor::behavior_type idle(worker_pointer self);
worker_actor::behavior_type attempting(worker_pointer self);
worker_actor::behavior_type backing_off(worker_pointer self);
worker_actor::behavior_type waiting_for_permit(worker_pointer self);

/// Microseconds since the run started, on the actor clock.
int64_t now_us(worker_pointer self);

/// Calls the test-only fault hook, if any.
void fault_point(worker_pointer self, worker_fault_point at);

/// Ends the task with `status`: sends the result, becomes idle.
void complete(worker_pointer self, task_status status);

/// Ends the task CANCELLED for `reason`.
void complete_cancelled(worker_pointer self, const std::string& reason);

/// Starts the next attempt of the task (attempting).
void do_attempt(worker_pointer self);

/// A conversation's turn in flight ended with `status`: records it in the
/// result's turns (see worker_turns.cpp).
void close_turn(worker_pointer self, task_status status);

/// A conversation's turn SUCCEEDED: starts the next one, or ends the task
/// CANCELLED when a cancel came meanwhile. False after the last turn, which
/// the caller ends.
bool next_turn(worker_pointer self);

/// Asks the listener for the permit to start the next attempt (a retry's,
/// or a turn's, under a rate limit or adaptive concurrency).
void ask_permit(worker_pointer self, uint64_t gen);

/// Sums a conversation's turns into the task's result as it ends.
void end_turns(worker_pointer self, task_status status);

/// Records the end of the attempt in flight in the task's attempt log.
void record_attempt(worker_pointer self, task_status status,
                    const std::string& error, int32_t http_status);

/// Sends the due attempt event (cfg.on_attempt), if any: a retry follows
/// after `retry_delay_us`, or none (-1).
void emit_attempt_event(worker_pointer self, int64_t retry_delay_us = -1);

/// A deadline timer at `at` fired with no attempt in flight: it only goes.
void forget_timer(worker_pointer self, int64_t at);

/// A deadline timer at `at` fired while attempting.
void on_deadline_timer(worker_pointer self, int64_t at);

} // namespace troupe
