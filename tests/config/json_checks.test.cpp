// Typed JSON access: every error names where, the JSON path, what was
// expected and what came instead.

#include "config/json_checks.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/check_failure.hpp"

#include <limits>

using namespace troupe::config;
namespace json = boost::json;

using troupe::test::failure_of;

namespace {

const checker chk{"m.json"};

} // namespace

BOOST_AUTO_TEST_SUITE(json_checks)

BOOST_AUTO_TEST_CASE(paths_join_keys_and_indexes) {
  BOOST_CHECK_EQUAL(join_path("", "a"), "a");
  BOOST_CHECK_EQUAL(join_path("a", "b"), "a.b");
  BOOST_CHECK_EQUAL(index_path("a", 2), "a[2]");
  BOOST_CHECK_EQUAL(index_path(join_path("a", "b"), 0), "a.b[0]");
}

BOOST_AUTO_TEST_CASE(describe_names_the_kind_of_containers_and_shortens) {
  BOOST_CHECK_EQUAL(describe(json::value("x")), "\"x\"");
  BOOST_CHECK_EQUAL(describe(json::value(2.5)), "2.5");
  BOOST_CHECK_EQUAL(describe(json::value(nullptr)), "null");
  BOOST_CHECK_EQUAL(describe(json::parse("[1]")), "an array [1]");
  BOOST_CHECK_EQUAL(describe(json::parse(R"({"a":true})")),
                    "an object {\"a\":true}");
  auto long_text = describe(json::value(std::string(100, 'x')));
  BOOST_CHECK_EQUAL(long_text, "\"" + std::string(56, 'x') + "...");
}

BOOST_AUTO_TEST_CASE(relaxed_json_takes_comments_and_trailing_commas) {
  auto v
    = parse_relaxed("{\"a\": [1, 2,], // note\n /* b */ \"b\": 3,}", "m.json");
  BOOST_CHECK_EQUAL(json::serialize(v), R"({"a":[1,2],"b":3})");
}

BOOST_AUTO_TEST_CASE(broken_json_names_line_and_column) {
  BOOST_CHECK_EQUAL(
    failure_of([] { parse_relaxed("{\n  \"a\": ?}", "m.json"); }),
    "m.json:2:8: invalid JSON (syntax error)");
}

BOOST_AUTO_TEST_CASE(a_duplicate_key_is_found_with_its_path) {
  json::parse_options opts;
  BOOST_CHECK(!duplicate_key(R"({"a":{"b":1},"c":{"b":2}})", opts));
  BOOST_CHECK_EQUAL(*duplicate_key(R"({"t":{"type":1,"type":2}})", opts),
                    "t.type");
  BOOST_CHECK_EQUAL(*duplicate_key(R"({"d":[{"x":1},{"x":1,"x":2}]})", opts),
                    "d[1].x");
  BOOST_CHECK_EQUAL(
    failure_of([] { parse_relaxed(R"({"a":1,"a":2})", "m.json"); }),
    "m.json: a: duplicate key (each key may appear once in an object)");
}

// The one pass over a dataset line: the tree json::parse builds, and the
// first key held twice, written plainly or with escapes.
BOOST_AUTO_TEST_CASE(parse_checked_builds_the_tree_and_finds_duplicates) {
  auto parse = [](std::string_view text, json::error_code& ec,
                  std::optional<std::string>& dup) {
    return parse_checked(text, json::storage_ptr{}, ec, dup);
  };
  json::error_code ec;
  std::optional<std::string> dup;
  std::string text = R"({"id":"c1","inputs":{"a":[1,2.5,{"b":null}],)"
                     R"("s":"x\u00e9"},"expect":{"a":{"x":1},"b":{"x":true}}})";
  auto v = parse(text, ec, dup);
  BOOST_CHECK(!ec);
  BOOST_CHECK(!dup);
  BOOST_CHECK_EQUAL(json::serialize(v), json::serialize(json::parse(text)));
  parse(R"({"a":{"k":1,"j":[{"ab":1,"a\u0062":2}]}})", ec, dup);
  BOOST_CHECK(!ec);
  BOOST_REQUIRE(dup);
  BOOST_CHECK_EQUAL(*dup, "a.j[0].ab");
  // Invalid JSON wins over a duplicate found before the error, and the
  // parser is whole again for the next line.
  dup.reset();
  v = parse(R"({"a":1,"a":2,)", ec, dup);
  BOOST_CHECK(ec);
  BOOST_CHECK(!dup);
  BOOST_CHECK(v.is_null());
  ec = {};
  v = parse(R"({"a":1} x)", ec, dup);
  BOOST_CHECK(ec == json::error::extra_data);
  ec = {};
  v = parse(R"({"a":1,"b":{"a":2}})", ec, dup);
  BOOST_CHECK(!ec);
  BOOST_CHECK(!dup);
  BOOST_CHECK_EQUAL(json::serialize(v), R"({"a":1,"b":{"a":2}})");
}

