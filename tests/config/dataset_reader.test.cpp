// The case reader on its own: inline cases, JSONL and CSV files read as
// streams, and the exact errors that name the file and line.

#include "config/dataset_reader.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

#include <vector>

using namespace troupe;
using namespace troupe::config;

namespace {

struct dataset_reader_fixture {
  test::temp_dir dir;

  dataset_config file_dataset(const std::string& name,
                              const std::string& text) {
    dataset_config ds;
    ds.name = "d";
    ds.file = dir.write(name, text);
    return ds;
  }

  /// Every case `ds` yields; the reader's error, if any, in `error`.
  std::vector<case_config> read_all(const dataset_config& ds,
                                    std::string* error = nullptr) {
    case_reader reader{ds};
    std::vector<case_config> out;
    case_config c;
    while (reader.next(c))
      out.push_back(c);
    if (error != nullptr)
      *error = reader.error() ? reader.error()->message : "";
    else if (reader.error())
      BOOST_FAIL("unexpected error: " + reader.error()->message);
    return out;
  }

  /// The error `ds` stops at.
  std::string error_of(const dataset_config& ds) {
    std::string error;
    read_all(ds, &error);
    return error;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(dataset_reader, dataset_reader_fixture)

BOOST_AUTO_TEST_CASE(inline_cases_come_back_in_order) {
  dataset_config ds;
  ds.cases.resize(2);
  ds.cases[0].id = "a";
  ds.cases[1].id = "b";
  ds.cases[1].inputs_json = R"({"x":1})";
  case_reader reader{ds};
  case_config c;
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "a");
  BOOST_CHECK_EQUAL(reader.line(), 0u);
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "b");
  BOOST_CHECK_EQUAL(c.inputs_json, R"({"x":1})");
  BOOST_CHECK(!reader.next(c));
  BOOST_CHECK(!reader.error());
}

BOOST_AUTO_TEST_CASE(jsonl_skips_blank_lines_and_reports_each_case_line) {
  auto ds = file_dataset(
    "cases.jsonl", "{\"id\":\"a\",\"inputs\":{\"t\":\"x\"}}\r\n"
                   "\n"
                   "   \n"
                   "{\"id\":7,\"query\":\"q\",\"conversation_id\":\"k\"}");
  case_reader reader{ds};
  case_config c;
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "a");
  BOOST_CHECK_EQUAL(c.inputs_json, R"({"t":"x"})");
  BOOST_CHECK_EQUAL(reader.line(), 1u);
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "7");
  BOOST_CHECK_EQUAL(c.inputs_json, "{}");
  BOOST_CHECK_EQUAL(c.query, "q");
  BOOST_CHECK_EQUAL(c.conversation_id, "k");
  BOOST_CHECK_EQUAL(reader.line(), 4u);
  BOOST_CHECK(!reader.next(c));
  BOOST_CHECK(!reader.error());
}

BOOST_AUTO_TEST_CASE(a_reused_case_loses_the_fields_the_next_line_lacks) {
  auto ds = file_dataset("cases.jsonl",
                         "{\"id\":\"a\",\"query\":\"q\",\"conversation_id\":"
                         "\"k\",\"expect\":{\"contains\":\"x\"}}\n"
                         "{\"id\":\"b\"}\n");
  case_reader reader{ds};
  case_config c;
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.expect.contains.size(), 1u);
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "b");
  BOOST_CHECK_EQUAL(c.query, "");
  BOOST_CHECK_EQUAL(c.conversation_id, "");
  BOOST_CHECK(c.expect.contains.empty());
}

