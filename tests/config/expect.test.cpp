// The `expect` object on its own: parsing, merging a dataset's checks with a
// case's, and JSON Pointer syntax.

#include "config/expect.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/check_failure.hpp"

using namespace troupe;
using namespace troupe::config;

using troupe::test::failure_of;

namespace {

expectation parse(const char* text) {
  return parse_expect(checker{"m.json"}, boost::json::parse(text), "expect");
}

std::string error_of(const char* text) {
  return failure_of([&] { parse(text); });
}

} // namespace

BOOST_AUTO_TEST_SUITE(expect)

BOOST_AUTO_TEST_CASE(an_empty_object_expects_nothing) {
  auto e = parse("{}");
  BOOST_CHECK(e.contains.empty() && e.not_contains.empty() && e.regex.empty());
  BOOST_CHECK_EQUAL(e.equals_json, "");
  BOOST_CHECK(e.json_pointers.empty());
  BOOST_CHECK_EQUAL(e.max_latency_us, -1);
}

BOOST_AUTO_TEST_CASE(strings_or_arrays_of_strings_give_lists) {
  auto e = parse(R"({"contains": "a", "not_contains": ["b", ""],
                     "regex": ["^x", "y$"]})");
  BOOST_TEST(e.contains == (std::vector<std::string>{"a"}));
  BOOST_TEST(e.not_contains == (std::vector<std::string>{"b", ""}));
  BOOST_TEST(e.regex == (std::vector<std::string>{"^x", "y$"}));
}

BOOST_AUTO_TEST_CASE(equals_and_json_values_are_kept_as_compact_json) {
  auto e = parse(R"({"equals": {"a": [1, 2.5]},
                     "json": {"": {"k": 1}, "/a~1b/0": "x"}})");
  BOOST_CHECK_EQUAL(e.equals_json, R"({"a":[1,2.5E0]})");
  BOOST_TEST(e.json_pointers == (std::vector<std::string>{"", "/a~1b/0"}));
  BOOST_TEST(e.json_values
             == (std::vector<std::string>{R"({"k":1})", R"("x")"}));
}

BOOST_AUTO_TEST_CASE(max_latency_ms_becomes_rounded_microseconds) {
  BOOST_CHECK_EQUAL(parse(R"({"max_latency_ms": 250})").max_latency_us,
                    250'000);
  BOOST_CHECK_EQUAL(parse(R"({"max_latency_ms": 0.0014})").max_latency_us, 1);
  BOOST_CHECK_EQUAL(error_of(R"({"max_latency_ms": -1})"),
                    "m.json: expect.max_latency_ms: must be a number >= 0 "
                    "and <= 86400000, got -1");
}

BOOST_AUTO_TEST_CASE(bad_values_are_errors_naming_their_path) {
  BOOST_CHECK_EQUAL(error_of("[]"),
                    "m.json: expect: must be an object, got an array []");
  BOOST_CHECK_EQUAL(error_of(R"({"contains": [1]})"),
                    "m.json: expect.contains[0]: must be a string, got 1");
  BOOST_CHECK_EQUAL(error_of(R"({"regex": "("})")
                      .rfind("m.json: expect.regex: must be a valid regular "
                             "expression (",
                             0),
                    0u);
  BOOST_CHECK_EQUAL(error_of(R"({"json": {"/a~2": 1}})"),
                    "m.json: expect.json[\"/a~2\"]: must be keyed by a JSON "
                    "Pointer (\"\" or \"/a/b\", with ~0 and ~1 as the only "
                    "escapes)");
  BOOST_CHECK_EQUAL(error_of(R"({"equals": [1, 1e400]})"),
                    "m.json: expect.equals[1]: number out of range (beyond "
                    "+-1.8e308)");
}

BOOST_AUTO_TEST_CASE(merging_adds_lists_and_the_case_wins_on_scalars) {
  auto ds = parse(R"({"contains": "a", "json": {"/x": 1}, "equals": 1,
                      "max_latency_ms": 100})");
  auto c = parse(R"({"contains": "b", "json": {"/y": 2}, "equals": 2})");
  auto m = merge_expect(ds, c);
  BOOST_TEST(m.contains == (std::vector<std::string>{"a", "b"}));
  BOOST_TEST(m.json_pointers == (std::vector<std::string>{"/x", "/y"}));
  BOOST_TEST(m.json_values == (std::vector<std::string>{"1", "2"}));
  BOOST_CHECK_EQUAL(m.equals_json, "2");
  BOOST_CHECK_EQUAL(m.max_latency_us, 100'000);
  auto only_case = merge_expect(parse("{}"), parse(R"({"max_latency_ms": 5})"));
  BOOST_CHECK_EQUAL(only_case.max_latency_us, 5'000);
  BOOST_CHECK_EQUAL(merge_expect(ds, parse("{}")).equals_json, "1");
}

BOOST_AUTO_TEST_CASE(json_pointers_follow_rfc_6901) {
  for (auto p : {"", "/", "/a", "/a/0", "/a~0b", "/a~1b", "//"})
    BOOST_CHECK_MESSAGE(valid_json_pointer(p), p);
  for (auto p : {"a", "#/a", "/a~", "/a~2", "/~x"})
    BOOST_CHECK_MESSAGE(!valid_json_pointer(p), p);
}

BOOST_AUTO_TEST_SUITE_END()