BOOST_AUTO_TEST_CASE(type_errors_say_what_was_expected_and_got) {
  BOOST_CHECK_EQUAL(failure_of([] { chk.object(json::value(1), "x"); }),
                    "m.json: x: must be an object, got 1");
  BOOST_CHECK_EQUAL(failure_of([] { chk.array(json::value("s"), "x"); }),
                    "m.json: x: must be an array, got \"s\"");
  BOOST_CHECK_EQUAL(failure_of([] { chk.string(json::value(""), "x"); }),
                    "m.json: x: must be a non-empty string, got \"\"");
  BOOST_CHECK_EQUAL(chk.string(json::value(""), "x", true), "");
  BOOST_CHECK_EQUAL(failure_of([] { chk.boolean(json::value(0), "x"); }),
                    "m.json: x: must be true or false, got 0");
  BOOST_CHECK_EQUAL(failure_of([] { chk.fail("", "whole file"); }),
                    "m.json: whole file");
}

BOOST_AUTO_TEST_CASE(integers_accept_whole_doubles_within_range) {
  BOOST_CHECK_EQUAL(chk.integer(json::value(4.0), "n", 1, 10), 4);
  BOOST_CHECK_EQUAL(
    failure_of([] { chk.integer(json::value("eight"), "n", 1, INT64_MAX); }),
    "m.json: n: must be an integer >= 1, got \"eight\"");
  BOOST_CHECK_EQUAL(
    failure_of([] { chk.integer(json::value(1.5), "n", 1, 10); }),
    "m.json: n: must be an integer from 1 to 10, got 1.5");
  BOOST_CHECK_EQUAL(
    failure_of([] { chk.integer(json::value(11), "n", 1, 10); }),
    "m.json: n: must be an integer from 1 to 10, got 11");
  BOOST_CHECK_EQUAL(
    failure_of(
      [] { chk.integer(json::value(uint64_t{1} << 63), "n", 0, INT64_MAX); }),
    "m.json: n: must be an integer >= 0, got 9223372036854775808");
}

BOOST_AUTO_TEST_CASE(numbers_check_inclusive_and_exclusive_bounds) {
  BOOST_CHECK_EQUAL(chk.number(json::value(0), "r", 0, 1), 0.0);
  BOOST_CHECK_EQUAL(
    failure_of([] { chk.number(json::value(0), "r", 0, 1, true); }),
    "m.json: r: must be a number > 0 and <= 1, got 0");
  BOOST_CHECK_EQUAL(failure_of([] {
                      chk.number(json::value(true), "r", 0,
                                 std::numeric_limits<double>::infinity());
                    }),
                    "m.json: r: must be a number >= 0, got true");
}

BOOST_AUTO_TEST_CASE(keys_must_be_known_and_required_ones_present) {
  auto obj = json::parse(R"({"a":1,"z":2})").as_object();
  BOOST_CHECK_EQUAL(failure_of([&] {
                      chk.only_keys(obj, "p", {"a", "b"});
                    }),
                    "m.json: p.z: unknown key (expected one of: a, b)");
  BOOST_CHECK_EQUAL(chk.required(obj, "p", "a").as_int64(), 1);
  BOOST_CHECK_EQUAL(failure_of([&] { chk.required(obj, "p", "b"); }),
                    "m.json: p.b: missing key");
}

BOOST_AUTO_TEST_CASE(an_infinite_number_is_named_by_its_path) {
  auto v = json::parse(R"({"a":[1,{"b":1e400}]})");
  BOOST_CHECK_EQUAL(failure_of([&] { chk.finite_numbers(v, "in"); }),
                    "m.json: in.a[1].b: number out of range (beyond "
                    "+-1.8e308)");
  BOOST_CHECK_EQUAL(
    failure_of([] { chk.finite_numbers(json::parse("[1e300]"), "in"); }), "");
}

BOOST_AUTO_TEST_SUITE_END()
