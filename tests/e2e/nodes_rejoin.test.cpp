// A run whose only node dies (docs/distribution-plan.md, section 4): it
// waits out --node-grace for a node to come back at the same address. One
// that does rejoins and finishes the run; with none, the tasks left end
// CANCELLED "no nodes", and --resume takes them later. Barriers, not
// sleeps: the node is killed once its first line is in the file, and the
// new one starts once the run says the node is lost.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/node_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"

#include <csignal>
#include <fstream>
#include <memory>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

constexpr size_t rejoin_tasks = 60;

struct rejoin_fixture {
  temp_dir dir;
  std::string out = dir.path() + "/r.jsonl";

  /// 60 stub tasks of 100 ms, two at a time: about 3 s on one node.
  std::string manifest() {
    std::string cases;
    for (size_t i = 0; i < rejoin_tasks; ++i)
      cases += (i > 0 ? "," : "") + std::string{R"({"id":"c)"}
               + std::to_string(i) + R"(","inputs":{}})";
    auto path = dir.path() + "/rejoin.json";
    std::ofstream{path} << R"({"name":"rejoin","target":{"type":"stub"},)"
                        << R"("execution_policy":{"concurrency":2},)"
                        << R"("stub":{"simulated_delay_seconds":0.1},)"
                        << R"("datasets":[{"name":"d","cases":[)" << cases
                        << "]}]}";
    return path;
  }

  /// Kills `node` once it has written a line to the results.
  void kill_after_first_line(node_process& node) {
    auto mark = "\"node\":\"" + node.address() + "\"";
    BOOST_REQUIRE_MESSAGE(
      eventually(
        [&] { return slurp_file(out).find(mark) != std::string::npos; }, 30s),
      "the node wrote no line");
    node.signal(SIGKILL);
  }

  /// Every task has exactly one line.
  results_file one_line_each() {
    auto f = read_results(out);
    BOOST_REQUIRE(f.has_summary());
    BOOST_CHECK_EQUAL(f.results.size(), rejoin_tasks);
    for (auto& [id, n] : f.result_count)
      BOOST_CHECK_MESSAGE(n == 1, id << " has " << n << " lines");
    return f;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(nodes_rejoin, rejoin_fixture)

BOOST_AUTO_TEST_CASE(a_node_back_within_the_grace_finishes_the_run,
                     *utf::timeout(120)) {
  auto first = std::make_unique<node_process>(2);
  auto address = first->address();
  child_process run{{troupe_binary(), "run", manifest(), "--nodes", address,
                     "--node-grace", "60", "--out", out, "--progress",
                     "never"}};
  kill_after_first_line(*first);
  BOOST_REQUIRE_MESSAGE(eventually(
                          [&] {
                            return slurp_file(run.stderr_path()).find("is lost")
                                   != std::string::npos;
                          },
                          30s),
                        "the run did not see the node go");
  first.reset();
  node_process second{2, {}, {}, address};
  auto r = run.wait(90s);
  BOOST_REQUIRE(!r.timed_out);
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK(contains(slurp_file(run.stderr_path()),
                       "troupe: node " + address + " is back with 2 workers"));
  auto f = one_line_each();
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), rejoin_tasks);
  BOOST_CHECK_EQUAL(f.summary().at("end").as_string(), "completed");
  size_t lost = 0;
  for (auto& [id, line] : f.results) {
    BOOST_CHECK_EQUAL(line.at("node").as_string(), address);
    BOOST_CHECK_EQUAL(line.at("attempts").as_int64(), 1);
    for (auto& a : line.at("attempt_log").as_array())
      lost += a.as_object().at("status").as_string() == "node_lost";
  }
  // The node held one to four tasks when it died: two workers, each with
  // a task running and one queued ahead of it (the window).
  BOOST_CHECK_GE(lost, 1u);
  BOOST_CHECK_LE(lost, 4u);
}

BOOST_AUTO_TEST_CASE(with_no_node_back_the_rest_ends_cancelled_no_nodes,
                     *utf::timeout(120)) {
  std::string address;
  {
    node_process node{2};
    address = node.address();
    child_process run{{troupe_binary(), "run", manifest(), "--nodes", address,
                       "--node-grace", "1", "--out", out, "--progress",
                       "never"}};
    kill_after_first_line(node);
    auto r = run.wait(90s);
    BOOST_REQUIRE(!r.timed_out);
    BOOST_CHECK_EQUAL(r.code, 1);
  }
  auto f = one_line_each();
  auto& summary = f.summary();
  BOOST_CHECK_EQUAL(summary.at("end").as_string(), "no_nodes");
  BOOST_CHECK_EQUAL(summary.at("reason").as_string(), "no nodes");
  auto done = f.count("SUCCEEDED");
  BOOST_CHECK_GE(done, 1u);
  BOOST_CHECK_EQUAL(done + f.count("CANCELLED"), rejoin_tasks);
  for (auto& [id, line] : f.results)
    if (line.at("status").as_string() == "CANCELLED")
      BOOST_CHECK_EQUAL(line.at("error").as_string(), "no nodes");
  // --resume on a new node runs exactly the cancelled ones.
  node_process next{2};
  auto r = run_process({troupe_binary(), "run", manifest(), "--nodes",
                        next.address(), "--resume", out, "--progress", "never"},
                       90s, dir.path());
  BOOST_CHECK_EQUAL(r.code, 0);
  auto g = read_results(out);
  BOOST_CHECK_EQUAL(g.results.size(), rejoin_tasks);
  BOOST_CHECK_EQUAL(g.count("SUCCEEDED"), rejoin_tasks);
  BOOST_CHECK_EQUAL(g.summary().at("end").as_string(), "completed");
}

BOOST_AUTO_TEST_SUITE_END()
