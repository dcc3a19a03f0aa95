// The manifest's stub script: behaviours that must parse and name real
// tasks.

#include "config/stub_config.hpp"

#include "tests/config/manifest_fixture.hpp"

using namespace troupe;
using namespace troupe::config;
using troupe::test::manifest_fixture;

BOOST_FIXTURE_TEST_SUITE(manifest, manifest_fixture)

BOOST_AUTO_TEST_CASE(scripted_behaviours_must_name_real_tasks) {
  BOOST_CHECK_EQUAL(
    error(with(R"("stub": {"task_behaviors": {"d/c9#0": "fatal"}})")),
    "DIR/m.json: stub.task_behaviors[\"d/c9#0\"]: dataset \"d\" has no case "
    "\"c9\"");
  BOOST_CHECK_EQUAL(
    error(with(R"("stub": {"task_behaviors": {"d/c1#1": "fatal"}})")),
    "DIR/m.json: stub.task_behaviors[\"d/c1#1\"]: parameter index 1 is out "
    "of range (the manifest has 1 parameter set(s))");
  BOOST_CHECK_EQUAL(
    error(with(R"("stub": {"task_behaviors": {"d/c1#0": ["fatal", "meh"]}})")),
    "DIR/m.json: stub.task_behaviors[\"d/c1#0\"][1]: must be a behaviour "
    "(success, failure, fatal, timeout, error, 429, 429:retry-after=S, "
    "delay:Nms, auth, crash), got \"meh\"");
}

BOOST_AUTO_TEST_SUITE_END()
