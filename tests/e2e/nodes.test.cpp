// `troupe node` and `troupe run --nodes` as real processes on loopback
// (docs/distribution-plan.md): a run on a node, and the refusals at start.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/node_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

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
