// The pass over the datasets: case counts, duplicate ids, and dataset files
// that are missing, broken, or CSV; a big file read in parts on several
// threads gives what one pass gives.

#include "config/dataset_scan.hpp"

#include "config/dataset_reader.hpp"
#include "config/json_checks.hpp"

#include "tests/config/manifest_fixture.hpp"

#include <map>

using namespace troupe;
using namespace troupe::config;
using troupe::test::manifest_fixture;

namespace {

/// The pass over `text`'s datasets in parts of `part_bytes` on `threads`
/// threads: "ok N" (the first dataset's cases) or the error, the folder
/// written as "DIR".
std::string scan_with(manifest_fixture& fx, const std::string& text,
                      unsigned threads, uint64_t part_bytes = 64) {
  size_t parts = 0;
  load_options lo;
  lo.read_datasets = false;
  auto r = load_manifest(fx.dir.write("m.json", text), lo);
  BOOST_REQUIRE(std::holds_alternative<config::manifest>(r));
  auto& m = std::get<config::manifest>(r);
  std::string out;
  try {
    scan_options so;
    so.threads = threads;
    so.part_bytes = part_bytes;
    so.parts_read = &parts;
    scan_datasets(checker{m.path}, m, so);
    out = "ok " + std::to_string(m.datasets.at(0).case_count);
  } catch (const check_failure& e) {
    out = e.what();
  }
  // As many parts as threads: the file is split, not read in one pass.
  BOOST_CHECK_EQUAL(parts, threads);
  for (size_t pos; (pos = out.find(fx.dir.path())) != std::string::npos;)
    out.replace(pos, fx.dir.path().size(), "DIR");
  return out;
}

/// 200 lines: a byte order mark, CRLF endings here and there, blank lines
/// (every 7th), and `edit` applied to lines by number.
std::string lines_file(const std::map<int, std::string>& edit = {}) {
  std::string text = "\xEF\xBB\xBF";
  for (int line = 1; line <= 200; ++line) {
    std::string l = line % 7 == 0 ? ""
                                  : R"({"id": "c)" + std::to_string(line)
                                      + R"(", "inputs": {"n": 1}})";
    if (auto i = edit.find(line); i != edit.end())
      l = i->second;
    text += l + (line % 5 == 0 ? "\r\n" : "\n");
  }
  return text;
}

} // namespace

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

BOOST_AUTO_TEST_CASE(a_file_read_in_parts_gives_what_one_pass_gives) {
  const std::string m = R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "file": "p.jsonl"}],
    "stub": {"task_behaviors": {"d/c199#0": ["failure"]}}})";
  auto same_for_all = [&](const std::string& expected) {
    for (unsigned threads : {1u, 2u, 3u, 5u})
      BOOST_TEST_CONTEXT(threads << " threads") {
        BOOST_CHECK_EQUAL(scan_with(*this, m, threads), expected);
      }
  };
  // 172 cases (28 blank lines), the scripted one in the last part.
  dir.write("p.jsonl", lines_file());
  same_for_all("ok 172");
  // A broken line in a later part is named by its line in the file.
  dir.write("p.jsonl", lines_file({{150, R"({"id": "x", )"}}));
  same_for_all("DIR/p.jsonl:150: invalid JSON (incomplete JSON)");
  // Two: the first in the file wins, whichever part read it first.
  dir.write("p.jsonl",
            lines_file({{40, R"({"id": 1.5})"}, {170, R"({"id": "x", )"}}));
  same_for_all("DIR/p.jsonl:40: id: must be a string, got 1.5");
  // A duplicate id across parts.
  dir.write("p.jsonl",
            lines_file({{3, R"({"id": "x"})"}, {190, R"({"id": "x"})"}}));
  same_for_all(
    "DIR/p.jsonl:190: id: duplicate case id \"x\" (first at line 3)");
  // No line break at the end, the last line broken: still its line.
  auto text = lines_file({{200, R"({"id": "z", )"}});
  dir.write("p.jsonl", text.substr(0, text.size() - 1));
  same_for_all("DIR/p.jsonl:200: invalid JSON (incomplete JSON)");
  // A scripted id no part has.
  dir.write("p.jsonl", lines_file({{199, R"({"id": "other"})"}}));
  same_for_all("DIR/m.json: stub.task_behaviors[\"d/c199#0\"]: dataset \"d\" "
               "has no case \"c199\"");
  // A line over the limit, in the second half.
  dir.write("p.jsonl", lines_file({{120, R"({"id": ")" + std::string(2000, 'a')
                                           + R"("})"}}));
  auto limited = R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "file": "p.jsonl"}],
    "execution_policy": {"limits": {"max_line_bytes": 1024}}})";
  for (unsigned threads : {1u, 3u})
    BOOST_CHECK_EQUAL(scan_with(*this, limited, threads),
                      "DIR/p.jsonl:120: line longer than the limit of 1024 "
                      "bytes (execution_policy.limits.max_line_bytes, or "
                      "--max-line-bytes, raises it)");
}

BOOST_AUTO_TEST_SUITE_END()
