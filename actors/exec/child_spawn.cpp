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
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <unordered_set>

extern char** environ;

namespace troupe {

namespace {

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

// A pipe end moved to 3 or above: at 0..2 (troupe started with a closed
// stdin) the child's dup2 of another pipe would overwrite it.
int above_stdio(int fd) {
  if (fd > 2)
    return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

/// Every pool's unreaped children.
std::mutex live_mutex;
std::unordered_set<pid_t> live_pids;

} // namespace

void forget_child(pid_t pid) {
  std::lock_guard<std::mutex> guard{live_mutex};
  live_pids.erase(pid);
}

void kill_all_commands() noexcept {
  std::lock_guard<std::mutex> guard{live_mutex};
  for (auto pid : live_pids)
    kill_group(pid);
}

void kill_group(pid_t pid) {
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
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
    out.error
      = ::posix_spawnp(&out.pid, argv[0], &fa, &attr, argv.data(), environ);
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
  {
    std::lock_guard<std::mutex> guard{live_mutex};
    live_pids.insert(out.pid);
  }
  out.in = p[0][1];
  out.out = p[1][0];
  out.err = p[2][0];
  for (int fd : {out.in, out.out, out.err})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return out;
}

} // namespace troupe
