// The process pool's loop: the queue, the three pipes, exit and reaping
// (child_spawn.cpp starts each command). A child's exit is seen through a
// pidfd in the same epoll set, before it is reaped, so that its process
// group can still be killed safely by number.

#include "actors/exec/process_pool.hpp"

#include "actors/exec/child_spawn.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace troupe {

namespace {

/// What an epoll event is about: the low two bits of its tag.
enum fd_kind : uint64_t { in_fd = 0, out_fd = 1, err_fd = 2, exit_fd = 3 };

constexpr uint64_t wake_tag = ~uint64_t{0};

/// Bytes read from one pipe per turn, so that one chatty child cannot
/// starve the others; and at most this much more once a child exited.
constexpr size_t read_chunk = 64 * 1024;
constexpr size_t drain_limit = 1024 * 1024;

struct child {
  uint64_t id = 0;
  pid_t pid = -1;
  int pidfd = -1;
  int in = -1;
  int out = -1;
  int err = -1;
  std::string input;
  size_t written = 0;
  process_outcome result;
  /// By kill(): reaped, not reported.
  bool killed = false;
};

struct job {
  uint64_t id = 0;
  std::string input;
};

} // namespace

struct process_pool::impl {
  process_pool_options opts;
  std::vector<char*> argv;
  int epfd = -1;
  int wakefd = -1;
  std::thread thread;
  done_fn on_done;
  std::atomic<uint32_t> peak{0};

  // From other threads, under the mutex.
  std::mutex mutex;
  std::vector<job> incoming;
  std::vector<uint64_t> kills;
  bool stopping = false;

  // The loop's own.
  std::deque<job> queue;
  std::unordered_map<uint64_t, child> children;   // by slot
  std::unordered_map<uint64_t, uint64_t> slot_of; // id to slot
  uint64_t next_slot = 0;
  size_t without_pidfd = 0;
  std::vector<process_outcome> done;

  explicit impl(process_pool_options o) : opts(std::move(o)) {
    for (auto& a : opts.argv)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wake_tag;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
  }

  ~impl() {
    close_fd(wakefd);
    close_fd(epfd);
  }

  // Closes a child's fd, out of the epoll set first: a copy of it elsewhere
  // would otherwise keep it registered.
  void drop(int& fd) {
    if (fd >= 0)
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    close_fd(fd);
  }

  void wake() {
    uint64_t one = 1;
    auto n = ::write(wakefd, &one, sizeof(one));
    (void)n;
  }

  // False when epoll refuses it (ENOMEM, ENOSPC: max_user_watches).
  bool watch(int fd, uint64_t slot, fd_kind kind, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = slot << 2 | kind;
    return ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
  }

  // Signals a child only while it is surely ours (not reaped by anyone).
  static void kill_child(const child& c) {
    if (still_ours(c.pid))
      kill_group(c.pid);
  }

  // Starts one job, or reports why it could not start.
  void spawn(job& j) {
    auto sp = spawn_child(argv, opts.working_dir);
    if (sp.error != 0) {
      process_outcome r;
      r.id = j.id;
      r.spawn_errno = sp.error;
      done.push_back(std::move(r));
      return;
    }
    auto slot = next_slot++;
    auto& c = children[slot];
    slot_of[j.id] = slot;
    c.id = j.id;
    c.result.id = j.id;
    c.pid = sp.pid;
    c.input = std::move(j.input);
    c.in = sp.in;
    c.out = sp.out;
    c.err = sp.err;
    c.pidfd = opts.pidfd ? open_pidfd(sp.pid) : -1; // close-on-exec
    if (c.pidfd >= 0 && !watch(c.pidfd, slot, exit_fd, EPOLLIN))
      close_fd(c.pidfd);
    if (c.pidfd < 0)
      ++without_pidfd; // seen by waitid in each turn instead
    // An unwatched pipe is closed: the command sees EOF or EPIPE, and its
    // exit (always seen) reports how that went.
    for (auto [fd, kind] :
         {std::pair{&c.out, out_fd}, std::pair{&c.err, err_fd}})
      if (!watch(*fd, slot, kind, EPOLLIN))
        close_fd(*fd);
    if (!write_input(c) && !watch(c.in, slot, in_fd, EPOLLOUT))
      close_fd(c.in);
    auto alive = static_cast<uint32_t>(children.size());
    if (alive > peak.load())
      peak.store(alive);
  }

