// The --hold-until-active barrier: a list of held calls under one mutex, and
// one timer per wait.

#include "tools/fake_dify/hold_barrier.hpp"

#include <utility>
#include <vector>

namespace troupe::fake_dify {

hold_barrier::hold_barrier(boost::asio::io_context& ioc, int64_t need,
                           std::chrono::milliseconds timeout)
  : need_(need), timeout_(timeout), timer_(ioc) {}

uint64_t hold_barrier::enter(int64_t open, wake_fn wake) {
  std::vector<wake_fn> woken;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (released_)
      return 0;
    id = next_id_++;
    held_.emplace(id, std::move(wake));
    if (open >= need_) {
      // The N-th call: everyone goes, this one included, and for good.
      released_ = true;
      timer_.cancel();
      for (auto& [_, w] : held_)
        woken.push_back(std::move(w));
      held_.clear();
    } else if (held_.size() == 1) {
      // The first call of a wait starts its clock.
      auto window = ++window_;
      timer_.expires_after(timeout_);
      timer_.async_wait([this, window](boost::system::error_code ec) {
        if (!ec)
          on_timeout(window);
      });
    }
  }
  for (auto& w : woken)
    w(outcome::release, {});
  return id;
}

bool hold_barrier::leave(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  return held_.erase(id) > 0;
}

hold_barrier::state hold_barrier::snapshot() {
  std::lock_guard<std::mutex> guard{mtx_};
  return {static_cast<int64_t>(held_.size()), released_, timeouts_};
}

void hold_barrier::on_timeout(uint64_t window) {
  std::vector<wake_fn> woken;
  std::string message;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (released_ || window != window_ || held_.empty())
      return;
    message = "hold-until-active: only " + std::to_string(held_.size()) + " of "
              + std::to_string(need_) + " calls arrived within "
              + std::to_string(timeout_.count()) + " ms";
    ++timeouts_;
    // The next call starts a new wait (and a new window).
    ++window_;
    for (auto& [_, w] : held_)
      woken.push_back(std::move(w));
    held_.clear();
  }
  for (auto& w : woken)
    w(outcome::fail, message);
}

} // namespace troupe::fake_dify
