#pragma once

// What a custom function executor polls while it runs an attempt: whether
// the run asked it to stop. Copies share one state; the executor sets it,
// the function reads it, from any thread. No CAF here: it is part of the
// public API (runtime/troupe.hpp).

#include <atomic>
#include <memory>

namespace troupe {

/// A stop signal shared by an executor and the function running an attempt.
class cancel_token {
public:
  /// A token nobody has stopped yet.
  cancel_token() : state_(std::make_shared<state>()) {}

  /// True once the run asked the attempt to stop: after a graceful cancel
  /// (Ctrl+C, run_handle::cancel) and after an abort. The function may
  /// finish early; its reply still counts after a graceful cancel.
  bool cancelled() const noexcept {
    return state_->cancelled.load(std::memory_order_acquire) || aborted();
  }

  /// True once the attempt's deadline passed or the run was aborted: the
  /// reply will be dropped, so the function should return at once.
  bool aborted() const noexcept {
    return state_->aborted.load(std::memory_order_acquire);
  }

  /// Executor side: asks for a graceful stop.
  void request_cancel() noexcept {
    state_->cancelled.store(true, std::memory_order_release);
  }

  /// Executor side: the reply is no longer wanted.
  void request_abort() noexcept {
    state_->aborted.store(true, std::memory_order_release);
  }

private:
  struct state {
    std::atomic<bool> cancelled{false};
    std::atomic<bool> aborted{false};
  };
  std::shared_ptr<state> state_;
};

} // namespace troupe
