// `troupe diff` as CI uses it (issue 12): two runs of one manifest against
// fake-dify, the second with a failure rate, and diff exits 1 naming each
// task that regressed. (Suite dify.)

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"

#include <set>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

std::string forty_cases() {
  std::string cases = "[";
  for (int i = 0; i < 40; ++i)
    cases += std::string{i ? "," : ""} + R"({"id": "c)" + std::to_string(i)
             + R"(", "inputs": {"text": "case )" + std::to_string(i) + "\"}}";
  return cases + "]";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(dify, dify_fixture)

BOOST_AUTO_TEST_CASE(diff_names_the_tasks_a_higher_failure_rate_broke,
                     *utf::timeout(120)) {
  const std::string once = R"("retry_policy": {"max_attempts": 1})";
  fake_dify_process good;
  auto base_manifest = manifest(target(good), forty_cases(), once);
  BOOST_REQUIRE_EQUAL(run(base_manifest).code, 0);
  auto base = out;
  // The same cases on a server that fails a third of its calls.
  fake_dify_process flaky{{"--failure-rate", "0.3", "--seed", "7"}};
  auto next_manifest = manifest(target(flaky), forty_cases(), once);
  BOOST_REQUIRE_EQUAL(run(next_manifest).code, 1);
  auto next = out;
  std::set<std::string> broken;
  for (auto& [id, r] : results().results)
    if (r.at("status").as_string() != "SUCCEEDED")
      broken.insert(id);
  BOOST_REQUIRE(!broken.empty());
  BOOST_REQUIRE_LT(broken.size(), 40u);

  child_process text{{troupe_binary(), "diff", base, next}, dir.path()};
  auto t = text.wait(30s);
  BOOST_CHECK_EQUAL(t.code, 1);
  for (auto& id : broken)
    BOOST_CHECK_MESSAGE(t.out.find(id) != std::string::npos,
                        id << " is not named in:\n"
                           << t.out);
  BOOST_CHECK_NE(t.out.find("verdict: worse (" + std::to_string(broken.size())
                            + " newly failing"),
                 std::string::npos);

  child_process as_json{{troupe_binary(), "diff", base, next, "--json"},
                        dir.path()};
  auto j = as_json.wait(30s);
  BOOST_CHECK_EQUAL(j.code, 1);
  auto d = json::parse(j.out).as_object();
  BOOST_CHECK(d.at("worse").as_bool());
  // The manifests differ in base_url only, which diff allows with a note.
  BOOST_CHECK(!d.at("manifest_warning").as_string().empty());
  std::set<std::string> named;
  for (auto& c : d.at("newly_failing").as_array())
    named.insert(std::string{c.at("task_id").as_string()});
  BOOST_CHECK(named == broken);

  // The other way round nothing got worse: the broken tasks are fixed.
  child_process back{{troupe_binary(), "diff", next, base, "--json"},
                     dir.path()};
  auto b = back.wait(30s);
  BOOST_CHECK_EQUAL(b.code, 0);
  BOOST_CHECK_EQUAL(json::parse(b.out).at("fixed").as_array().size(),
                    broken.size());
}

BOOST_AUTO_TEST_SUITE_END()
