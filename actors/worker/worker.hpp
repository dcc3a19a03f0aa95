#pragma once

// A worker runs one task at a time as a message-driven state machine: each
// attempt is a request with a deadline, each retry a delayed self-message.
// It reports every finished task to its listener (the supervisor).

#include "actors/executor.hpp"
#include "actors/worker/backoff.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace troupe {

/// What a worker reports to: finished tasks (with the worker's index), entry
/// into and exit from backoff (with the task's seq), throttled answers (429
/// and the like, with the attempt's start), and a service that aborts the run.
/// With a rate limit or adaptive concurrency, a retry first asks for a permit
/// (the task's seq); false means the run is stopping.
using worker_listener
  = caf::typed_actor<caf::reacts_to<result_atom, uint32_t, task_result>,
                     caf::reacts_to<backoff_atom, bool, uint64_t>,
                     caf::replies_to<permit_atom, uint64_t>::with<bool>,
                     caf::reacts_to<throttle_atom, int64_t>,
                     caf::reacts_to<abort_atom, std::string>>;

/// A worker's handle. `run` hands it a task; `cancel` (abort now?, reason)
/// stops it cooperatively; `status` tells its task and status. `retry` and
/// `deadline` are internal: the end of a backoff, a deadline timer.
using worker_actor
  = caf::typed_actor<caf::reacts_to<run_atom, task_spec>,
                     caf::reacts_to<cancel_atom, bool, std::string>,
                     caf::replies_to<status_atom>::with<worker_status>,
                     caf::reacts_to<retry_atom, uint64_t>,
                     caf::reacts_to<deadline_atom, int64_t>>;

/// Where a worker calls its test-only fault hook (worker_config::fault).
enum class worker_fault_point {
  attempt, ///< before an attempt's request is sent
  backoff, ///< after it told the listener it backs off
  permit,  ///< after it asked the listener for a retry's permit
  result,  ///< after it sent a task's result
};

/// A worker's parameters.
struct worker_config {
  /// Position in the pool; tags results and request ids.
  uint32_t index = 0;
  executor_actor executor;
  worker_listener listener;
  retry_settings retry;
  /// Per-attempt deadline.
  int64_t timeout_us = 60'000'000;
  /// Per-task deadline over all attempts, -1 for none.
  int64_t deadline_us = -1;
  /// Seeds jitter draws.
  uint64_t jitter_seed = 0;
  /// Time zero of the run on the actor clock (virtual under test).
  caf::actor_clock::time_point run_start;
  /// Retries wait for the listener's permit (rate limit, adaptive).
  bool gated = false;
  /// Told of each finished attempt (the library's on_attempt), on the
  /// worker's thread: must not block. Empty for none, at no cost.
  std::function<void(const attempt_event&)> on_attempt;
  /// Tests only: called at each fault point; a hook that throws kills the
  /// worker there, as a bug would, so that supervision can be tested.
  std::function<void(worker_fault_point, const task_spec&)> fault;
};

/// Spawns a worker.
worker_actor spawn_worker(caf::actor_system& sys, worker_config cfg);

} // namespace troupe
