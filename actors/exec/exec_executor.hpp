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

#include "actors/executor.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// The executor's handle; `reply` comes from the pool's thread.
using exec_executor_actor
  = executor_actor::extend<caf::reacts_to<reply_atom, uint64_t, attempt_reply>>;

/// The executor's parameters.
struct exec_executor_config {
  /// The command and its arguments, and the folder it runs in.
  std::vector<std::string> argv;
  std::string working_dir;
  /// The most commands running at a time.
  uint32_t pool = 1;
  /// More stdout than this kills the command (ERROR, not retried).
  uint64_t max_stdout_bytes = 16 * 1024 * 1024;
  /// The tail of stderr kept for `error`.
  uint64_t max_stderr_bytes = 4096;
};

/// Spawns the executor and starts its pool.
exec_executor_actor spawn_exec_executor(caf::actor_system& sys,
                                        exec_executor_config cfg);

} // namespace troupe