  // Writes what the pipe takes; true once stdin is written and closed.
  bool write_input(child& c) {
    while (c.in >= 0 && c.written < c.input.size()) {
      auto n
        = ::write(c.in, c.input.data() + c.written, c.input.size() - c.written);
      if (n > 0) {
        c.written += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        return false;
      } else {
        // EPIPE: the command exits without reading its input; its exit
        // status says how it went. SIGPIPE is blocked on this thread.
        consume_sigpipe();
        break;
      }
    }
    drop(c.in);
    c.input = std::string{};
    return true;
  }

  static void consume_sigpipe() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    timespec zero{0, 0};
    while (::sigtimedwait(&set, nullptr, &zero) > 0) {
    }
  }

  // Reads one pipe; `limit` bytes at most this turn.
  void read_pipe(child& c, fd_kind kind, size_t limit) {
    int& fd = kind == out_fd ? c.out : c.err;
    char buf[read_chunk];
    size_t total = 0;
    while (fd >= 0 && total < limit) {
      auto n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0) {
        drop(fd);
        return;
      }
      total += static_cast<size_t>(n);
      auto& r = c.result;
      if (kind == out_fd) {
        r.out.append(buf, static_cast<size_t>(n));
        if (r.out.size() > opts.max_stdout_bytes) {
          r.out.resize(opts.max_stdout_bytes);
          r.too_large = true;
          kill_child(c);
          drop(fd);
        }
      } else {
        r.err_bytes += static_cast<uint64_t>(n);
        r.err.append(buf, static_cast<size_t>(n));
        // Keep the tail, trimming in steps rather than per read.
        if (r.err.size() > 2 * opts.max_stderr_bytes + read_chunk)
          r.err.erase(0, r.err.size() - opts.max_stderr_bytes);
      }
    }
  }

  // The child exited (not yet reaped): take what its pipes still hold,
  // kill what it left in its group, reap it, report it.
  void finish(uint64_t slot) {
    auto i = children.find(slot);
    if (i == children.end())
      return;
    auto& c = i->second;
    read_pipe(c, out_fd, drain_limit);
    read_pipe(c, err_fd, drain_limit);
    kill_child(c);
    forget_child(c.pid);
    int status = 0;
    pid_t rc = -1;
    while ((rc = ::waitpid(c.pid, &status, 0)) < 0 && errno == EINTR) {
    }
    auto& r = c.result;
    if (rc != c.pid)
      r.wait_errno = rc < 0 ? errno : ECHILD;
    else if (WIFEXITED(status))
      r.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      r.signal = WTERMSIG(status);
    if (r.err.size() > opts.max_stderr_bytes)
      r.err.erase(0, r.err.size() - opts.max_stderr_bytes);
    for (int* fd : {&c.in, &c.out, &c.err})
      drop(*fd);
    if (c.pidfd >= 0)
      drop(c.pidfd);
    else
      --without_pidfd;
    if (!c.killed)
      done.push_back(std::move(r));
    slot_of.erase(c.id);
    children.erase(i);
  }

  void do_kill(uint64_t id) {
    auto q = std::find_if(queue.begin(), queue.end(),
                          [id](const job& j) { return j.id == id; });
    if (q != queue.end()) {
      queue.erase(q);
      return;
    }
    auto s = slot_of.find(id);
    if (s == slot_of.end())
      return;
    auto& c = children.at(s->second);
    c.killed = true;
    kill_child(c);
    // Its output no longer matters; the pidfd says when it is gone.
    for (int* fd : {&c.in, &c.out, &c.err})
      drop(*fd);
  }

  // Children without a pidfd (a kernel before 5.3): ended ones, unreaped.
  void poll_exits() {
    std::vector<uint64_t> ended;
    for (auto& [slot, c] : children) {
      if (c.pidfd >= 0)
        continue;
      siginfo_t info{};
      int rc = ::waitid(P_PID, static_cast<id_t>(c.pid), &info,
                        WEXITED | WNOHANG | WNOWAIT);
      // ECHILD: reaped by something else; it ended all the same.
      if ((rc == 0 && info.si_pid == c.pid) || (rc < 0 && errno == ECHILD))
        ended.push_back(slot);
    }
    for (auto slot : ended)
      finish(slot);
  }

  // Takes what other threads handed over; false once stopping.
  bool take_requests() {
    uint64_t count = 0;
    auto n = ::read(wakefd, &count, sizeof(count));
    (void)n;
    std::vector<job> jobs;
    std::vector<uint64_t> ids;
    {
      std::lock_guard<std::mutex> guard{mutex};
      if (stopping)
        return false;
      jobs.swap(incoming);
      ids.swap(kills);
    }
    for (auto& j : jobs)
      queue.push_back(std::move(j));
    for (auto id : ids)
      do_kill(id);
    return true;
  }

  void on_event(uint64_t tag, uint32_t events) {
    auto slot = tag >> 2;
    auto i = children.find(slot);
    if (i == children.end())
      return; // ended earlier in this turn
    switch (static_cast<fd_kind>(tag & 3)) {
      case in_fd:
        if (write_input(i->second) || (events & (EPOLLERR | EPOLLHUP)) != 0)
          drop(i->second.in);
        break;
      case out_fd:
      case err_fd:
        read_pipe(i->second, static_cast<fd_kind>(tag & 3), read_chunk * 4);
        break;
      case exit_fd:
        finish(slot);
        break;
    }
  }

  void loop() {
    // A child that exits without reading its stdin makes our write fail
    // with EPIPE; the signal that comes with it stays pending here.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    epoll_event events[64];
    bool running = true;
    while (running) {
      int timeout = without_pidfd > 0 ? 10 : -1;
      int n = ::epoll_wait(epfd, events, 64, timeout);
      for (int k = 0; k < n; ++k) {
        if (events[k].data.u64 == wake_tag)
          running = take_requests() && running;
        else
          on_event(events[k].data.u64, events[k].events);
      }
      if (without_pidfd > 0)
        poll_exits();
      while (running && !queue.empty() && children.size() < opts.size) {
        auto j = std::move(queue.front());
        queue.pop_front();
        spawn(j);
      }
      if (running && !done.empty() && on_done)
        on_done(std::move(done));
      done.clear();
    }
    // Stopping: nothing outlives the pool.
    std::vector<pid_t> pids;
    for (auto& [slot, c] : children) {
      if (still_ours(c.pid)) {
        kill_group(c.pid);
        pids.push_back(c.pid);
      }
      forget_child(c.pid);
      for (int* fd : {&c.in, &c.out, &c.err, &c.pidfd})
        drop(*fd);
    }
    reap_within(pids, std::chrono::seconds{2});
    children.clear();
    queue.clear();
  }
};

process_pool::process_pool(process_pool_options opts)
  : impl_(std::make_unique<impl>(std::move(opts))) {
  if (impl_->opts.size == 0)
    impl_->opts.size = 1;
}

process_pool::~process_pool() {
  stop();
}

std::string process_pool::start(done_fn on_done) {
  if (auto why = sigchld_problem(); !why.empty())
    return why;
  impl_->on_done = std::move(on_done);
  impl_->thread = std::thread{[this] { impl_->loop(); }};
  return "";
}

void process_pool::submit(uint64_t id, std::string input) {
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->incoming.push_back(job{id, std::move(input)});
  }
  impl_->wake();
}

void process_pool::kill(uint64_t id) {
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->kills.push_back(id);
  }
  impl_->wake();
}

void process_pool::stop() {
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->stopping = true;
  }
  impl_->wake();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

uint32_t process_pool::peak() const noexcept {
  return impl_->peak.load();
}

} // namespace troupe
