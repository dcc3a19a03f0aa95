#pragma once

// A custom executor as a plain function (issue 15), and the token it polls
// to learn whether the run asked its attempt to stop. Copies of a token
// share one state; the executor sets it, the function reads it, from any
// thread. Part of the public API (runtime/troupe.hpp): no heavy CAF here.

#include "messages/execution.hpp"

#include <atomic>
#include <functional>
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

/// Runs one attempt and classifies it; may block (it runs on a pool
/// thread). A function that throws ends the attempt as outcome::error with
/// the exception's what().
using execute_function
  = std::function<attempt_reply(const attempt_request&, cancel_token)>;

} // namespace troupe
