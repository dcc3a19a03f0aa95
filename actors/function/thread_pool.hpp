#pragma once

// A fixed set of threads that run posted jobs in order, for executors whose
// work blocks (a user's function). Not an actor: the function executor owns
// the jobs' results, the pool only their threads.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace troupe {

/// Runs jobs on `size` threads.
class thread_pool {
public:
  explicit thread_pool(size_t size);
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  /// Stops and joins (see stop()). Never call it from a job.
  ~thread_pool();

  /// Queues `job`; dropped once the pool stopped.
  void post(std::function<void()> job);

  /// Drops the jobs not yet started, waits for the running ones to return
  /// and joins the threads. Idempotent; never call it from a job.
  void stop();

  /// The number of threads.
  size_t size() const noexcept {
    return threads_.size();
  }

private:
  void loop();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace troupe
