// The plain dataset line's reader against the full parser: what it accepts
// it reads byte for byte as the full parser does, and everything else it
// leaves to the full parser, whose results and errors stay the same.

#include "config/plain_case.hpp"

#include "config/dataset_reader.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/dirty_case.hpp"

#include <string>

using namespace troupe;
using namespace troupe::config;
using namespace std::string_literals;

using troupe::test::dirty_case;

namespace {

// An inputs object with `n` keys, as a line and compact.
std::string keys(int n) {
  std::string out = R"({"id": "m", "inputs": {)";
  for (int i = 0; i < n; ++i)
    out += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": 1";
  return out + "}}";
}

std::string keys_compact(int n) {
  std::string out = "{";
  for (int i = 0; i < n; ++i)
    out += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  return out + "}";
}

std::string full_error(std::string_view line) {
  auto c = dirty_case();
  auto err = parse_case_full(line, "d.jsonl", 3, "", c);
  return err ? err->message : "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(plain_case)

BOOST_AUTO_TEST_CASE(plain_lines_read_as_the_full_parser_reads_them) {
  const std::pair<std::string, std::string> lines[] = {
    {R"({"id": "c1", "inputs": {"text": "case 1"}})", R"({"text":"case 1"})"},
    {R"({"id":"c1","inputs":{"text":"case 1"}})", R"({"text":"case 1"})"},
    {" {\t\"inputs\" : { } ,\r\n\"id\" : \"x\" } \r", "{}"},
    {R"({"id": "only"})", "{}"},
    {R"({"id": 42, "inputs": {"n": -7, "z": 0, "big": 123456789012345678}})",
     R"({"n":-7,"z":0,"big":123456789012345678})"},
    {R"({"id": -3, "inputs": {"t": true, "f": false, "x": null}})",
     R"({"t":true,"f":false,"x":null})"},
    {"{\"id\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"inputs\": "
     "{\"k\xc3\xa9\": \"\x7f/'<>\"}}",
     "{\"k\xc3\xa9\":\"\x7f/'<>\"}"},
    {R"({"inputs": {"a": "", "b": "two words"}, "id": "last"})",
     R"({"a":"","b":"two words"})"},
    {R"({"id": "k", "inputs": {"": 1, "id": "x", "inputs": -999999999999999999}})",
     R"({"":1,"id":"x","inputs":-999999999999999999})"},
    {"{\"id\": \"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}", "{}"},
    {keys(32), keys_compact(32)},
  };
  for (auto& [line, inputs] : lines) {
    BOOST_TEST_CONTEXT(line) {
      auto plain = dirty_case();
      BOOST_REQUIRE(parse_plain_case(line, plain));
      auto full = dirty_case();
      BOOST_REQUIRE(!parse_case_full(line, "d.jsonl", 1, "", full));
      BOOST_CHECK_EQUAL(plain.inputs_json, inputs);
      BOOST_CHECK_EQUAL(plain.id, full.id);
      BOOST_CHECK_EQUAL(plain.inputs_json, full.inputs_json);
      BOOST_CHECK_EQUAL(plain.query, "");
      BOOST_CHECK_EQUAL(plain.conversation_id, "");
      BOOST_CHECK(plain.expect.empty());
      BOOST_CHECK(plain.turns.empty());
      BOOST_CHECK_EQUAL(full.query, "");
      BOOST_CHECK_EQUAL(full.conversation_id, "");
      BOOST_CHECK(full.expect.empty());
      BOOST_CHECK(full.turns.empty());
    }
  }
  auto c = dirty_case();
  BOOST_REQUIRE(parse_plain_case(R"({"id": 17})", c));
  BOOST_CHECK_EQUAL(c.id, "17");
}

BOOST_AUTO_TEST_CASE(other_lines_go_to_the_full_parser_with_its_errors) {
  // Valid, but not plain: the full parser reads them.
  const std::string valid[] = {
    R"({"id": "c", "query": "q"})",
    R"({"id": "c", "inputs": {"a": {"b": 1}}})",
    R"({"id": "c", "inputs": {"a": [1, 2]}})",
    R"({"id": "c", "inputs": {"a": 1.5}})",
    R"({"id": "c", "inputs": {"a": 1e3}})",
    R"({"id": "c", "inputs": {"a": -0}})",
    R"({"id": -0})",
    R"({"id": 1234567890123456789})",
    R"({"id": "c", "inputs": {"a": 1234567890123456789}})",
    R"({"id": "c\"q", "inputs": {}})",
    R"({"id": "c", "inputs": {"a\u00e9": "\u00e9"}})",
    R"({"\u0069d": "c"})",
    R"({"id": "c", "expect": {"contains": "x"}})",
    keys(33),
  };
  // Errors, which the full parser words.
  const std::string errors[] = {
    R"({"id": "c", "inputs": {"a": 1, "a": 2}})",
    R"({"id": "c", "id": "d"})",
    R"({"id": "c", "inputs": {}, "inputs": {}})",
    R"({"id": ""})",
    R"({"id": true})",
    R"({"id": 1.5})",
    R"({"inputs": {}})",
    R"({})",
    R"([])",
    R"({"id": "c"} x)",
    R"({"id": "c",})",
    R"({"id": "c", "inputs": {"a": 01}})",
    R"({"id": "c", "inputs": {"a": tru}})",
    R"({"id": "c", "inputs": {"a": truex}})",
    R"({"id": "c", "inputs": {"a": nul}})",
    R"({"id": "c", "inputs": {"a": -}})",
    R"({"id": "c", "inputs": {"a": 1x}})",
    R"({"id": "c", "inputs": {"a": "x"})",
    R"({"id": "c)",
    R"({"id": "c" /* a comment */})",
    "\xef\xbb\xbf{\"id\": \"c\"}",
    "{\"id\": \"c\"}\f",
    "{\"id\": \"a\0b\"}"s,
    "{\"id\": \"c\"}\0"s,
    "{\"id\": \"a\x01\"}",
    "{\"id\": \"\xc0\x80\"}",
    "{\"id\": \"\xed\xa0\x80\"}",
    "{\"id\": \"\xf4\x90\x80\x80\"}",
    "{\"id\": \"\xe2\x82\"}",
    "",
  };
  auto check = [](const std::string& line, bool error) {
    BOOST_TEST_CONTEXT(line) {
      auto plain = dirty_case();
      BOOST_CHECK(!parse_plain_case(line, plain));
      // Through the reader's entry point, after the plain reader may have
      // written some fields: the full parser's result, whole.
      auto c = dirty_case();
      auto full = dirty_case();
      auto err = parse_case_into(line, "d.jsonl", 3, "", c);
      auto full_err = parse_case_full(line, "d.jsonl", 3, "", full);
      BOOST_CHECK_EQUAL(static_cast<bool>(full_err), error);
      BOOST_CHECK_EQUAL(err ? err->message : "", full_error(line));
      if (!err && !full_err) {
        BOOST_CHECK_EQUAL(c.id, full.id);
        BOOST_CHECK_EQUAL(c.inputs_json, full.inputs_json);
        BOOST_CHECK_EQUAL(c.query, full.query);
        BOOST_CHECK_EQUAL(c.conversation_id, full.conversation_id);
        BOOST_CHECK_EQUAL(c.expect.empty(), full.expect.empty());
        BOOST_CHECK_EQUAL(c.turns.size(), full.turns.size());
      }
    }
  };
  for (auto& line : valid)
    check(line, false);
  for (auto& line : errors)
    check(line, true);
  BOOST_CHECK_EQUAL(full_error(R"({"id": "c", "inputs": {"a": 1, "a": 2}})"),
                    "d.jsonl:3: inputs.a: duplicate key (each key may appear "
                    "once in an object)");
}

BOOST_AUTO_TEST_CASE(valid_utf8_follows_rfc_3629) {
  BOOST_CHECK(valid_utf8(""));
  BOOST_CHECK(valid_utf8("ascii \x7f"));
  BOOST_CHECK(
    valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  BOOST_CHECK(!valid_utf8("\xc0\x80"));         // overlong
  BOOST_CHECK(!valid_utf8("\xe0\x80\x80"));     // overlong
  BOOST_CHECK(!valid_utf8("\xed\xa0\x80"));     // a surrogate
  BOOST_CHECK(!valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
  BOOST_CHECK(!valid_utf8("\xe2\x82"));         // cut short
  BOOST_CHECK(!valid_utf8("\x80"));             // a lone continuation
  BOOST_CHECK(!valid_utf8("\xff"));
}

BOOST_AUTO_TEST_SUITE_END()
