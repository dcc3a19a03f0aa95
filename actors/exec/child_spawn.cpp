// posix_spawnp with the pipes and attributes of a pool's child.
//
// troupe ignores SIGPIPE and blocks SIGINT/SIGTERM on its threads; a
// command must inherit neither, so the child gets an empty mask and every
// signal's default action. Its own process group lets one kill reach what
// it starts, and keeps a terminal's Ctrl+C (sent to troupe's foreground
// group) from reaching it: a graceful cancel lets it finish. closefrom in
// the child keeps out the descriptors of libraries that forget O_CLOEXEC.

#include "actors/exec/child_spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_set>

extern char** environ;

namespace troupe {

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

namespace {

// A pipe end moved to 3 or above: at 0..2 (troupe started with a closed
// stdin) the child's dup2 of another pipe would overwrite it.
int above_stdio(int fd) {
  if (fd > 2)
    return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

/// Every pool's unreaped children. The mutex is held across posix_spawnp
/// and the insert, so that kill_all_commands misses no child; once it ran,
/// `dying` keeps any more from starting.
std::mutex live_mutex;
std::unordered_set<pid_t> live_pids;
bool dying = false;

} // namespace

void forget_child(pid_t pid) {
  std::lock_guard<std::mutex> guard{live_mutex};
  live_pids.erase(pid);
}

void kill_all_commands() noexcept {
  std::lock_guard<std::mutex> guard{live_mutex};
  dying = true;
  for (auto pid : live_pids)
    kill_group(pid);
}

bool kill_group(pid_t pid) {
  ::kill(-pid, SIGKILL);
  return ::kill(pid, SIGKILL) == 0 || errno == ESRCH;
}

bool still_ours(pid_t pid) {
  // WNOWAIT: a zombie stays one, for the waitpid that reports it.
  siginfo_t info{};
  int rc = 0;
  do {
    rc = ::waitid(P_PID, static_cast<id_t>(pid), &info,
                  WEXITED | WNOHANG | WNOWAIT);
  } while (rc < 0 && errno == EINTR);
  return rc == 0;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

void reap_within(std::vector<pid_t> pids, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (true) {
    // Gone from the list once reaped, or once it is no child of ours.
    pids.erase(std::remove_if(pids.begin(), pids.end(),
                              [](pid_t pid) {
                                pid_t rc = 0;
                                do {
                                  rc = ::waitpid(pid, nullptr, WNOHANG);
                                } while (rc < 0 && errno == EINTR);
                                return rc != 0;
                              }),
               pids.end());
    if (pids.empty() || std::chrono::steady_clock::now() >= end)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  for (auto pid : pids)
    std::fprintf(stderr,
                 "troupe: exec: command (pid %d) still runs after SIGKILL "
                 "(%s); left behind unreaped\n",
                 static_cast<int>(pid),
                 ::kill(pid, SIGKILL) == 0 ? "no reason known"
                                           : std::strerror(errno));
}

std::string sigchld_problem() {
  struct sigaction sa {};
  if (::sigaction(SIGCHLD, nullptr, &sa) != 0)
    return "";
  const char* why = nullptr;
  if ((sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == SIG_IGN)
    why = "SIGCHLD is ignored (SIG_IGN)";
  else if ((sa.sa_flags & SA_NOCLDWAIT) != 0)
    why = "SIGCHLD's handler has SA_NOCLDWAIT";
  if (why == nullptr)
    return "";
  return std::string{why}
         + " in this process, so the kernel reaps commands itself and their "
           "exit status is lost; an exec target needs SIGCHLD's default "
           "action or a handler without SA_NOCLDWAIT";
}

spawned_child spawn_child(const std::vector<char*>& argv,
                          const std::string& working_dir) {
  spawned_child out;
  int p[3][2];
  bool pipes_ok = true;
  for (auto& pipe : p) {
    if (::pipe2(pipe, O_CLOEXEC) != 0) {
      out.error = errno;
      pipe[0] = pipe[1] = -1;
    } else {
      pipe[0] = above_stdio(pipe[0]);
      pipe[1] = above_stdio(pipe[1]);
    }
    pipes_ok = pipes_ok && pipe[0] >= 0 && pipe[1] >= 0;
  }
  if (pipes_ok) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0][0], 0);
    posix_spawn_file_actions_adddup2(&fa, p[1][1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[2][1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (!working_dir.empty())
      posix_spawn_file_actions_addchdir_np(&fa, working_dir.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP
                                      | POSIX_SPAWN_SETSIGMASK
                                      | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t set;
    sigemptyset(&set);
    posix_spawnattr_setsigmask(&attr, &set);
    sigfillset(&set);
    posix_spawnattr_setsigdefault(&attr, &set);
    {
      std::lock_guard<std::mutex> guard{live_mutex};
      if (dying)
        out.error = ECANCELED;
      else
        out.error
          = ::posix_spawnp(&out.pid, argv[0], &fa, &attr, argv.data(), environ);
      if (out.error == 0)
        live_pids.insert(out.pid);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  } else if (out.error == 0) {
    out.error = EMFILE;
  }
  close_fd(p[0][0]);
  close_fd(p[1][1]);
  close_fd(p[2][1]);
  if (out.error != 0) {
    close_fd(p[0][1]);
    close_fd(p[1][0]);
    close_fd(p[2][0]);
    out.pid = -1;
    return out;
  }
  out.in = p[0][1];
  out.out = p[1][0];
  out.err = p[2][0];
  for (int fd : {out.in, out.out, out.err})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return out;
}

} // namespace troupe
