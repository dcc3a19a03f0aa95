// Child processes for end-to-end tests.

#include "tests/support/process.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

extern char** environ;

namespace troupe::test {

namespace {

std::string temp_name(const char* suffix) {
  static int counter = 0;
  return fmt::format("/tmp/troupe-child-{}-{}.{}", ::getpid(), ++counter,
                     suffix);
}

} // namespace

child_process::child_process(std::vector<std::string> args, std::string cwd,
                             std::vector<std::string> env) {
  out_path_ = temp_name("out");
  err_path_ = temp_name("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty())
    posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  // The child must not inherit a blocked or ignored SIGINT.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    env_strings.emplace_back(*e);
  for (auto& e : env) {
    auto name = e.substr(0, e.find('=')) + '='; // "NAME=", even if no '='
    env_strings.erase(std::remove_if(env_strings.begin(), env_strings.end(),
                                     [&](const std::string& x) {
                                       return x.compare(0, name.size(), name)
                                              == 0;
                                     }),
                      env_strings.end());
    env_strings.push_back(e);
  }
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc
    = posix_spawn(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  BOOST_REQUIRE_MESSAGE(rc == 0, "cannot start " + args[0]);
}

child_process::~child_process() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  std::remove(out_path_.c_str());
  std::remove(err_path_.c_str());
}

void child_process::signal(int sig) {
  ::kill(pid_, sig);
}

process_result child_process::wait(std::chrono::milliseconds limit) {
  process_result result;
  auto end = std::chrono::steady_clock::now() + limit;
  int status = 0;
  for (;;) {
    auto rc = ::waitpid(pid_, &status, WNOHANG);
    if (rc == pid_)
      break;
    if (std::chrono::steady_clock::now() > end) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  reaped_ = true;
  if (WIFEXITED(status))
    result.code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.code = 128 + WTERMSIG(status);
  result.out = read_file(out_path_);
  result.err = read_file(err_path_);
  BOOST_CHECK_MESSAGE(!result.timed_out,
                      "child timed out; stderr: " << result.err);
#ifdef TROUPE_SANITIZED_BUILD
  // tests/CMakeLists.txt has the sanitizers exit 66: show their report, which
  // a test that checks only the exit code would not.
  BOOST_CHECK_MESSAGE(
    result.code != 66,
    "child exited 66, a sanitizer report; stderr: " << result.err);
#endif
  return result;
}

process_result run_process(std::vector<std::string> args,
                           std::chrono::milliseconds limit, std::string cwd) {
  child_process child{std::move(args), std::move(cwd)};
  return child.wait(limit);
}

std::string troupe_binary() {
  return TROUPE_BINARY;
}

std::string source_dir() {
  return TROUPE_SOURCE_DIR;
}

} // namespace troupe::test
