#pragma once

// fake-dify's `--hold-until-active N` barrier: run calls are held, unanswered,
// until N are open at once, so a test can see N calls in flight however slow
// the client's ramp; or they fail together once the wait runs out.
//
//   call ─▶ enter ─▶ open < N: held ─┬─ open reaches N ─▶ wake(release), all
//                 └▶ released: go on  └─ T ms after the first ─▶ wake(fail)

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

namespace troupe::fake_dify {

/// Holds run calls until `need` are open at once.
class hold_barrier {
public:
  /// How a hold ends: every held call goes on, or answers 503 with the text.
  enum class outcome { release, fail };

  /// Called once per held call, from any thread, when its hold ends.
  using wake_fn = std::function<void(outcome, const std::string& message)>;

  /// What /_fake/stats shows of the barrier.
  struct state {
    int64_t held = 0;
    bool released = false;
    int64_t timeouts = 0;
  };

  hold_barrier(boost::asio::io_context& ioc, int64_t need,
               std::chrono::milliseconds timeout);

  /// A run call arrives while `open` calls are open, itself included.
  /// Returns 0 when it goes on at once, else the id of its hold; then `wake`
  /// is called exactly once, unless `leave(id)` comes first.
  uint64_t enter(int64_t open, wake_fn wake);

  /// The held call `id` went away (its client closed); false when its wake
  /// call is already under way.
  bool leave(uint64_t id);

  state snapshot();

private:
  void on_timeout(uint64_t window);

  int64_t need_;
  std::chrono::milliseconds timeout_;
  std::mutex mtx_;
  boost::asio::steady_timer timer_;
  bool released_ = false;
  uint64_t window_ = 0; // one per wait; a stale timer sees another
  uint64_t next_id_ = 1;
  std::map<uint64_t, wake_fn> held_;
  int64_t timeouts_ = 0;
};

} // namespace troupe::fake_dify
