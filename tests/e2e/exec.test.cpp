// exec targets end to end: the troupe binary runs a small Python script
// written into a temp folder, once per attempt, and the results file says
// how each run of it ended. Counts, not timings: the pool's bound is
// checked by the script itself, under flock.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// Reads the task, logs "<task id> <attempt>" to calls.log, then acts on
// the case id.
const char* judge_py = R"(import json, os, subprocess, sys, time
task = json.loads(sys.stdin.readline())
with open("calls.log", "a") as log:
    log.write("%s %d\n" % (task["id"], task["attempt"]))
case = task["case_id"]
if case.startswith("flaky") and task["attempt"] == 1:
    print("busy, try again", file=sys.stderr)
    sys.exit(75)
if case == "garbage":
    print("this is not json")
    sys.exit(0)
if case == "noisy":
    sys.stderr.write("x" * 10000 + "\nEND")
    sys.exit(3)
if case == "hang":
    child = subprocess.Popen(["sleep", "300"])
    with open("hang.tmp", "w") as f:
        f.write("%d %d" % (os.getpid(), child.pid))
    os.rename("hang.tmp", "hang.pids")
    time.sleep(300)
print(json.dumps({"echo": task}, indent=2))
)";

// Counts the scripts running at once under flock and keeps the most seen.
const char* counter_py = R"(import fcntl, json, sys, time
sys.stdin.readline()
def step(delta):
    with open("count.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            now = int(open("count").read())
        except (OSError, ValueError):
            now = 0
        now += delta
        open("count", "w").write(str(now))
        try:
            most = int(open("most").read())
        except (OSError, ValueError):
            most = 0
        open("most", "w").write(str(max(most, now)))
step(1)
time.sleep(0.4)  # long enough that a broken bound shows
step(-1)
print("{}")
)";

struct exec_fixture {
  temp_dir dir;

  exec_fixture() {
    dir.write("judge.py", judge_py);
    dir.write("counter.py", counter_py);
  }

  // A manifest in the temp folder with these cases and extra top keys
  // (the retry policy's backoff is short unless they set one).
  std::string manifest(const std::string& cases, const std::string& extra = "",
                       const std::string& script = "judge.py",
                       const std::string& target_extra = "") {
    auto top = extra.find("retry_policy") == std::string::npos
                 ? R"(, "retry_policy": {"backoff_seconds": 0.01})" + extra
                 : extra;
    return dir.write("m.json",
                     R"({"target": {"type": "exec",
                         "argv": ["python3", ")"
                       + script + "\"]" + target_extra + R"(},
                         "datasets": [{"name": "d", "cases": )"
                       + cases + "}]" + top + "}");
  }

  // Runs troupe from "/" so that the script's folder is surely the
  // manifest's, not the current one.
  process_result troupe(std::vector<std::string> args,
                        std::chrono::milliseconds limit = 120s) {
    if (args.front() == "run")
      args.insert(args.end(), {"--progress", "never"});
    args.insert(args.begin(), troupe_binary());
    return run_process(std::move(args), limit, "/");
  }

  std::vector<std::string> calls() {
    std::ifstream in{dir.file("calls.log")};
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      out.push_back(line);
    return out;
  }
};

// No such process, or a zombie that init has yet to reap (a process that
// troupe did not start, or one it could not wait for, is init's to reap).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH)
    return true;
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  std::getline(stat, text);
  return text.find(") Z ") != std::string::npos;
}

// The two pids the "hang" case writes: the script's and its child's.
std::pair<pid_t, pid_t> hang_pids(const temp_dir& dir) {
  std::pair<pid_t, pid_t> out{0, 0};
  eventually(
    [&] {
      std::ifstream in{dir.file("hang.pids")};
      return static_cast<bool>(in >> out.first >> out.second);
    },
    60s);
  return out;
}

std::string cases_of(std::initializer_list<const char*> ids) {
  std::string out = "[";
  for (auto* id : ids)
    out += std::string{out.size() > 1 ? "," : ""} + R"({"id": ")" + id
           + R"(", "inputs": {"text": "t-)" + id + "\"}}";
  return out + "]";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(exec, exec_fixture)

BOOST_AUTO_TEST_CASE(a_script_s_json_answer_is_the_output, *utf::timeout(120)) {
  auto m = manifest(R"([{"id": "ok", "inputs": {"text": "hi"},
                         "query": "q?"}])",
                    R"(, "parameters": [{"style": "short"}])");
  auto r = troupe({"run", m, "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_REQUIRE_EQUAL(f.status("d/ok#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(
    json::serialize(f.results.at("d/ok#0").at("output")),
    R"({"echo":{"id":"d/ok#0","dataset":"d","case_id":"ok","attempt":1,)"
    R"("inputs":{"style":"short","text":"hi"},"params":{"style":"short"},)"
    R"("query":"q?"}})");
  BOOST_CHECK(f.results.at("d/ok#0").at("error").is_null());
  BOOST_CHECK_EQUAL(f.header().at("target"), "exec");
}

