#pragma once

// The one thread that calls a library user's callbacks (runtime/troupe.hpp):
// actors only queue events, never wait, so no callback runs while troupe
// holds a lock it could deadlock on, and events come out in the order they
// went in. Progress comes from a poll at the set interval, and once more at
// the end. Callbacks slower than the run do not fill memory: with
// `backlog_high` events waiting, `on_backlog(true)` holds new tasks (the
// supervisor's dispatch gate) until only `backlog_low` are left.

#include "runtime/troupe.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

namespace troupe::runtime {

/// Calls the callbacks, on a thread of its own.
class callback_thread {
public:
  /// Events queued and not yet delivered at which new tasks are held, and
  /// down to which they stay held.
  static constexpr size_t backlog_high = 8192;
  static constexpr size_t backlog_low = 1024;

  /// `poll` gives a fresh status for on_progress (nullopt: skip this one);
  /// `on_throw` is told (once) what a callback threw; `on_backlog` whether
  /// new tasks must wait, called in order under the queue's lock (so it
  /// must not block: a message to send).
  callback_thread(callbacks cbs,
                  std::function<std::optional<run_status>()> poll,
                  std::function<void(const std::string&)> on_throw,
                  std::function<void(bool)> on_backlog = {});
  callback_thread(const callback_thread&) = delete;
  callback_thread& operator=(const callback_thread&) = delete;
  /// Without finish() before: stops the thread and calls no callback.
  ~callback_thread();

  /// Queue a result or an attempt event; any thread, never blocks long.
  void push(const task_result& r);
  void push(const attempt_event& e);

  /// Delivers what is queued, then on_progress(final_status), and joins.
  /// Call it once no more events can come.
  void finish(const run_status& final_status);

  /// What the first callback that threw threw, if any (after finish()).
  std::exception_ptr failure() const;

  /// Whether the caller is the callback thread.
  bool on_this_thread() const noexcept;

private:
  using event = std::variant<task_result, attempt_event>;
  void loop();
  void deliver(const event& ev);
  /// After each event delivered (or skipped): ends a hold once caught up.
  void delivered();
  /// With mtx_ held, after an event went in: starts a hold if due.
  void queued();
  void call(const std::function<void()>& f);

  callbacks cbs_;
  std::function<std::optional<run_status>()> poll_;
  std::function<void(const std::string&)> on_throw_;
  std::function<void(bool)> on_backlog_;
  /// Events pushed and not yet delivered (queued or in the loop's batch),
  /// and whether on_backlog(true) was the last word; both under mtx_.
  size_t pending_ = 0;
  bool holding_ = false;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<event> events_;
  std::optional<run_status> final_;
  bool abandoned_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

} // namespace troupe::runtime
