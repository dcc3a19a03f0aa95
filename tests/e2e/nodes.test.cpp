// `troupe node` and `troupe run --nodes` as real processes on loopback
// (docs/distribution-plan.md): a run on a node, and the refusals at start.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/node_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include <sys/stat.h>

#include <fstream>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

struct nodes_fixture {
  temp_dir dir;

  process_result troupe(std::vector<std::string> args) {
    args.insert(args.begin(), troupe_binary());
    return run_process(std::move(args), 60s, dir.path());
  }

  std::string manifest(const std::string& name) {
    return source_dir() + "/tests/manifests/" + name;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(nodes, nodes_fixture)

BOOST_AUTO_TEST_CASE(a_run_on_one_node_names_it_in_every_line,
                     *utf::timeout(60)) {
  node_process node{3};
  auto r = troupe({"run", manifest("all-ok.json"), "--nodes", node.address(),
                   "--out", "r.jsonl", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.path() + "/r.jsonl");
  BOOST_CHECK(f.has_summary());
  BOOST_CHECK_EQUAL(f.results.size(), 30u);
  // Counted while the node connected (the datasets' pass runs meanwhile).
  BOOST_CHECK_EQUAL(f.header().at("tasks").as_int64(), 30);
  BOOST_CHECK_EQUAL(f.summary().at("total").as_int64(), 30);
  for (auto& [id, line] : f.results) {
    BOOST_CHECK_EQUAL(f.result_count.at(id), 1);
    BOOST_CHECK_EQUAL(line.at("node").as_string(), node.address());
  }
}

BOOST_AUTO_TEST_CASE(local_workers_next_to_a_node_say_local,
                     *utf::timeout(60)) {
  node_process node{2};
  auto r = troupe({"run", manifest("all-ok.json"), "--nodes", node.address(),
                   "--local-workers", "2", "--out", "r.jsonl", "--progress",
                   "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.path() + "/r.jsonl");
  BOOST_CHECK_EQUAL(f.results.size(), 30u);
  for (auto& [id, line] : f.results) {
    auto where = std::string{line.at("node").as_string()};
    BOOST_CHECK_MESSAGE(where == "local" || where == node.address(), where);
  }
}

BOOST_AUTO_TEST_CASE(conversations_run_their_turns_on_a_node,
                     *utf::timeout(60)) {
  // Turns travel with the task; the node's worker runs them and its
  // relay brings the turns back, checked by the supervisor.
  node_process node{2};
  std::string path = dir.path() + "/turns.json";
  {
    std::ofstream out{path};
    out << R"({"target": {"type": "stub"},
      "retry_policy": {"max_attempts": 3, "backoff_seconds": 0.01},
      "datasets": [{"name": "d", "cases": [
        {"id": "a", "turns": [{"query": "one"},
                              {"query": "two", "expect": {"contains": "two"}}]},
        {"id": "b", "turns": [{"query": "x"}, {"query": "y"}, {"query": "z"}]}]}],
      "stub": {"task_behaviors": {"d/b#0": ["success", "failure", "success",
                                           "success"]}}})";
  }
  auto r = troupe({"run", path, "--nodes", node.address(), "--out", "r.jsonl",
                   "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.path() + "/r.jsonl");
  BOOST_REQUIRE_EQUAL(f.results.size(), 2u);
  auto& a = f.results.at("d/a#0");
  BOOST_CHECK_EQUAL(a.at("node").as_string(), node.address());
  BOOST_REQUIRE_EQUAL(a.at("turns").as_array().size(), 2u);
  BOOST_CHECK(
    a.at("turns").at(1).at("assertions").at(0).at("passed").as_bool());
  auto& b = f.results.at("d/b#0");
  BOOST_CHECK_EQUAL(b.at("status").as_string(), "SUCCEEDED");
  BOOST_CHECK_EQUAL(b.at("attempts").as_int64(), 4);
  BOOST_REQUIRE_EQUAL(b.at("turns").as_array().size(), 3u);
  BOOST_CHECK_EQUAL(b.at("turns").at(1).at("attempts").as_int64(), 2);
  BOOST_CHECK_EQUAL(
    b.at("turns").at(2).at("output").at("conversation_id").as_string(),
    "stub-conversation-d/b#0");
  BOOST_CHECK_EQUAL(f.summary().at("retries").as_int64(), 1);
}

BOOST_AUTO_TEST_CASE(an_unreachable_node_exits_2_naming_it, *utf::timeout(60)) {
  // A port nobody listens on: a node started and stopped.
  std::string address;
  {
    node_process node{1};
    address = node.address();
  }
  auto r = troupe({"run", manifest("all-ok.json"), "--nodes", address, "--out",
                   "r.jsonl", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("node " + address + " is unreachable"),
                 std::string::npos);
  // The new results file goes with the refusal.
  struct stat st {};
  BOOST_CHECK(::stat((dir.path() + "/r.jsonl").c_str(), &st) != 0);
}

// A node listed twice would host twice its --workers for one supervisor:
// refused, as written twice (before connecting) and under two names of its
// host (once connected, by the node's identity), and the node serves the
// next run.
BOOST_AUTO_TEST_CASE(a_node_listed_twice_exits_2_naming_it, *utf::timeout(60)) {
  node_process node{2};
  auto address = node.address();
  auto port = address.substr(address.rfind(':') + 1);
  auto r = troupe({"run", manifest("all-ok.json"), "--nodes",
                   address + "," + address, "--out", "r.jsonl", "--progress",
                   "never"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("run: --nodes: \"" + address
                            + "\" is given twice (a node runs one "
                              "supervisor's tasks; list it once)"),
                 std::string::npos);
  auto other = "localhost:" + port;
  r = troupe({"run", manifest("all-ok.json"), "--nodes", address + "," + other,
              "--out", "r.jsonl", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("nodes " + address + " and " + other
                            + " are the same troupe node"),
                 std::string::npos);
  struct stat st {};
  BOOST_CHECK(::stat((dir.path() + "/r.jsonl").c_str(), &st) != 0);
  r = troupe({"run", manifest("all-ok.json"), "--nodes", other, "--out",
              "r.jsonl", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
}

// A new run with nodes reads its datasets while they connect: a broken
// line is still refused before the run, ahead of a node's own error; a new
// results file goes, and one that --force would overwrite stays as it was.
BOOST_AUTO_TEST_CASE(a_broken_dataset_with_nodes_exits_2_naming_its_line,
                     *utf::timeout(60)) {
  dir.write("cases.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\",}\n");
  dir.write("m.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "file": "cases.jsonl"}]})");
  node_process node{2};
  for (auto& address : {node.address(), std::string{"127.0.0.1:1"}}) {
    auto r = troupe({"run", "m.json", "--nodes", address, "--out", "r.jsonl",
                     "--progress", "never"});
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("cases.jsonl:2: invalid JSON"),
                   std::string::npos);
    BOOST_CHECK_EQUAL(r.err.find("unreachable"), std::string::npos);
    struct stat st {};
    BOOST_CHECK(::stat((dir.path() + "/r.jsonl").c_str(), &st) != 0);
    auto old = dir.write("old.jsonl", "{\"type\": \"header\"}\n");
    r = troupe({"run", "m.json", "--nodes", address, "--out", "old.jsonl",
                "--force", "--progress", "never"});
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("cases.jsonl:2: invalid JSON"),
                   std::string::npos);
    BOOST_CHECK_EQUAL(read_file(old), "{\"type\": \"header\"}\n");
  }
  // Before an option's error, with nodes or without.
  for (auto& flag : {"--send-keys", "--local-workers"}) {
    std::vector<std::string> args{"run", "m.json", "--out", "x.jsonl", flag};
    if (args.back() == "--send-keys")
      args.insert(args.end(), {"--nodes", node.address()});
    else
      args.push_back("2");
    auto r = troupe(args);
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("cases.jsonl:2: invalid JSON"),
                   std::string::npos);
  }
  // The node was prepared for the refused run, and takes the next one.
  auto r = troupe({"run", manifest("all-ok.json"), "--nodes", node.address(),
                   "--out", "r.jsonl", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(dir.path() + "/r.jsonl").results.size(), 30u);
}

BOOST_AUTO_TEST_CASE(the_stub_scripts_events_apply_on_nodes,
                     *utf::timeout(60)) {
  // 40 tasks of 50 ms on two workers: the last starts after about 1 s. An
  // event at 0 ms makes it fatal on the node, as it would be locally.
  std::string cases;
  for (int i = 0; i < 40; ++i)
    cases += (i > 0 ? "," : "") + std::string{R"({"id":"c)"} + std::to_string(i)
             + R"(","inputs":{}})";
  auto path = dir.path() + "/events.json";
  std::ofstream{path}
    << R"({"name":"events","target":{"type":"stub"},)"
    << R"("execution_policy":{"concurrency":2},)"
    << R"("stub":{"simulated_delay_seconds":0.05,"events":[)"
    << R"({"at_ms":0,"set_task_behavior":{"d/c39#0":"fatal"}}]},)"
    << R"("datasets":[{"name":"d","cases":[)" << cases << "]}]}";
  node_process node{2};
  auto r = troupe({"run", path, "--nodes", node.address(), "--out", "e.jsonl",
                   "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 1);
  auto f = read_results(dir.path() + "/e.jsonl");
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 39u);
  BOOST_CHECK_EQUAL(f.status("d/c39#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("d/c39#0"), 1);
}

// A port another process holds: the system's reason, not CAF's "socket
// creation failed".
BOOST_AUTO_TEST_CASE(a_node_on_a_taken_port_says_so, *utf::timeout(60)) {
  node_process node{1};
  auto r = troupe({"node", "--listen", node.address()});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("troupe: node: cannot listen on " + node.address()
                            + " (Address already in use: another process "
                              "listens there"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_node_beyond_loopback_needs_insecure, *utf::timeout(30)) {
  auto r = troupe({"node", "--listen", "0.0.0.0:0"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("--insecure"), std::string::npos);
  r = troupe({"run", manifest("all-ok.json"), "--nodes", "nohost"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("is not HOST:PORT"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
