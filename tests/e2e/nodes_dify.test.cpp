// Dify targets on nodes (docs/distribution-plan.md, section 5): each node
// calls fake-dify with its own HTTP client and the key from its own
// environment; the supervisor needs none. A node without the key refuses
// the run at start, naming itself and the variable.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"
#include "tests/e2e/node_process.hpp"
#include "tests/support/text.hpp"
#include <sys/stat.h>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

struct nodes_dify_fixture : dify_fixture {
  /// 40 cases against `server`, 8 at a time.
  std::string forty_cases(const fake_dify_process& server) {
    std::string cases;
    for (int i = 0; i < 40; ++i)
      cases += (i > 0 ? "," : "") + std::string{R"({"id": "q)"}
               + std::to_string(i) + R"(", "inputs": {"n": )"
               + std::to_string(i) + "}}";
    return manifest(target(server), "[" + cases + "]",
                    R"("execution_policy": {"concurrency": 8})");
  }

  /// `troupe run M --nodes LIST`, without the key in its environment.
  process_result run_on_nodes(const std::string& m, const std::string& nodes) {
    out = dir.file("r" + std::to_string(++runs) + ".jsonl");
    return run_process({troupe_binary(), "run", m, "--nodes", nodes, "--out",
                        out, "--progress", "never"},
                       60s, dir.path());
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(nodes_dify, nodes_dify_fixture)

BOOST_AUTO_TEST_CASE(each_node_calls_dify_with_the_key_of_its_environment,
                     *utf::timeout(90)) {
  fake_dify_process server;
  node_process a{2, {}, {"TEST_DIFY_KEY=" + key}};
  node_process b{6, {}, {"TEST_DIFY_KEY=" + key}};
  auto m = forty_cases(server);
  auto r = run_on_nodes(m, a.address() + "," + b.address());
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = results();
  BOOST_REQUIRE(f.has_summary());
  BOOST_CHECK_EQUAL(f.results.size(), 40u);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 40u);
  std::map<std::string, size_t> per_node;
  for (auto& [id, line] : f.results) {
    BOOST_CHECK_EQUAL(f.result_count.at(id), 1);
    ++per_node[std::string{line.at("node").as_string()}];
  }
  for (auto& [node, n] : per_node)
    BOOST_CHECK_MESSAGE(node == a.address() || node == b.address(), node);
  // Every call reached the server, and it took the key: no 401.
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 40);
  BOOST_CHECK(!contains(read_file(out), key));
  BOOST_CHECK(!contains(r.out + r.err, key));
}

BOOST_AUTO_TEST_CASE(a_node_without_the_key_refuses_the_run,
                     *utf::timeout(90)) {
  fake_dify_process server;
  node_process with_key{2, {}, {"TEST_DIFY_KEY=" + key}};
  node_process without{2};
  auto r = run_on_nodes(forty_cases(server),
                        with_key.address() + "," + without.address());
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, "troupe: node " + without.address()
                             + " refuses the run: the environment variable "
                               "TEST_DIFY_KEY is not set on this node (it "
                               "must hold the API key; set it where the node "
                               "runs, or give troupe run --send-keys over "
                               "TLS)\n");
  // Nothing ran and no results file is left behind.
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 0);
  struct stat st {};
  BOOST_CHECK(::stat(out.c_str(), &st) != 0);
  // The node that said no serves the next run once it has the key; the one
  // that had prepared is free again too.
  node_process fixed{2, {}, {"TEST_DIFY_KEY=" + key}};
  r = run_on_nodes(forty_cases(server),
                   with_key.address() + "," + fixed.address());
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(results().count("SUCCEEDED"), 40u);
}

BOOST_AUTO_TEST_SUITE_END()
