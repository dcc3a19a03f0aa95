// The library's callback thread.

#include "runtime/callback_thread.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace troupe::runtime {

callback_thread::callback_thread(
  callbacks cbs, std::function<std::optional<run_status>()> poll,
  std::function<void(const std::string&)> on_throw,
  std::function<void(bool)> on_backlog)
  : cbs_(std::move(cbs)),
    poll_(std::move(poll)),
    on_throw_(std::move(on_throw)),
    on_backlog_(std::move(on_backlog)) {
  thread_ = std::thread([this] { loop(); });
}

callback_thread::~callback_thread() {
  // Without finish(): the run never started (its constructor threw), so
  // nothing is delivered, not even a last progress.
  if (!thread_.joinable())
    return;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    abandoned_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void callback_thread::push(const task_result& r) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    events_.emplace_back(r);
    queued();
  }
  cv_.notify_one();
}

void callback_thread::push(const attempt_event& e) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    events_.emplace_back(e);
    queued();
  }
  cv_.notify_one();
}

// With mtx_ held, as every change of pending_ and holding_: the two words
// to the supervisor keep their order.
void callback_thread::queued() {
  if (++pending_ < backlog_high || holding_)
    return;
  holding_ = true;
  if (on_backlog_)
    on_backlog_(true);
}

void callback_thread::delivered() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (--pending_ > backlog_low || !holding_)
    return;
  holding_ = false;
  if (on_backlog_)
    on_backlog_(false);
}

void callback_thread::finish(const run_status& final_status) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    final_ = final_status;
  }
  cv_.notify_one();
  if (thread_.joinable())
    thread_.join();
}

std::exception_ptr callback_thread::failure() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return failure_;
}

bool callback_thread::on_this_thread() const noexcept {
  return std::this_thread::get_id() == thread_.get_id();
}

// Calls `f` unless a callback threw before; catches what it throws.
void callback_thread::call(const std::function<void()>& f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (failure_)
      return;
  }
  try {
    f();
  } catch (...) {
    auto ex = std::current_exception();
    std::string what = "a callback threw";
    try {
      std::rethrow_exception(ex);
    } catch (const std::exception& e) {
      what += ": ";
      what += e.what();
    } catch (...) {
      what += " a non-standard exception";
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      failure_ = ex;
    }
    if (on_throw_)
      on_throw_(what);
  }
}

void callback_thread::deliver(const event& ev) {
  if (auto* r = std::get_if<task_result>(&ev)) {
    if (cbs_.on_result)
      call([&] { cbs_.on_result(*r); });
  } else if (cbs_.on_attempt) {
    call([&] { cbs_.on_attempt(std::get<attempt_event>(ev)); });
  }
}

void callback_thread::loop() {
  using clock = std::chrono::steady_clock;
  auto interval = std::chrono::milliseconds{
    std::max<int64_t>(cbs_.progress_interval_ms, 1)};
  auto next_progress = clock::now() + interval;
  for (;;) {
    std::deque<event> batch;
    bool ending = false;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      auto ready = [this] {
        return !events_.empty() || final_.has_value() || abandoned_;
      };
      if (cbs_.on_progress)
        cv_.wait_until(lock, next_progress, ready);
      else
        cv_.wait(lock, ready);
      if (abandoned_)
        return;
      batch.swap(events_);
      ending = final_.has_value();
    }
    // Callbacks run without any of troupe's locks held.
    for (auto& ev : batch) {
      deliver(ev);
      delivered();
    }
    if (ending) {
      // Events queued meanwhile (none: the run is over) and the last word.
      std::deque<event> rest;
      run_status last;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        rest.swap(events_);
        last = *final_;
      }
      for (auto& ev : rest) {
        deliver(ev);
        delivered();
      }
      if (cbs_.on_progress && cbs_.progress_at_end)
        call([&] { cbs_.on_progress(last); });
      return;
    }
    if (cbs_.on_progress && clock::now() >= next_progress) {
      next_progress = clock::now() + interval;
      if (auto s = poll_ ? poll_() : std::nullopt)
        call([&] { cbs_.on_progress(*s); });
    }
  }
}

} // namespace troupe::runtime
