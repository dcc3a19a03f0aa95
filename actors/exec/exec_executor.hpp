#pragma once

// The executor for exec targets: runs the target's command once per
// attempt on a process pool with its own I/O thread, and classifies how it
// ended (exec_protocol.hpp).
//
//   worker ──execute──▶ exec_executor ──submit──▶ process_pool (I/O thread)
//          ◀──reply───        ▲  ◀──reply (id, classified), a message──┘
//
// abort (the attempt's deadline, or a run aborted) SIGKILLs the command's
// process group and reaps it; cancel (Ctrl+C) lets the command finish, as a
// blocking HTTP call does. The actor's end kills and reaps every command.

#include "actors/exec/process_pool.hpp"
#include "actors/executor.hpp"

#include <caf/fwd.hpp>

namespace troupe {

/// The executor's handle; `reply` comes from the pool's thread.
using exec_executor_actor
  = executor_actor::extend<caf::reacts_to<reply_atom, uint64_t, attempt_reply>>;

/// Spawns the executor and starts its pool, which runs `opts.argv` with at
/// most `opts.size` commands at a time.
exec_executor_actor spawn_exec_executor(caf::actor_system& sys,
                                        process_pool_options opts);

} // namespace troupe