BOOST_AUTO_TEST_CASE(a_bad_jsonl_line_names_the_file_line_and_key) {
  auto ds = file_dataset("cases.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\","
                                        "\"inputs\":[1]}\n");
  BOOST_CHECK_EQUAL(error_of(ds), ds.file
                                    + ":2: inputs: must be an object, "
                                      "got an array [1]");
  auto unknown = file_dataset("u.jsonl", "{\"id\":\"a\",\"input\":{}}\n");
  BOOST_CHECK_EQUAL(error_of(unknown),
                    unknown.file
                      + ":1: input: unknown key (expected one of: id, "
                        "inputs, query, conversation_id, expect, turns)");
  auto missing = file_dataset("m.jsonl", "{\"inputs\":{}}\n");
  BOOST_CHECK_EQUAL(error_of(missing), missing.file + ":1: id: missing key");
  auto dup = file_dataset("dup.jsonl", "{\"id\":\"a\",\"id\":\"b\"}\n");
  BOOST_CHECK_EQUAL(error_of(dup),
                    dup.file
                      + ":1: id: duplicate key (each key may appear "
                        "once in an object)");
}

BOOST_AUTO_TEST_CASE(csv_columns_become_inputs_and_special_columns_fields) {
  auto ds = file_dataset(
    "cases.csv", "id,text,query,expect\r\n"
                 "c1,\"a, \"\"quoted\"\" text\",hello,\n"
                 "c2,\"two\nlines\",,\"{\"\"contains\"\":\"\"x\"\"}\"\n");
  case_reader reader{ds};
  case_config c;
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "c1");
  BOOST_CHECK_EQUAL(c.inputs_json, R"({"text":"a, \"quoted\" text"})");
  BOOST_CHECK_EQUAL(c.query, "hello");
  BOOST_CHECK(c.expect.contains.empty());
  BOOST_CHECK_EQUAL(reader.line(), 2u);
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "c2");
  BOOST_CHECK_EQUAL(c.inputs_json, R"({"text":"two\nlines"})");
  BOOST_CHECK_EQUAL(c.query, "");
  BOOST_REQUIRE_EQUAL(c.expect.contains.size(), 1u);
  BOOST_CHECK_EQUAL(c.expect.contains[0], "x");
  BOOST_CHECK_EQUAL(reader.line(), 3u);
  BOOST_CHECK(!reader.next(c));
  BOOST_CHECK(!reader.error());
}

BOOST_AUTO_TEST_CASE(a_byte_order_mark_before_the_first_line_is_skipped) {
  // Excel's "CSV UTF-8" starts the file with one: without the skip, the
  // first column is "\xEF\xBB\xBFid" and the header has no "id".
  auto csv = read_all(file_dataset("bom.csv", "\xEF\xBB\xBFid,text\nc1,x\n"));
  BOOST_REQUIRE_EQUAL(csv.size(), 1u);
  BOOST_CHECK_EQUAL(csv[0].id, "c1");
  BOOST_CHECK_EQUAL(csv[0].inputs_json, R"({"text":"x"})");
  auto jsonl = read_all(
    file_dataset("bom.jsonl", "\xEF\xBB\xBF{\"id\":\"a\"}\n{\"id\":\"b\"}\n"));
  BOOST_REQUIRE_EQUAL(jsonl.size(), 2u);
  BOOST_CHECK_EQUAL(jsonl[0].id, "a");
  // Only the file's first bytes: a BOM anywhere else is the line's.
  BOOST_CHECK_EQUAL(
    error_of(file_dataset("late.jsonl",
                          "{\"id\":\"a\"}\n\xEF\xBB\xBF{\"id\":\"b\"}\n")),
    dir.file("late.jsonl") + ":2: invalid JSON (syntax error)");
}

BOOST_AUTO_TEST_CASE(csv_header_errors_name_the_problem) {
  BOOST_CHECK_EQUAL(error_of(file_dataset("e.csv", "")),
                    dir.file("e.csv")
                      + ":0: empty CSV file, expected a header row");
  BOOST_CHECK_EQUAL(error_of(file_dataset("n.csv", "text,query\nx,y\n")),
                    dir.file("n.csv")
                      + ":1: missing column \"id\" in the header row");
  BOOST_CHECK_EQUAL(error_of(file_dataset("d.csv", "id,x,x\n")),
                    dir.file("d.csv") + ":1: duplicate column \"x\"");
  BOOST_CHECK_EQUAL(error_of(file_dataset("b.csv", "id,,y\n")),
                    dir.file("b.csv") + ":1: column 2 has an empty name");
  BOOST_CHECK_EQUAL(error_of(file_dataset("u.csv", "id,caf\xe9\n")),
                    dir.file("u.csv")
                      + ":1: column 2 of the header row is not valid UTF-8 "
                        "(save the file as UTF-8)");
}

