#pragma once

// An executor that runs a user's function per attempt (issue 15) on a
// bounded pool of threads of its own, since the function may block:
//
//   worker ─execute─▶ function_executor ─post─▶ pool thread: fn(req, token)
//     ▲                    │   ▲                         │
//     └──── reply ─────────┘   └──── (reply, id, answer) ┘
//
// The pool thread hands the answer back as a message, and the actor
// delivers the worker's promise on its own thread. `abort` (deadline, run
// aborted) sets the token's aborted() and drops the attempt: its answer is
// ignored. `cancel` (graceful) sets cancelled(); the answer still counts.

#include "actors/executor.hpp"
#include "actors/function/execute_function.hpp"
#include "actors/function/thread_pool.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <memory>

namespace troupe {

/// The function executor's handle; `reply` is internal (a pool thread's
/// answer).
using function_executor_actor
  = executor_actor::extend<caf::reacts_to<reply_atom, uint64_t, attempt_reply>>;

/// The function executor's parameters.
struct function_executor_config {
  execute_function fn;
  /// Runs fn; shared with whoever stops it once the actor system is down
  /// (never from one of its own threads).
  std::shared_ptr<thread_pool> pool;
};

/// Spawns a function executor.
function_executor_actor spawn_function_executor(caf::actor_system& sys,
                                                function_executor_config cfg);

} // namespace troupe
