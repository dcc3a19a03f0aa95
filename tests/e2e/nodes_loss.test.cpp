// Node loss with real processes on loopback (docs/distribution-plan.md,
// sections 4 and 8): a node killed (SIGKILL), frozen (SIGSTOP) or stopped
// with Ctrl+C (SIGINT) in the middle of a run. Its tasks in flight run again on
// the other nodes; every task has exactly one line. Barriers, not sleeps: the
// node is hit once its first result lines are in the file, while tasks are left
// to run.

#include <boost/json/array.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/e2e/node_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <csignal>
#include <fstream>
#include <memory>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

constexpr size_t task_count = 120;

struct loss_fixture {
  temp_dir dir;
  std::vector<std::unique_ptr<node_process>> nodes;

  loss_fixture() {
    for (int i = 0; i < 3; ++i)
      nodes.push_back(std::make_unique<node_process>(2));
  }

  /// 120 stub tasks of 100 ms, six at a time (the nodes' six workers):
  /// about 2 s when nothing goes wrong.
  std::string manifest() {
    std::string cases;
    for (size_t i = 0; i < task_count; ++i)
      cases += (i > 0 ? "," : "") + std::string{R"({"id":"c)"}
               + std::to_string(i) + R"(","inputs":{"n":)" + std::to_string(i)
               + "}}";
    auto path = dir.path() + "/loss.json";
    std::ofstream{path} << R"({"name":"loss","target":{"type":"stub"},)"
                        << R"("execution_policy":{"concurrency":6,)"
                        << R"("timeout_seconds":30},)"
                        << R"("stub":{"simulated_delay_seconds":0.1},)"
                        << R"("datasets":[{"name":"d","cases":[)" << cases
                        << "]}]}";
    return path;
  }

  std::string node_list() {
    std::string out;
    for (auto& n : nodes)
      out += (out.empty() ? "" : ",") + n->address();
    return out;
  }

  /// Runs the manifest over the three nodes, hits node 0 with `sig` once its
  /// first line is written, and checks the results: one line per task, all
  /// SUCCEEDED, a summary that adds up, and node 0's tasks in flight moved.
  void run_and_hit_node_0(int sig) {
    auto out = dir.path() + "/r.jsonl";
    child_process run{{troupe_binary(), "run", manifest(), "--nodes",
                       node_list(), "--out", out, "--progress", "never"}};
    auto victim = nodes[0]->address();
    auto mark = "\"node\":\"" + victim + "\"";
    BOOST_REQUIRE_MESSAGE(
      eventually(
        [&] { return slurp_file(out).find(mark) != std::string::npos; }, 30s),
      "node 0 wrote no line");
    nodes[0]->signal(sig);
    auto r = run.wait(90s);
    BOOST_REQUIRE(!r.timed_out);
    BOOST_CHECK_EQUAL(r.code, 0);
    auto f = read_results(out);
    BOOST_REQUIRE(f.has_summary());
    BOOST_CHECK_EQUAL(f.lines.size(), 1 + task_count + 1);
    BOOST_CHECK_EQUAL(f.results.size(), task_count);
    for (auto& [id, n] : f.result_count)
      BOOST_CHECK_MESSAGE(n == 1, id << " has " << n << " lines");
    BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), task_count);
    auto& summary = f.summary();
    BOOST_CHECK_EQUAL(summary.at("total").as_int64(),
                      static_cast<int64_t>(task_count));
    int64_t counted = 0;
    for (auto& [status, n] : summary.at("counts").as_object())
      counted += n.as_int64();
    BOOST_CHECK_EQUAL(counted, static_cast<int64_t>(task_count));
    BOOST_CHECK_EQUAL(summary.at("counts").at("SUCCEEDED").as_int64(),
                      static_cast<int64_t>(task_count));
    BOOST_CHECK_EQUAL(summary.at("end").as_string(), "completed");
    // Node 0 held tasks when it was hit (its workers pull the next one with
    // each result, and most tasks were left): they were lost there and ran
    // again on another node, which the line names.
    size_t lost = 0;
    int64_t attempts = 0;
    for (auto& [id, line] : f.results) {
      attempts += line.at("attempts").as_int64();
      BOOST_CHECK_EQUAL(line.at("attempts").as_int64(), 1);
      for (auto& a : line.at("attempt_log").as_array()) {
        auto& entry = a.as_object();
        if (entry.at("status").as_string() != "node_lost")
          continue;
        ++lost;
        BOOST_CHECK_EQUAL(entry.at("node").as_string(), victim);
        BOOST_CHECK_NE(line.at("node").as_string(), victim);
      }
    }
    BOOST_CHECK_GE(lost, 1u);
    // Node 0 has two workers, each with a task running and one queued
    // ahead of it at the node (the window).
    BOOST_CHECK_LE(lost, 4u);
    BOOST_CHECK_EQUAL(summary.at("attempts").as_int64(), attempts);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(nodes_loss, loss_fixture)

BOOST_AUTO_TEST_CASE(a_killed_node_loses_no_task_and_duplicates_none,
                     *utf::timeout(120)) {
  run_and_hit_node_0(SIGKILL);
}

BOOST_AUTO_TEST_CASE(a_frozen_node_is_detected_and_its_tasks_move,
                     *utf::timeout(120)) {
  // Frozen, it sends no heartbeat: the connection times out after 2 s and
  // the run finishes on the other two nodes.
  run_and_hit_node_0(SIGSTOP);
}

BOOST_AUTO_TEST_CASE(a_node_stopped_with_ctrl_c_counts_as_lost,
                     *utf::timeout(120)) {
  // Ctrl+C stops the node's workers where they are and the node with them:
  // for the run, that node is lost like one killed.
  run_and_hit_node_0(SIGINT);
  BOOST_CHECK(eventually(
    [&] {
      return nodes[0]->err().find("interrupt: stopping") != std::string::npos;
    },
    30s));
}

BOOST_AUTO_TEST_SUITE_END()
