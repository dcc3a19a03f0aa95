// Every input the fuzzers (tests/fuzz/*.fuzz.cpp) found to crash or to break
// an invariant, replayed through the code it broke: each now gives a clear
// error or a sound value. The inputs live in tests/fuzz/regressions/<fuzzer>/,
// where tools/fuzz.sh also replays them.

#include "actors/http/dify_protocol.hpp"
#include "config/dataset_reader.hpp"
#include "config/manifest.hpp"
#include "runtime/results_file.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>
#include <vector>

using namespace troupe;

namespace {

/// The path of a saved fuzzer input.
std::string input(const std::string& name) {
  return std::string{TROUPE_SOURCE_DIR} + "/tests/fuzz/regressions/" + name;
}

/// The error that reading the dataset file `path` stops at.
std::string dataset_error(const std::string& path) {
  config::dataset_config ds;
  ds.name = "d";
  ds.file = path;
  config::case_reader reader{ds};
  config::case_config c;
  while (reader.next(c))
    continue;
  BOOST_REQUIRE_MESSAGE(reader.error(), "expected an error");
  return reader.error()->message;
}

std::string manifest_error(const std::string& text) {
  auto m = config::parse_manifest(text, "m.json");
  auto* err = std::get_if<config::config_error>(&m);
  BOOST_REQUIRE_MESSAGE(err != nullptr, "expected an error");
  return err->message;
}

/// A saved dify_response input: flags, status, meta line, body (see
/// dify_response.fuzz.cpp). Here only the body is used.
http_outcome ok(std::string body) {
  http_outcome o;
  o.status = 200;
  o.body = std::move(body);
  return o;
}

http_target target(target_kind kind) {
  http_target t;
  t.kind = kind;
  t.base_url = "http://dify.test/v1";
  return t;
}

attempt_reply stream(target_kind kind, const std::string& bytes) {
  sse_parser parser;
  dify_stream s{kind};
  std::vector<sse_event> events;
  parser.feed(bytes, events);
  for (auto& e : events)
    s.on_event(e);
  return s.finish(ok(""), false, 0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(fuzz_regressions)

// Boost.JSON reads 1e4003 as infinity and writes it back as "Infinity": the
// inputs sent to the service, and the stub's output in the results file,
// were not JSON.
BOOST_AUTO_TEST_CASE(a_dataset_number_beyond_a_double_is_an_error) {
  auto path = input("dataset_jsonl/number-beyond-double.jsonl");
  BOOST_CHECK_EQUAL(dataset_error(path),
                    path
                      + ":2: inputs.n: number out of range (beyond "
                        "+-1.8e308)");
}

BOOST_AUTO_TEST_CASE(a_manifest_number_beyond_a_double_is_an_error) {
  auto text = test::read_file(input("manifest/number-beyond-double.json"));
  BOOST_CHECK_EQUAL(manifest_error(text),
                    "m.json: datasets[0].cases[0].inputs.n: number out of "
                    "range (beyond +-1.8e308)");
  auto stub = std::string{R"({"target": {"type": "stub"},)"}
              + R"("datasets": [{"name": "d", "cases": [{"id": "c"}]}])";
  BOOST_CHECK_EQUAL(
    manifest_error(stub + R"(, "parameters": [{"p": [-1e999]}]})"),
    "m.json: parameters[0].p[0]: number out of range (beyond "
    "+-1.8e308)");
  BOOST_CHECK_EQUAL(
    manifest_error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
      "expect": {"equals": {"x": 2e308}}, "cases": [{"id": "c"}]}]})"),
    "m.json: datasets[0].expect.equals.x: number out of range (beyond "
    "+-1.8e308)");
  BOOST_CHECK_EQUAL(
    manifest_error(R"({"target": {"type": "http", "url": "http://x.test",
      "body": {"n": 1e400}}, "datasets": [{"name": "d",
      "cases": [{"id": "c"}]}]})"),
    "m.json: target.body.n: number out of range (beyond +-1.8e308)");
}

// A CSV file saved as Latin-1 gave inputs and task ids that were not UTF-8,
// so not JSON: the results file's lines, and --resume's ids, broke.
BOOST_AUTO_TEST_CASE(a_csv_file_that_is_not_utf8_is_an_error) {
  auto header = input("dataset_csv/latin1-header.csv");
  BOOST_CHECK_EQUAL(dataset_error(header),
                    header
                      + ":1: column 3 of the header row is not valid UTF-8 "
                        "(save the file as UTF-8)");
  auto field = input("dataset_csv/latin1-field.csv");
  BOOST_CHECK_EQUAL(dataset_error(field),
                    field
                      + ":2: column 2 is not valid UTF-8 (save the file as "
                        "UTF-8)");
}

