#pragma once

// Starts one command with three pipes, as the process pool needs it: in
// its own process group, in a given folder, with an empty signal mask and
// default signal actions, and no file descriptor of troupe's but the pipes.

#include <sys/types.h>

#include <chrono>
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

/// Closes `fd` unless it is already -1, and sets it to -1.
void close_fd(int& fd);

/// Drops a child from the live set (kill_all_commands) just before it is
/// reaped: a pid in the set is never a stranger's.
void forget_child(pid_t pid);

/// SIGKILLs the process group of every child started and not yet reaped,
/// in every pool, and makes every later spawn_child fail (ECANCELED); for
/// a process about to _exit (a second Ctrl+C), which would leave them
/// orphaned. Thread-safe.
void kill_all_commands() noexcept;

/// SIGKILLs the child's process group, and the child itself in case it
/// left the group (setsid); false when the child could not be signalled
/// (EPERM: a setuid command), true when it was or is already gone.
bool kill_group(pid_t pid);

/// Whether `pid` is still a child of ours, running or a zombie: only then
/// is its number (and its group's) surely not a stranger's, so the pool
/// signals a child only after asking this.
bool still_ours(pid_t pid);

/// A pidfd for the child (close-on-exec), or -1 (a kernel before 5.3).
int open_pidfd(pid_t pid);

/// Reaps these SIGKILLed children, waiting at most `limit` in all; one
/// that does not die by then (a kill refused: EPERM) is left, with a line
/// on stderr, rather than blocking the pool's end forever.
void reap_within(std::vector<pid_t> pids, std::chrono::milliseconds limit);

/// Why this process cannot run commands, "" when it can: with SIGCHLD
/// ignored (SIG_IGN) or SA_NOCLDWAIT the kernel reaps every child itself,
/// its exit status is lost and its number may be reused while troupe still
/// holds it. troupe, a library too, does not change the host's handlers.
std::string sigchld_problem();

} // namespace troupe
