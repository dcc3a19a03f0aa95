#pragma once

// Runs a program as a child process with its output captured in files and a
// hard time limit, so an end-to-end test fails instead of hanging.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace troupe::test {

/// How a child ended.
struct process_result {
  /// The exit code, or 128 + signal number if a signal ended it.
  int code = -1;
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// A running child process.
class child_process {
public:
  /// Starts `args[0]` with `args` in `cwd` (empty: the current folder).
  /// `env` entries ("NAME=value") are added to the environment, each in
  /// place of the variable of that name, if it is set.
  explicit child_process(std::vector<std::string> args, std::string cwd = "",
                         std::vector<std::string> env = {});
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void signal(int sig);

  /// Waits at most `limit`, then kills the child (SIGKILL) and says so.
  process_result wait(std::chrono::milliseconds limit);

  pid_t pid() const noexcept {
    return pid_;
  }

  /// The file the child's standard output goes to.
  const std::string& stdout_path() const noexcept {
    return out_path_;
  }

  /// The file the child's standard error goes to (to wait for a message).
  const std::string& stderr_path() const noexcept {
    return err_path_;
  }

private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
  bool reaped_ = false;
};

/// Runs a command to its end, within `limit`.
process_result run_process(std::vector<std::string> args,
                           std::chrono::milliseconds limit
                           = std::chrono::seconds{60},
                           std::string cwd = "");

/// The troupe binary under test.
std::string troupe_binary();

/// The source folder (for config/examples and tests/ manifests).
std::string source_dir();

/// Waits until `pred` holds, polling every 10 ms; false after `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit);

} // namespace troupe::test

#include <thread>

namespace troupe::test {

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return true;
}

} // namespace troupe::test
