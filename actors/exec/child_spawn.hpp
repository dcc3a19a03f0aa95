#pragma once

// Starts one command with three pipes, as the process pool needs it: in
// its own process group, in a given folder, with an empty signal mask and
// default signal actions, and no file descriptor of troupe's but the pipes.

#include <sys/types.h>

#include <string>
#include <vector>

namespace troupe {

/// A started child: its pid and our ends of its pipes (non-blocking,
/// close-on-exec), or the errno that kept it from starting.
struct spawned_child {
  int error = 0;
  pid_t pid = -1;
  int in = -1;
  int out = -1;
  int err = -1;
};

/// Starts `argv` (a null-terminated list; argv[0] found on PATH unless it
/// holds a '/') in `working_dir` (empty: troupe's own).
spawned_child spawn_child(const std::vector<char*>& argv,
                          const std::string& working_dir);

/// Drops a child from the live set (kill_all_commands) just before it is
/// reaped: a pid in the set is never a stranger's.
void forget_child(pid_t pid);

/// SIGKILLs the process group of every child started and not yet reaped,
/// in every pool; for a process about to _exit (a second Ctrl+C), which
/// would leave them orphaned. Thread-safe.
void kill_all_commands() noexcept;

/// SIGKILLs the child's process group, and the child itself in case it
/// left the group (setsid).
void kill_group(pid_t pid);

} // namespace troupe
