#pragma once

// A pool of child processes driven by one epoll loop in a thread of its own:
// at most `size` commands run at a time, the rest wait in a queue; each gets
// its stdin bytes, and its stdout and stderr are read (both capped) until it
// exits. No thread waits per process: a hung command costs a pid and four
// file descriptors, nothing more.
//
//   submit(id, stdin) ─▶ queue ─▶ posix_spawnp (own process group, the
//   working folder, every other fd closed) ─▶ epoll: stdin ▶ ◀ stdout,
//   stderr, pidfd (exit) ─▶ done_fn(batch of process_outcome)
//
// When a command exits, what is left of its process group (children it
// started and did not wait for) is killed, so nothing outlives its attempt.
// kill(id) and the pool's end SIGKILL the whole group and reap the child.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

/// What a pool runs, and its caps.
struct process_pool_options {
  /// The command and its arguments (argv[0] found on PATH unless it holds
  /// a '/').
  std::vector<std::string> argv;
  /// The folder it runs in; empty for troupe's own.
  std::string working_dir;
  /// The most processes alive at a time (killed ones count until reaped).
  uint32_t size = 1;
  /// More stdout than this kills the process (process_outcome::too_large).
  uint64_t max_stdout_bytes = 16 * 1024 * 1024;
  /// The last this many bytes of stderr are kept.
  uint64_t max_stderr_bytes = 4096;
  /// Sees exits through pidfds in the epoll set; false polls waitid each
  /// 10 ms instead, as the pool does by itself on kernels before 5.3 or
  /// when epoll refuses a pidfd (tests set it to check that path).
  bool pidfd = true;
};

/// How one process ended.
struct process_outcome {
  uint64_t id = 0;
  /// posix_spawnp failed: its errno (the other fields say nothing).
  int spawn_errno = 0;
  /// waitpid failed (ECHILD: something else reaped the process): its
  /// errno; the exit status is unknown and exit_code and signal say nothing.
  int wait_errno = 0;
  /// The exit status, or -1 when a signal ended the process.
  int exit_code = -1;
  /// The signal that ended it, 0 when it exited.
  int signal = 0;
  /// Its stdout passed max_stdout_bytes and the pool killed it.
  bool too_large = false;
  /// Its stdout (at most max_stdout_bytes).
  std::string out;
  /// The tail of its stderr, and how many bytes it wrote in all.
  std::string err;
  uint64_t err_bytes = 0;
};

/// The pool. Destroying it kills and reaps every process; no callback runs
/// afterwards.
class process_pool {
public:
  /// Processes that ended in one turn of the loop, delivered together.
  using done_fn = std::function<void(std::vector<process_outcome>&& done)>;

  explicit process_pool(process_pool_options opts);
  ~process_pool();

  process_pool(const process_pool&) = delete;
  process_pool& operator=(const process_pool&) = delete;

  /// Starts the loop, `on_done` to run on the pool's thread; or refuses,
  /// saying why (sigchld_problem() in child_spawn.hpp), with nothing
  /// started. "" when started.
  std::string start(done_fn on_done);

  /// Runs the command once with `input` on its stdin (thread-safe); its
  /// end is reported once, unless it is killed first.
  void submit(uint64_t id, std::string input);

  /// Drops a queued run, or SIGKILLs a running one's process group and
  /// reaps it (thread-safe); nothing is reported for it.
  void kill(uint64_t id);

  /// Kills and reaps every process and stops the loop; idempotent.
  void stop();

  /// The most processes that were alive at once so far.
  uint32_t peak() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace troupe
