// The function executor's thread pool.

#include "actors/function/thread_pool.hpp"

#include <utility>

namespace troupe {

thread_pool::thread_pool(size_t size) {
  threads_.reserve(size);
  for (size_t i = 0; i < size; ++i)
    threads_.emplace_back([this] { loop(); });
}

thread_pool::~thread_pool() {
  stop();
}

void thread_pool::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void thread_pool::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
    dropped.swap(jobs_);
  }
  cv_.notify_all();
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
}

void thread_pool::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_)
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // Run outside the lock: a job may block for as long as it likes.
    job();
  }
}

} // namespace troupe