// An http target's answer 5...e4001478 became the output "Infinity".
BOOST_AUTO_TEST_CASE(a_reply_number_beyond_a_double_is_a_malformed_reply) {
  auto http = target(target_kind::http);
  auto r = classify_response(
    http, ok("555555555555555555555555500128619343013958e4001478"), 0);
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error_code, "malformed_response");
  BOOST_CHECK(r.output_json.empty());
  http.output_pointer = "/n";
  r = classify_response(http, ok(R"({"n": -1e400})"), 0);
  BOOST_CHECK_EQUAL(r.error_code, "malformed_response");
  r = classify_response(
    target(target_kind::dify_workflow),
    ok(R"({"task_id":"t","data":{"id":"r","status":"succeeded",)"
       R"("outputs":{"x":1e999},"elapsed_time":1e999,"total_tokens":1.5}})"),
    0);
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error_code, "malformed_response");
  BOOST_CHECK_EQUAL(r.dify.elapsed_time, -1); // not "inf" in the results
  BOOST_CHECK_EQUAL(r.tokens, 1);
}

// to_number<int64_t> throws on 1.5 and 1e300: the executor actor died on a
// reply with a fractional token count.
BOOST_AUTO_TEST_CASE(fractional_or_huge_counts_in_a_reply_do_not_throw) {
  auto r = classify_response(
    target(target_kind::dify_chat),
    ok(R"({"answer":"hi","metadata":{"usage":{"total_tokens":1e300}}})"), 0);
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.tokens, -1);
  r = stream(target_kind::dify_chat,
             "data: {\"event\":\"message\",\"answer\":\"a\"}\n\n"
             "data: {\"event\":\"message_end\",\"metadata\":{\"usage\":"
             "{\"total_tokens\":2.5}}}\n\n");
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.tokens, 2);
  r = stream(target_kind::dify_workflow,
             "data: {\"event\":\"error\",\"status\":429.5,\"code\":\"x\","
             "\"message\":\"m\"}\n\n");
  BOOST_CHECK_EQUAL(r.result, outcome::throttled);
}

// A results file with "latency_ms": 1e300 overflowed a double-to-int64
// conversion (UB), and "tokens": 1.5 threw out of `troupe report`.
BOOST_AUTO_TEST_CASE(numbers_beyond_int64_in_a_results_file_count_as_absent) {
  auto path = input("results/numbers-beyond-int64.jsonl");
  auto idx = runtime::results_index::read(path, true);
  BOOST_REQUIRE(std::holds_alternative<runtime::results_index>(idx));
  std::vector<task_result> seen;
  BOOST_CHECK(std::get<runtime::results_index>(idx).for_each_last(
    [&](task_result& r) { seen.push_back(r); }));
  BOOST_REQUIRE_EQUAL(seen.size(), 1u);
  auto& r = seen[0];
  BOOST_CHECK_EQUAL(r.latency_us, -1);
  BOOST_CHECK_EQUAL(r.tokens, 1);
  BOOST_CHECK_EQUAL(r.http_status, 0);
  BOOST_CHECK_EQUAL(r.first_event_us, 1'000'000'000'000'000);
  BOOST_REQUIRE_EQUAL(r.attempt_log.size(), 1u);
  BOOST_CHECK_EQUAL(r.attempt_log[0].started_us, -1);
  BOOST_CHECK_EQUAL(r.attempt_log[0].duration_us, -1);
  BOOST_CHECK_EQUAL(r.attempt_log[0].http_status, 2);
}

// A result line with 1e400 was read as "Infinity" and would be written back
// (report, diff) as invalid JSON: it is a broken line now.
BOOST_AUTO_TEST_CASE(a_results_number_beyond_a_double_makes_a_broken_line) {
  auto path = input("results/number-beyond-double.jsonl");
  auto strict = runtime::results_index::read(path, true);
  auto* err = std::get_if<config::config_error>(&strict);
  BOOST_REQUIRE(err != nullptr);
  BOOST_CHECK_EQUAL(err->message,
                    path
                      + ":2: not a JSON object; a results file holds one "
                        "per line");
  auto lenient = runtime::results_index::read(path, false);
  BOOST_REQUIRE(std::holds_alternative<runtime::results_index>(lenient));
  auto& idx = std::get<runtime::results_index>(lenient);
  BOOST_CHECK_EQUAL(idx.broken_lines(), 1u);
  BOOST_CHECK_EQUAL(idx.tasks(), 1u);
  BOOST_CHECK(!idx.last_status("d/a#0"));
}

BOOST_AUTO_TEST_SUITE_END()
