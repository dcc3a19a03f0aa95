// The pass over the datasets: case counts, duplicate ids, and dataset files
// that are missing, broken, or CSV.

#include "config/dataset_scan.hpp"

#include "config/dataset_reader.hpp"

#include "tests/config/manifest_fixture.hpp"

using namespace troupe;
using namespace troupe::config;
using troupe::test::manifest_fixture;

BOOST_FIXTURE_TEST_SUITE(manifest, manifest_fixture)

BOOST_AUTO_TEST_CASE(duplicate_case_ids_are_found_inline_and_in_files) {
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "cases": [{"id": "a"}, {"id": "b"},
                                                   {"id": "a"}]}]})"),
    "DIR/m.json: datasets[0].cases[2].id: duplicate case id \"a\" (first in "
    "cases[0])");
  dir.write("c.jsonl", "{\"id\": \"x\"}\n{\"id\": \"y\"}\n\n{\"id\": \"x\"}\n");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "c.jsonl"}]})"),
    "DIR/c.jsonl:4: id: duplicate case id \"x\" (first at line 1)");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "cases": [{"id": "a"}]},
                           {"name": "d", "cases": [{"id": "b"}]}]})"),
    "DIR/m.json: datasets[1].name: duplicate dataset name \"d\"");
}

BOOST_AUTO_TEST_CASE(dataset_files_that_are_missing_or_broken) {
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "nope.jsonl"}]})"),
    "DIR/nope.jsonl: cannot open dataset file (No such file or directory)");
  dir.write("bad.jsonl", "{\"id\": \"x\"}\n{\"id\": \"y\", \n");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "bad.jsonl"}]})"),
                    "DIR/bad.jsonl:2: invalid JSON (incomplete JSON)");
  dir.write("bad2.jsonl", "{\"id\": \"x\", \"input\": {}}\n");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "bad2.jsonl"}]})"),
    "DIR/bad2.jsonl:1: input: unknown key (expected one of: id, inputs, "
    "query, conversation_id, expect, turns)");
  dir.write("empty.jsonl", "\n");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "empty.jsonl"}]})"),
                    "DIR/m.json: datasets[0]: dataset \"d\" has no cases");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "data.txt"}]})"),
    "DIR/m.json: datasets[0].file: must name a .jsonl, .ndjson or .csv file, "
    "got \"data.txt\"");
}

BOOST_AUTO_TEST_CASE(csv_datasets_take_quoted_fields_and_report_lines) {
  dir.write("c.csv", "id,text,query\r\n"
                     "a,\"hello, world\",q1\r\n"
                     "b,\"two\nlines \"\"quoted\"\"\",q2\n"
                     "\n"
                     "c,plain,\n");
  auto m = ok(R"({"target": {"type": "stub"},
                  "datasets": [{"name": "d", "file": "c.csv"}]})");
  BOOST_CHECK_EQUAL(m.datasets[0].case_count, 3u);
  case_reader reader{m.datasets[0]};
  case_config c;
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "a");
  BOOST_CHECK_EQUAL(c.inputs_json, R"({"text":"hello, world"})");
  BOOST_CHECK_EQUAL(c.query, "q1");
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.inputs_json, R"({"text":"two\nlines \"quoted\""})");
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.id, "c");
  BOOST_CHECK(!reader.next(c));
  BOOST_CHECK(!reader.error());
  dir.write("bad.csv", "id,text\na,1\nb,2,3\n");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "bad.csv"}]})"),
    "DIR/bad.csv:3: expected 2 columns as in the header row, got 3");
  dir.write("noid.csv", "name,text\na,1\n");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "noid.csv"}]})"),
                    "DIR/noid.csv:1: missing column \"id\" in the header row");
}

BOOST_AUTO_TEST_CASE(turns_are_for_chat_and_stub_targets_only) {
  const std::string target
    = R"("target": {"type": "dify-workflow", "base_url": "http://h/v1",
                    "api_key_env": "K"})";
  BOOST_CHECK_EQUAL(
    error("{" + target + R"(, "datasets": [{"name": "d", "cases": [
      {"id": "a"}, {"id": "b", "turns": [{"query": "hi"}]}]}]})"),
    "DIR/m.json: datasets[0].cases[1].turns: is for dify-chat (and stub) "
    "targets, not dify-workflow, expected a query or inputs");
  dir.write("t.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\", \"turns\": "
                       "[{\"query\": \"hi\"}]}\n");
  BOOST_CHECK_EQUAL(
    error("{" + target
          + R"(, "datasets": [{"name": "d", "file": "t.jsonl"}]})"),
    "DIR/t.jsonl:2: turns: is for dify-chat (and stub) targets, not "
    "dify-workflow, expected a query or inputs");
  // A turn's own inputs cannot name files; an input merely called "file"
  // somewhere inside is no file.
  const std::string chat
    = R"("target": {"type": "dify-chat", "base_url": "http://h/v1",
                    "api_key_env": "K"})";
  BOOST_CHECK_EQUAL(
    error("{" + chat + R"(, "datasets": [{"name": "d", "cases": [
      {"id": "a", "turns": [{"query": "hi", "inputs": {"x": "file"}},
                            {"query": "read this",
                             "inputs": {"doc": {"file": "a.pdf"}}}]}]}]})"),
    "DIR/m.json: datasets[0].cases[0].turns[1].inputs: a turn's inputs "
    "cannot name files, expected the file in the case's inputs");
  auto m = ok(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
    "file": "t.jsonl"}]})");
  BOOST_CHECK_EQUAL(m.datasets[0].case_count, 2u);
}

BOOST_AUTO_TEST_SUITE_END()
