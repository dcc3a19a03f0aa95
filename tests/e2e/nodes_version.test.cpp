// A node of another troupe version is refused at `hello`, naming both
// versions (docs/distribution-plan.md, section 3). The node's version comes
// from the test-only TROUPE_TEST_NODE_VERSION (runtime/node.hpp).

#include <boost/test/unit_test.hpp>

#include "tests/e2e/node_process.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <regex>
#include <string>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

BOOST_AUTO_TEST_SUITE(nodes_version)

BOOST_AUTO_TEST_CASE(a_node_of_another_version_is_refused_naming_both,
                     *utf::timeout(60)) {
  temp_dir dir;
  auto v = run_process({troupe_binary(), "--version"}, 30s);
  BOOST_REQUIRE_EQUAL(v.code, 0);
  // "troupe X (CAF ..., ...)\n"
  auto ours = v.out.substr(7, v.out.find(' ', 7) - 7);
  BOOST_REQUIRE_NE(ours, "9.9.9");
  node_process node{2, {}, {"TROUPE_TEST_NODE_VERSION=9.9.9"}};
  auto r = run_process(
    {troupe_binary(), "run", source_dir() + "/tests/manifests/all-ok.json",
     "--nodes", node.address(), "--out", "r.jsonl", "--progress", "never"},
    60s, dir.path());
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.out, "");
  // The protocol fingerprints are equal: only the version differs.
  std::regex refused{"troupe: node " + node.address()
                     + " runs troupe 9\\.9\\.9 \\(protocol ([0-9a-f]{16})\\), "
                       "this is troupe "
                     + std::regex_replace(ours, std::regex{"\\."}, "\\.")
                     + " \\(protocol \\1\\); run the same troupe on every "
                       "machine\n"};
  BOOST_CHECK_MESSAGE(std::regex_match(r.err, refused), r.err);
}

BOOST_AUTO_TEST_CASE(the_same_version_runs, *utf::timeout(60)) {
  temp_dir dir;
  // An empty override is no override.
  node_process node{2, {}, {"TROUPE_TEST_NODE_VERSION="}};
  auto r = run_process(
    {troupe_binary(), "run", source_dir() + "/tests/manifests/all-ok.json",
     "--nodes", node.address(), "--out", "r.jsonl", "--progress", "never"},
    60s, dir.path());
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(r.err, "");
}

BOOST_AUTO_TEST_CASE(of_two_failing_nodes_the_first_listed_is_named,
                     *utf::timeout(90)) {
  // Nodes are connected to at once: whichever fails first, the error names
  // the first failing node in the order given.
  std::string gone;
  {
    node_process node{1};
    gone = node.address();
  }
  node_process other{2, {}, {"TROUPE_TEST_NODE_VERSION=9.9.9"}};
  for (auto order :
       {gone + "," + other.address(), other.address() + "," + gone}) {
    temp_dir dir;
    auto r = run_process(
      {troupe_binary(), "run", source_dir() + "/tests/manifests/all-ok.json",
       "--nodes", order, "--out", "r.jsonl", "--progress", "never"},
      60s, dir.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    auto first = order.substr(0, order.find(','));
    auto named = "troupe: node " + first
                 + (first == gone ? " is unreachable" : " runs troupe 9.9.9");
    BOOST_CHECK_MESSAGE(r.err.rfind(named, 0) == 0, r.err);
    // One error, not two.
    BOOST_CHECK_EQUAL(std::count(r.err.begin(), r.err.end(), '\n'), 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()