BOOST_AUTO_TEST_CASE(csv_record_errors_name_the_line_and_column) {
  BOOST_CHECK_EQUAL(error_of(file_dataset("w.csv", "id,t\na,b\nc\n")),
                    dir.file("w.csv")
                      + ":3: expected 2 columns as in the header row, got 1");
  BOOST_CHECK_EQUAL(error_of(file_dataset("q.csv", "id,t\na,\"b\"c\n")),
                    dir.file("q.csv")
                      + ":2: unexpected character after a quoted field in "
                        "column 2");
  BOOST_CHECK_EQUAL(error_of(file_dataset("o.csv", "id,t\na,\"open\n")),
                    dir.file("o.csv") + ":2: unterminated quoted field");
  BOOST_CHECK_EQUAL(error_of(file_dataset("i.csv", "id,t\n,x\n")),
                    dir.file("i.csv") + ":2: id: must be a non-empty string");
  BOOST_CHECK_EQUAL(error_of(file_dataset("l.csv", "id,t\na,\xff\n")),
                    dir.file("l.csv")
                      + ":2: column 2 is not valid UTF-8 (save the file as "
                        "UTF-8)");
}

BOOST_AUTO_TEST_CASE(a_line_over_the_limit_stops_the_reader) {
  auto ds = file_dataset("long.jsonl", "{\"id\":\"a\"}\n{\"id\":\""
                                         + std::string(100, 'x') + "\"}\n");
  ds.max_line_bytes = 32;
  std::string error;
  auto cases = read_all(ds, &error);
  BOOST_CHECK_EQUAL(cases.size(), 1u);
  BOOST_CHECK_EQUAL(error, ds.file
                             + ":2: line longer than the limit of 32 bytes "
                               "(execution_policy.limits.max_line_bytes, or "
                               "--max-line-bytes, raises it)");
}

BOOST_AUTO_TEST_CASE(a_missing_file_or_a_folder_is_an_error_at_once) {
  dataset_config ds;
  ds.file = dir.file("absent.jsonl");
  case_reader reader{ds};
  BOOST_REQUIRE(reader.error());
  BOOST_CHECK_EQUAL(reader.error()->message,
                    ds.file
                      + ": cannot open dataset file (No such file or "
                        "directory)");
  case_config c;
  BOOST_CHECK(!reader.next(c));
  dataset_config folder;
  folder.file = dir.path();
  BOOST_CHECK_EQUAL(case_reader{folder}.error()->message,
                    dir.path() + ": is a directory, expected a dataset file");
}

BOOST_AUTO_TEST_CASE(parse_case_names_where_and_the_path) {
  auto ok = parse_case(R"({"id":"c","inputs":{"a":[1,2]}})", "m.json");
  BOOST_REQUIRE(std::holds_alternative<case_config>(ok));
  BOOST_CHECK_EQUAL(std::get<case_config>(ok).inputs_json, R"({"a":[1,2]})");
  auto bad
    = parse_case(R"({"id":"c","query":5})", "m.json", "datasets[0].cases[2]");
  BOOST_REQUIRE(std::holds_alternative<config_error>(bad));
  BOOST_CHECK_EQUAL(std::get<config_error>(bad).message,
                    "m.json: datasets[0].cases[2].query: must be a string, "
                    "got 5");
  auto ctl = parse_case("{\"id\":\"a\\u0001\"}", "m.json");
  BOOST_REQUIRE(std::holds_alternative<config_error>(ctl));
  BOOST_CHECK_EQUAL(std::get<config_error>(ctl).message,
                    "m.json: id: must not hold control characters, got "
                    "\"a\\u0001\"");
}

