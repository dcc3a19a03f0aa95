// SIGINT/SIGTERM on a dedicated thread.

#include "runtime/signals.hpp"

#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <ctime>

namespace troupe::runtime {

namespace {

// SIGUSR1 only wakes the watcher when it should stop.
sigset_t watched_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  return set;
}

} // namespace

signal_watcher::signal_watcher() {
  auto set = watched_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void signal_watcher::stop() {
  stop_ = true;
  if (thread_.joinable()) {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
}

signal_watcher::~signal_watcher() {
  stop();
  // A signal that arrived after the run ended is dropped, not delivered.
  auto set = watched_signals();
  timespec zero{0, 0};
  while (sigtimedwait(&set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

void signal_watcher::start(std::shared_ptr<std::mutex> write_lock,
                           std::function<void(int)> on_first) {
  thread_ = std::thread{
    [this, write_lock = std::move(write_lock), on_first = std::move(on_first)] {
      auto set = watched_signals();
      timespec tick{0, 100'000'000};
      while (!stop_) {
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig <= 0 || sig == SIGUSR1)
          continue;
        if (count_.fetch_add(1) == 0) {
          on_first(sig);
        } else {
          static const char msg[] = "\ntroupe: second interrupt, exiting now\n";
          auto n = ::write(STDERR_FILENO, msg, sizeof(msg) - 1);
          (void)n;
          // Commands die first: the write lock may be held for long (a
          // slow disk), and nothing may outlive troupe meanwhile.
          if (on_second_)
            on_second_();
          // Let the write in progress end on its line boundary; no other
          // starts, since the lock is never given back.
          if (write_lock)
            write_lock->lock();
          ::_exit(130);
        }
      }
    }};
}

} // namespace troupe::runtime
