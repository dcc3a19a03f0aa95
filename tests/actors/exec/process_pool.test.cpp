// The process pool with real processes (/bin/sh): input in, output out,
// the pool's bound, the caps, and that killed and abandoned commands leave
// nothing behind. No test depends on the machine's speed: waits are for
// events, with generous limits.

#include "actors/exec/process_pool.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <mutex>

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

struct pool_fixture {
  temp_dir dir;
  std::mutex mutex;
  std::map<uint64_t, process_outcome> done;

  std::unique_ptr<process_pool> make(const std::string& script,
                                     uint32_t size = 1,
                                     uint64_t max_stdout = 1 << 20,
                                     bool pidfd = true) {
    process_pool_options opts;
    opts.argv = {"sh", "-c", script};
    opts.working_dir = dir.path();
    opts.size = size;
    opts.max_stdout_bytes = max_stdout;
    opts.max_stderr_bytes = 16;
    opts.pidfd = pidfd;
    auto pool = std::make_unique<process_pool>(std::move(opts));
    BOOST_REQUIRE_EQUAL(pool->start(collect()), "");
    return pool;
  }

  process_pool::done_fn collect() {
    return [this](std::vector<process_outcome>&& batch) {
      std::lock_guard<std::mutex> guard{mutex};
      for (auto& p : batch)
        done.emplace(p.id, std::move(p));
    };
  }

  bool wait_for(size_t n) {
    return eventually(
      [&] {
        std::lock_guard<std::mutex> guard{mutex};
        return done.size() >= n;
      },
      30s);
  }

  // A pid written by a command into `name`, once it is there.
  pid_t pid_in(const std::string& name) {
    pid_t pid = 0;
    eventually(
      [&] {
        std::ifstream in{dir.file(name)};
        return static_cast<bool>(in >> pid);
      },
      30s);
    return pid;
  }
};

// Sets SIGCHLD's action for a test and puts the old one back.
struct sigchld_action {
  struct sigaction old {};

  explicit sigchld_action(void (*handler)(int), int flags = 0) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGCHLD, &sa, &old);
  }

  ~sigchld_action() {
    ::sigaction(SIGCHLD, &old, nullptr);
  }
};

void ignore_signal(int) {}

// Gone: no such process, or a zombie that init has yet to reap (a
// grandchild is not ours to reap).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH)
    return true;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2
         && line[close + 2] == 'Z';
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(exec_pool, pool_fixture)

BOOST_AUTO_TEST_CASE(input_goes_in_and_output_comes_out, *utf::timeout(60)) {
  auto pool = make("cat; echo err >&2; pwd >&2; exit 4");
  pool->submit(7, "{\"a\":1}\n");
  BOOST_REQUIRE(wait_for(1));
  auto& p = done.at(7);
  BOOST_CHECK_EQUAL(p.spawn_errno, 0);
  BOOST_CHECK_EQUAL(p.exit_code, 4);
  BOOST_CHECK_EQUAL(p.signal, 0);
  BOOST_CHECK_EQUAL(p.out, "{\"a\":1}\n");
  // The tail of stderr: 16 bytes of "err\n<folder>\n".
  auto err = "err\n" + dir.path() + "\n";
  BOOST_CHECK_EQUAL(p.err_bytes, err.size());
  BOOST_CHECK_EQUAL(p.err, err.substr(err.size() - 16));
}

BOOST_AUTO_TEST_CASE(the_child_holds_only_its_three_pipes, *utf::timeout(60)) {
  // ls opens the folder it lists as fd 3; nothing else may be open.
  auto pool = make("ls /proc/self/fd | sort -n | tr '\\n' ' '");
  pool->submit(1, "");
  BOOST_REQUIRE(wait_for(1));
  BOOST_CHECK_EQUAL(done.at(1).out, "0 1 2 3 ");
}

BOOST_AUTO_TEST_CASE(at_most_size_processes_run_at_once, *utf::timeout(60)) {
  auto pool = make("cat >/dev/null; sleep 0.02; echo {}", 2);
  for (uint64_t id = 1; id <= 8; ++id)
    pool->submit(id, "x\n");
  BOOST_REQUIRE(wait_for(8));
  BOOST_CHECK_LE(pool->peak(), 2u);
  for (auto& [id, p] : done)
    BOOST_CHECK_EQUAL(p.exit_code, 0);
}

BOOST_AUTO_TEST_CASE(a_command_that_reads_no_input_is_fine, *utf::timeout(60)) {
  // 1 MiB of input, more than a pipe holds, to a command that never reads.
  auto pool = make("echo '{}'");
  pool->submit(1, std::string(1 << 20, 'x'));
  BOOST_REQUIRE(wait_for(1));
  BOOST_CHECK_EQUAL(done.at(1).exit_code, 0);
  BOOST_CHECK_EQUAL(done.at(1).out, "{}\n");
}

BOOST_AUTO_TEST_CASE(too_much_stdout_kills_the_command, *utf::timeout(60)) {
  auto pool = make("yes", 1, 4096);
  pool->submit(1, "");
  BOOST_REQUIRE(wait_for(1));
  BOOST_CHECK(done.at(1).too_large);
  BOOST_CHECK_EQUAL(done.at(1).signal, SIGKILL);
  BOOST_CHECK_EQUAL(done.at(1).out.size(), 4096u);
}

