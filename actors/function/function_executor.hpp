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
#include <optional>

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

/// A program's output must be one JSON text, since the results file takes
/// it as it is: parsed and written back compactly, or, when it does not
/// parse, `reply` becomes an ERROR that is not retried (outcome::error_final,
/// "output is not JSON: ...", error_code malformed_response). False then.
/// The built-in executors skip it: their outputs are compact JSON already.
bool check_output(attempt_reply& reply);

/// One attempt on a pool thread: nothing when the attempt was aborted
/// before a thread took it or while fn ran (nobody waits for the reply);
/// else fn's reply (its exception as an ERROR), through check_output.
std::optional<attempt_reply> run_attempt(const execute_function& fn,
                                         const attempt_request& req,
                                         const cancel_token& token);

/// An executor in front of a program's actor `inner`: forwards everything,
/// and puts `inner`'s replies through check_output. Linked to `inner`.
executor_actor spawn_output_checker(caf::actor_system& sys,
                                    executor_actor inner);

/// Spawns a function executor.
function_executor_actor spawn_function_executor(caf::actor_system& sys,
                                                function_executor_config cfg);

} // namespace troupe
