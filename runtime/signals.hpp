#pragma once

// Ctrl+C handling for a run: the first SIGINT (or SIGTERM) calls a handler
// that asks the supervisor to cancel; the second exits at once with 130.
// Signals are taken by a thread of their own through sigtimedwait, so no
// code runs in a signal handler and no actor thread is interrupted.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace troupe::runtime {

/// Watches SIGINT and SIGTERM while it lives. Construct it before any other
/// thread starts, so that every thread inherits the blocked signal mask.
class signal_watcher {
public:
  signal_watcher();

  ~signal_watcher();

  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;

  /// Starts watching; `on_first` runs on the watcher's thread. A second
  /// signal takes `write_lock` (the result sink's) before it exits, so that
  /// the results file ends on a whole line.
  void start(std::shared_ptr<std::mutex> write_lock,
             std::function<void(int)> on_first);

  /// Runs `f` on a second signal, before taking the write lock and
  /// exiting (exec targets kill their commands there); call before start().
  void on_second(std::function<void()> f) {
    on_second_ = std::move(f);
  }

  /// Stops watching; later signals stay blocked until destruction.
  void stop();

  /// Whether a signal has arrived.
  bool signalled() const noexcept {
    return count_.load() > 0;
  }

private:
  std::atomic<int> count_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::function<void()> on_second_;
};

} // namespace troupe::runtime