BOOST_AUTO_TEST_CASE(a_missing_command_reports_its_errno, *utf::timeout(60)) {
  process_pool_options opts;
  opts.argv = {"./no-such-command"};
  opts.working_dir = dir.path();
  process_pool pool{opts};
  BOOST_REQUIRE_EQUAL(pool.start(collect()), "");
  pool.submit(1, "");
  BOOST_REQUIRE(wait_for(1));
  BOOST_CHECK_EQUAL(done.at(1).spawn_errno, ENOENT);
}

BOOST_AUTO_TEST_CASE(kill_reaps_the_command_and_its_children,
                     *utf::timeout(60)) {
  // The command starts a grandchild, writes both pids, and waits.
  auto pool = make("read x; if [ \"$x\" = hang ]; then sleep 300 & "
                   "echo $! > child.pid; echo $$ > sh.tmp; mv sh.tmp sh.pid; "
                   "wait; fi; echo '{}'");
  pool->submit(1, "hang\n");
  auto sh = pid_in("sh.pid");
  auto child = pid_in("child.pid");
  BOOST_REQUIRE(sh > 0 && child > 0);
  pool->kill(1);
  // Reaped by the pool: not even a zombie is left of the command.
  BOOST_CHECK(
    eventually([&] { return ::kill(sh, 0) != 0 && errno == ESRCH; }, 30s));
  BOOST_CHECK(eventually([&] { return gone(child); }, 30s));
  // Nothing is reported for a killed command; the next one runs.
  pool->submit(2, "go\n");
  BOOST_REQUIRE(wait_for(1));
  BOOST_CHECK_EQUAL(done.count(1), 0u);
  BOOST_CHECK_EQUAL(done.at(2).out, "{}\n");
}

BOOST_AUTO_TEST_CASE(the_pool_s_end_kills_and_reaps_everything,
                     *utf::timeout(60)) {
  // Size 1: the second surely waits in the queue (and never races the
  // first on sh.tmp).
  auto pool = make("echo $$ > sh.tmp; mv sh.tmp sh.pid; exec sleep 300", 1);
  pool->submit(1, "");
  pool->submit(2, "");
  auto sh = pid_in("sh.pid");
  BOOST_REQUIRE(sh > 0);
  pool.reset();
  BOOST_CHECK(::kill(sh, 0) != 0 && errno == ESRCH);
  BOOST_CHECK(done.empty());
}

BOOST_AUTO_TEST_CASE(a_host_that_ignores_sigchld_is_refused_at_start,
                     *utf::timeout(60)) {
  process_pool_options opts;
  opts.argv = {"true"};
  {
    sigchld_action ignored{SIG_IGN};
    process_pool pool{opts};
    auto why = pool.start(collect());
    BOOST_CHECK_NE(why.find("SIGCHLD is ignored (SIG_IGN) in this process"),
                   std::string::npos);
  }
  {
    sigchld_action no_zombies{ignore_signal, SA_NOCLDWAIT};
    process_pool pool{opts};
    auto why = pool.start(collect());
    BOOST_CHECK_NE(why.find("SIGCHLD's handler has SA_NOCLDWAIT"),
                   std::string::npos);
  }
  // The host's handler is back; the pool starts and runs.
  process_pool pool{opts};
  BOOST_REQUIRE_EQUAL(pool.start(collect()), "");
  pool.submit(1, "");
  BOOST_REQUIRE(wait_for(1));
  BOOST_CHECK_EQUAL(done.at(1).exit_code, 0);
}

// A host that ignores SIGCHLD after the pool started: the kernel reaps the
// command, waitpid fails, and the exit status is unknown, not 0.
BOOST_AUTO_TEST_CASE(a_command_reaped_elsewhere_has_no_exit_status,
                     *utf::timeout(60)) {
  for (bool pidfd : {true, false}) {
    BOOST_TEST_CONTEXT("pidfd " << pidfd) {
      done.clear();
      auto pool = make("echo '{}'; exit 3", 1, 1 << 20, pidfd);
      sigchld_action ignored{SIG_IGN};
      pool->submit(1, "");
      BOOST_REQUIRE(wait_for(1));
      auto& p = done.at(1);
      BOOST_CHECK_EQUAL(p.wait_errno, ECHILD);
      BOOST_CHECK_EQUAL(p.exit_code, -1);
      BOOST_CHECK_EQUAL(p.signal, 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(without_pidfds_exits_are_polled, *utf::timeout(60)) {
  auto pool = make("read x; if [ \"$x\" = hang ]; then echo $$ > sh.tmp; "
                   "mv sh.tmp sh.pid; exec sleep 300; fi; echo $x",
                   2, 1 << 20, false);
  pool->submit(1, "hang\n");
  auto sh = pid_in("sh.pid");
  BOOST_REQUIRE(sh > 0);
  for (uint64_t id = 2; id <= 5; ++id)
    pool->submit(id, "go" + std::to_string(id) + "\n");
  BOOST_REQUIRE(wait_for(4));
  for (uint64_t id = 2; id <= 5; ++id)
    BOOST_CHECK_EQUAL(done.at(id).out, "go" + std::to_string(id) + "\n");
  pool->kill(1);
  BOOST_CHECK(
    eventually([&] { return ::kill(sh, 0) != 0 && errno == ESRCH; }, 30s));
  BOOST_CHECK_EQUAL(done.count(1), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