BOOST_AUTO_TEST_CASE(a_conversation_holds_its_turns_in_order) {
  auto ds = file_dataset(
    "talk.jsonl",
    R"({"id":"a","inputs":{"x":1},"turns":[{"query":"hi"},)"
    R"({"query":"and?","inputs":{"y":2},"expect":{"contains":"z"}}]})"
    "\n"
    R"({"id":"b","query":"q"})"
    "\n");
  auto cases = read_all(ds);
  BOOST_REQUIRE_EQUAL(cases.size(), 2u);
  auto& turns = cases[0].turns;
  BOOST_REQUIRE_EQUAL(turns.size(), 2u);
  BOOST_CHECK_EQUAL(turns[0].query, "hi");
  BOOST_CHECK_EQUAL(turns[0].inputs_json, "");
  BOOST_CHECK(turns[0].expect.empty());
  BOOST_CHECK_EQUAL(turns[1].query, "and?");
  BOOST_CHECK_EQUAL(turns[1].inputs_json, R"({"y":2})");
  BOOST_REQUIRE_EQUAL(turns[1].expect.contains.size(), 1u);
  BOOST_CHECK_EQUAL(turns[1].expect.contains[0], "z");
  BOOST_CHECK_EQUAL(cases[0].query, "");
  // The reused case loses the turns the next line lacks.
  BOOST_CHECK(cases[1].turns.empty());
  BOOST_CHECK_EQUAL(cases[1].query, "q");
}

BOOST_AUTO_TEST_CASE(bad_turns_name_the_turn_and_what_was_expected) {
  auto error = [](const char* text) {
    auto r = parse_case(text, "m.json", "datasets[0].cases[1]");
    BOOST_REQUIRE(std::holds_alternative<config_error>(r));
    return std::get<config_error>(r).message;
  };
  BOOST_CHECK_EQUAL(error(R"({"id":"a","turns":[]})"),
                    "m.json: datasets[0].cases[1].turns: must hold at least "
                    "one turn, got an array []");
  BOOST_CHECK_EQUAL(error(R"({"id":"a","turns":"hi"})"),
                    "m.json: datasets[0].cases[1].turns: must be an array, "
                    "got \"hi\"");
  BOOST_CHECK_EQUAL(error(R"({"id":"a","turns":[{"query":""}]})"),
                    "m.json: datasets[0].cases[1].turns[0].query: must be a "
                    "non-empty string, got \"\"");
  BOOST_CHECK_EQUAL(error(R"({"id":"a","turns":[{"query":"x"},{}]})"),
                    "m.json: datasets[0].cases[1].turns[1].query: missing "
                    "key");
  BOOST_CHECK_EQUAL(error(R"({"id":"a","turns":[{"query":"x","q":1}]})"),
                    "m.json: datasets[0].cases[1].turns[0].q: unknown key "
                    "(expected one of: query, inputs, expect)");
  BOOST_CHECK_EQUAL(error(R"({"id":"a","turns":[{"query":"x","inputs":[]}]})"),
                    "m.json: datasets[0].cases[1].turns[0].inputs: must be "
                    "an object, got an array []");
  BOOST_CHECK_EQUAL(error(R"({"id":"a","query":"q","turns":[{"query":"x"}]})"),
                    "m.json: datasets[0].cases[1].query: a case with "
                    "\"turns\" gives each turn its own query and expect, "
                    "expected it inside the turns");
  BOOST_CHECK_EQUAL(
    error(R"({"id":"a","turns":[{"query":"x"}],"expect":{"contains":"y"}})"),
    "m.json: datasets[0].cases[1].expect: a case with \"turns\" gives each "
    "turn its own query and expect, expected it inside the turns");
}

BOOST_AUTO_TEST_SUITE_END()