BOOST_AUTO_TEST_CASE(exit_75_is_retried_until_the_script_succeeds,
                     *utf::timeout(120)) {
  auto m = manifest(cases_of({"flaky"}));
  auto r = troupe({"run", m, "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_CHECK_EQUAL(f.status("d/flaky#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("d/flaky#0"), 2);
  auto& log = f.results.at("d/flaky#0").at("attempt_log").as_array();
  BOOST_CHECK_EQUAL(log.at(0).at("status"), "FAILED");
  BOOST_CHECK_EQUAL(log.at(0).at("error"),
                    "exit status 75 (EX_TEMPFAIL, retried); stderr: busy, "
                    "try again");
  BOOST_CHECK_EQUAL(calls().size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_parent_that_ignores_sigchld_does_not_stop_the_run,
                     *utf::timeout(120)) {
  // An ignored SIGCHLD survives exec; troupe takes the default back, or
  // the kernel would reap its commands before their exit codes are read.
  auto m = manifest(cases_of({"flaky"}));
  auto r = run_process(
    {"/usr/bin/python3", "-c",
     "import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); "
     "os.execv(sys.argv[1], sys.argv[1:])",
     troupe_binary(), "run", m, "--out", dir.file("r.jsonl"), "--progress",
     "never"},
    120s, "/");
  BOOST_CHECK_MESSAGE(r.code == 0, r.err);
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_CHECK_EQUAL(f.status("d/flaky#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("d/flaky#0"), 2);
}

BOOST_AUTO_TEST_CASE(garbage_on_stdout_is_an_error_never_retried,
                     *utf::timeout(120)) {
  auto m = manifest(cases_of({"garbage"}));
  auto r = troupe({"run", m, "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 1);
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_CHECK_EQUAL(f.status("d/garbage#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.attempts("d/garbage#0"), 1);
  BOOST_CHECK_EQUAL(f.results.at("d/garbage#0").at("error_code"),
                    "malformed_response");
}

BOOST_AUTO_TEST_CASE(stderr_lands_in_error_capped_to_its_tail,
                     *utf::timeout(120)) {
  auto m = manifest(cases_of({"noisy"}));
  auto r = troupe({"run", m, "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 1);
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_CHECK_EQUAL(f.status("d/noisy#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("d/noisy#0"), 1); // exit 3: not retried
  auto error = std::string{f.results.at("d/noisy#0").at("error").as_string()};
  const std::string head = "exit status 3; stderr (last 4096 of 10004 bytes): ";
  BOOST_CHECK_EQUAL(error.substr(0, head.size()), head);
  BOOST_CHECK_EQUAL(error.size(), head.size() + 4096);
  BOOST_CHECK_EQUAL(error.substr(error.size() - 4), "\nEND");
  BOOST_CHECK_EQUAL(f.results.at("d/noisy#0").at("error_code"), "exit_3");
}

BOOST_AUTO_TEST_CASE(a_hung_script_times_out_and_nothing_of_it_is_left,
                     *utf::timeout(120)) {
  // 10 s: python's start and its Popen fit well within it on a loaded
  // machine, so the kill is surely the timeout's.
  auto m = manifest(cases_of({"hang"}),
                    R"(, "execution_policy": {"timeout_seconds": 10},
                        "retry_policy": {"max_attempts": 1})");
  auto r = troupe({"run", m, "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 1);
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_CHECK_EQUAL(f.status("d/hang#0"), "TIMEOUT");
  BOOST_CHECK_EQUAL(f.results.at("d/hang#0").at("error"),
                    "attempt timed out after 10 s");
  auto [script, child] = hang_pids(dir);
  BOOST_REQUIRE(script > 0 && child > 0);
  // troupe killed and reaped the script: no such process, not a zombie.
  BOOST_CHECK(::kill(script, 0) != 0 && errno == ESRCH);
  // Its own child (killed with its process group) is no orphan either.
  BOOST_CHECK(eventually([&] { return gone(child); }, 30s));
}

BOOST_AUTO_TEST_CASE(a_second_ctrl_c_leaves_no_command_behind,
                     *utf::timeout(120)) {
  auto m = manifest(cases_of({"hang"}));
  child_process run{{troupe_binary(), "run", m, "--out", dir.file("r.jsonl"),
                     "--progress", "never"},
                    "/"};
  auto [script, child] = hang_pids(dir);
  BOOST_REQUIRE(script > 0 && child > 0);
  // The first lets the command run on; the second exits at once.
  run.signal(SIGINT);
  BOOST_REQUIRE(eventually(
    [&] {
      return read_file(run.stderr_path()).find("cancelling")
             != std::string::npos;
    },
    30s));
  BOOST_CHECK(!gone(script));
  run.signal(SIGINT);
  BOOST_CHECK_EQUAL(run.wait(30s).code, 130);
  BOOST_CHECK(eventually([&] { return gone(script) && gone(child); }, 30s));
}

BOOST_AUTO_TEST_CASE(no_more_than_pool_scripts_run_at_once,
                     *utf::timeout(120)) {
  std::string cases = "[";
  for (int i = 0; i < 24; ++i)
    cases
      += std::string{i ? "," : ""} + R"({"id": "c)" + std::to_string(i) + "\"}";
  cases += "]";
  auto m = manifest(cases, R"(, "execution_policy": {"concurrency": 8})",
                    "counter.py", R"(, "pool": 3)");
  auto r = troupe({"run", m, "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(dir.file("r.jsonl")).count("SUCCEEDED"), 24u);
  int most = 0;
  std::ifstream{dir.file("most")} >> most;
  BOOST_CHECK_GE(most, 1);
  BOOST_CHECK_LE(most, 3);
}

// 8 tasks of 0.5 s at pool 1 and concurrency 8: were 8 workers to hand
// over at once, the 6th would wait 2.5 s in the pool's queue, past its
// timeout. One worker per pool slot gives each its whole 2.5 s.
BOOST_AUTO_TEST_CASE(no_attempt_times_out_waiting_for_the_pool,
                     *utf::timeout(120)) {
  dir.write("slow.sh", "cat >/dev/null; sleep 0.5; echo '{}'\n");
  std::string cases = "[";
  for (int i = 0; i < 8; ++i)
    cases
      += std::string{i ? "," : ""} + R"({"id": "c)" + std::to_string(i) + "\"}";
  dir.write("m.json", R"({"target": {"type": "exec", "argv": ["sh", "slow.sh"],
                          "pool": 1},
                          "datasets": [{"name": "d", "cases": )"
                        + cases + R"(]}],
                          "execution_policy": {"concurrency": 8,
                                               "timeout_seconds": 2.5},
                          "retry_policy": {"max_attempts": 1}})");
  auto r = troupe({"run", dir.file("m.json"), "--out", dir.file("r.jsonl")});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(dir.file("r.jsonl")).count("SUCCEEDED"), 8u);
}

BOOST_AUTO_TEST_CASE(resume_runs_only_the_tasks_without_a_line,
                     *utf::timeout(120)) {
  auto m = manifest(cases_of({"a", "b", "c", "d", "e"}));
  auto out = dir.file("r.jsonl");
  BOOST_REQUIRE_EQUAL(troupe({"run", m, "--out", out}).code, 0);
  // Keep the header and the first two results, as a run killed then
  // would have left it.
  std::ifstream in{out};
  std::string header;
  std::string first;
  std::string second;
  std::getline(in, header);
  std::getline(in, first);
  std::getline(in, second);
  in.close();
  dir.write("r.jsonl", header + "\n" + first + "\n" + second + "\n");
  auto kept = {json::parse(first).at("task_id").as_string(),
               json::parse(second).at("task_id").as_string()};
  std::remove(dir.file("calls.log").c_str());
  auto r = troupe({"run", m, "--resume", out});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 5u);
  for (auto& [id, n] : f.result_count)
    BOOST_CHECK_MESSAGE(n == 1, id << " has " << n << " lines");
  auto ran = calls();
  BOOST_CHECK_EQUAL(ran.size(), 3u);
  for (auto& line : ran)
    for (auto& id : kept)
      BOOST_CHECK_MESSAGE(line.find(std::string{id}) == std::string::npos,
                          line << " ran again");
}

BOOST_AUTO_TEST_CASE(bad_commands_and_nodes_are_refused_at_once,
                     *utf::timeout(60)) {
  dir.write("m.json", R"({"target": {"type": "exec",
                          "argv": ["no-such-troupe-judge"]},
                          "datasets": [{"name": "d", "cases": [{"id": "c"}]}]})");
  auto v = troupe({"validate", dir.file("m.json")});
  BOOST_CHECK_EQUAL(v.code, 2);
  BOOST_CHECK_NE(v.err.find("target.argv[0]: \"no-such-troupe-judge\" is not "
                            "an executable file on PATH"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(
    troupe({"run", dir.file("m.json"), "--out", dir.file("r.jsonl")}).code, 2);
  auto m = manifest(cases_of({"a"}));
  auto c = troupe(
    {"run", m, "--out", dir.file("c.jsonl"), "--cache", dir.file("cache")});
  BOOST_CHECK_EQUAL(c.code, 0);
  BOOST_CHECK_NE(c.err.find("--cache is not used with an exec target"),
                 std::string::npos);
  auto n = troupe(
    {"run", m, "--out", dir.file("n.jsonl"), "--nodes", "127.0.0.1:1"});
  BOOST_CHECK_EQUAL(n.code, 2);
  BOOST_CHECK_NE(n.err.find("an exec target runs its command on this machine"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_example_judges_a_thousand_cases, *utf::timeout(60)) {
  auto example = source_dir() + "/config/examples/exec-judge.json";
  auto v = troupe({"validate", example});
  BOOST_CHECK_EQUAL(v.code, 0);
  BOOST_CHECK_EQUAL(v.out, example
                             + ": ok, 1000 tasks (1 datasets x 1 "
                               "parameter sets)\n");
}

// Runs the example as a fresh Debian would (python3 is /usr/bin/python3,
// not a shim), then resumes it from a results file cut after 400 results.
// Under sanitizers it runs on the first 210 cases, in a copy of the
// example's folder, to stay within the time a loaded CI machine gives.
BOOST_AUTO_TEST_CASE(the_example_runs_and_resumes, *utf::timeout(240)) {
  auto example = source_dir() + "/config/examples/exec-judge.json";
#ifdef TROUPE_SANITIZED_BUILD
  const size_t total = 210;
  std::ifstream all{source_dir() + "/config/examples/exec-judge-cases.jsonl"};
  std::string cases;
  std::string line;
  for (size_t i = 0; i < total && std::getline(all, line); ++i)
    cases += line + "\n";
  dir.write("exec-judge-cases.jsonl", cases);
  dir.write("exec-judge.py",
            read_file(source_dir() + "/config/examples/exec-judge.py"));
  example = dir.write("exec-judge.json", read_file(example));
#else
  const size_t total = 1000;
#endif
  // Every seventh case (q0007, q0014, ...) is retried once.
  const size_t retried = total / 7;
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/env", "PATH=/usr/bin:/bin",
                               troupe_binary(), "run", example});
    args.insert(args.end(), {"--progress", "never"});
    return run_process(std::move(args), 200s, "/");
  };
  auto out = dir.file("judge.jsonl");
  auto r = run({"--out", out});
  BOOST_REQUIRE_EQUAL(r.code, 0);
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), total);
  size_t twice = 0;
  for (auto& [id, line] : f.results)
    twice += line.at("attempts").as_int64() == 2 ? 1 : 0;
  BOOST_CHECK_EQUAL(twice, retried);
  // Cut after 400 results, as a killed run would have left it.
  std::ifstream in{out};
  std::string kept;
  std::string text;
  for (size_t i = 0; i < 401 && std::getline(in, text); ++i)
    kept += text + "\n";
  in.close();
  dir.write("judge.jsonl", kept);
  auto again = run({"--resume", out});
  BOOST_REQUIRE_EQUAL(again.code, 0);
  auto g = read_results(out);
  BOOST_CHECK_EQUAL(g.count("SUCCEEDED"), total);
  size_t lines = 0;
  for (auto& [id, n] : g.result_count) {
    lines += n;
    BOOST_CHECK_MESSAGE(n == 1, id << " has " << n << " lines");
  }
  BOOST_CHECK_EQUAL(lines, total); // 400 kept, and exactly the rest run
}

BOOST_AUTO_TEST_SUITE_END()
