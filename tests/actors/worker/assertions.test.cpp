// The output checks of `expect`, each passing and failing.

#include "actors/worker/assertions.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

namespace {

std::vector<assertion_result> run(const expectation& e, const std::string& out,
                                  int64_t latency_us = 1000) {
  return check_expectation(e, out, latency_us);
}

} // namespace

BOOST_AUTO_TEST_SUITE(assertions)

BOOST_AUTO_TEST_CASE(contains_and_not_contains_look_at_the_text) {
  expectation e;
  e.contains = {"sum", "nope"};
  e.not_contains = {"error", "mary"};
  auto r = run(e, R"("a summary")");
  BOOST_REQUIRE_EQUAL(r.size(), 4u);
  BOOST_CHECK(r[0].passed);
  BOOST_CHECK_EQUAL(r[0].check, "contains");
  BOOST_CHECK_EQUAL(r[0].detail, "found \"sum\"");
  BOOST_CHECK(!r[1].passed);
  BOOST_CHECK_EQUAL(r[1].detail, "\"nope\" is not in the output");
  BOOST_CHECK(r[2].passed);
  BOOST_CHECK(!r[3].passed);
  BOOST_CHECK_EQUAL(r[3].detail, "found \"mary\"");
  // An object output is checked as its compact JSON.
  expectation k;
  k.contains = {R"("answer":"42")"};
  BOOST_CHECK(run(k, R"({"answer":"42"})")[0].passed);
}

BOOST_AUTO_TEST_CASE(regex_searches_and_survives_catastrophic_patterns) {
  expectation e;
  e.regex = {R"(\d{3}-\d{4})", "^exact$", "(a+)+$"};
  auto r = run(e, R"("call 555-1234 now")");
  BOOST_CHECK(r[0].passed);
  BOOST_CHECK_EQUAL(r[0].detail, R"(matches /\d{3}-\d{4}/)");
  BOOST_CHECK(!r[1].passed);
  BOOST_CHECK_EQUAL(r[1].detail, "no match for /^exact$/");
  // Exponential backtracking ends in a failed check, not a hang or a crash.
  auto bad = run(e, "\"" + std::string(40, 'a') + "b\"");
  BOOST_CHECK(!bad[2].passed);
}

BOOST_AUTO_TEST_CASE(equals_compares_whole_json_values) {
  expectation e;
  e.equals_json = R"({"b":2,"a":[1,"x"]})";
  BOOST_CHECK(run(e, R"({"a":[1,"x"],"b":2})")[0].passed);
  auto r = run(e, R"({"a":[1,"y"],"b":2})");
  BOOST_CHECK(!r[0].passed);
  BOOST_CHECK_EQUAL(r[0].detail, R"(the output is {"a":[1,"y"],"b":2}, )"
                                 R"(expected {"b":2,"a":[1,"x"]})");
  expectation s;
  s.equals_json = R"("42")";
  BOOST_CHECK(run(s, R"("42")")[0].passed);
  BOOST_CHECK(!run(s, "42")[0].passed);
}

BOOST_AUTO_TEST_CASE(json_pointers_must_hold_exact_values) {
  expectation e;
  e.json_pointers = {"/answer", "/items/1", "/missing"};
  e.json_values = {R"("42")", "true", "1"};
  auto r = run(e, R"({"answer":"42","items":[false,true]})");
  BOOST_REQUIRE_EQUAL(r.size(), 3u);
  BOOST_CHECK(r[0].passed);
  BOOST_CHECK_EQUAL(r[0].check, "json /answer");
  BOOST_CHECK(r[1].passed);
  BOOST_CHECK(!r[2].passed);
  BOOST_CHECK_EQUAL(r[2].detail, "no value at /missing");
  auto wrong = run(e, R"({"answer":42,"items":[true,false]})");
  BOOST_CHECK(!wrong[0].passed);
  BOOST_CHECK_EQUAL(wrong[0].detail, R"(/answer is 42, expected "42")");
}

BOOST_AUTO_TEST_CASE(max_latency_bounds_the_latency_when_measured) {
  expectation e;
  e.max_latency_us = 100'000;
  auto ok = run(e, "{}", 99'500);
  BOOST_CHECK(ok[0].passed);
  BOOST_CHECK_EQUAL(ok[0].detail, "latency 99.5 ms, limit 100 ms");
  BOOST_CHECK(!run(e, "{}", 100'001)[0].passed);
  BOOST_CHECK(run(e, "{}", -1).empty()); // a cached output has no latency
}

BOOST_AUTO_TEST_CASE(no_checks_no_results) {
  BOOST_CHECK(run(expectation{}, "{}").empty());
}

BOOST_AUTO_TEST_SUITE_END()
