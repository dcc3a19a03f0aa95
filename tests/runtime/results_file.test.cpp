// Results files read back: last line wins, partial and broken lines.

#include "runtime/results_file.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"

using namespace troupe;
using namespace troupe::runtime;

namespace {

const char* header
  = R"({"type":"header","manifest_hash":"sha256:ab",)"
    R"("version":"0.1.0","started_at":"2026-11-26T10:00:00.000Z",)"
    R"("manifest":"m.json","name":"n","target":"stub","tasks":3})"
    "\n";

std::string result(const char* id, const char* status, int attempts = 1) {
  std::string log;
  for (int i = 0; i < attempts; ++i)
    log += std::string{i ? "," : ""} + R"({"status":")" + status
           + R"(","started_ms":0,"duration_ms":5,"error":null})";
  return std::string{R"({"type":"result","task_id":")"} + id
         + R"(","dataset":"d","case_id":"c","params":{},"status":")" + status
         + R"(","attempts":)" + std::to_string(attempts) + R"(,"attempt_log":[)"
         + log
         + R"(],"started_at":"2026-11-26T10:00:01.000Z",)"
           R"("finished_at":"2026-11-26T10:00:02.500Z","latency_ms":5,)"
           R"("output":{"x":1},"error":null})"
         + "\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(results_file)

BOOST_AUTO_TEST_CASE(the_last_line_of_each_task_wins) {
  test::temp_dir dir;
  auto path = dir.write("r.jsonl", header + result("d/a#0", "CANCELLED")
                                     + result("d/b#0", "FAILED", 3)
                                     + std::string{header}
                                     + result("d/a#0", "SUCCEEDED")
                                     + R"({"type":"summary"})"
                                       "\n");
  auto idx = std::get<results_index>(results_index::read(path, true));
  BOOST_CHECK_EQUAL(idx.header().manifest_hash, "sha256:ab");
  BOOST_CHECK_EQUAL(idx.header().tasks, 3u);
  BOOST_CHECK_EQUAL(idx.runs(), 2u);
  BOOST_CHECK_EQUAL(idx.tasks(), 2u);
  BOOST_CHECK_EQUAL(*idx.last_status("d/a#0"), task_status::succeeded);
  BOOST_CHECK_EQUAL(*idx.last_status("d/b#0"), task_status::failed);
  BOOST_CHECK(!idx.last_status("d/c#0"));
  std::vector<std::string> seen;
  idx.for_each_last([&](task_result& r) {
    seen.push_back(r.task_id + " " + status_name(r.status) + " "
                   + std::to_string(r.attempts()));
  });
  BOOST_REQUIRE_EQUAL(seen.size(), 2u);
  BOOST_CHECK_EQUAL(seen[0], "d/b#0 FAILED 3");
  BOOST_CHECK_EQUAL(seen[1], "d/a#0 SUCCEEDED 1");
}

BOOST_AUTO_TEST_CASE(a_partial_last_line_is_left_out_and_measured) {
  test::temp_dir dir;
  auto whole = header + result("d/a#0", "SUCCEEDED");
  auto path
    = dir.write("r.jsonl", whole + R"({"type":"result","task_id":"d/b)");
  auto idx = std::get<results_index>(results_index::read(path, true));
  BOOST_CHECK_EQUAL(idx.partial_bytes(), 31u);
  BOOST_CHECK_EQUAL(idx.complete_bytes(), whole.size());
  BOOST_CHECK_EQUAL(idx.tasks(), 1u);
}

BOOST_AUTO_TEST_CASE(
  broken_lines_are_errors_for_resume_and_skipped_for_report) {
  test::temp_dir dir;
  auto path = dir.write("r.jsonl", header + std::string{"garbage\n"}
                                     + result("d/a#0", "SUCCEEDED"));
  auto strict = results_index::read(path, true);
  BOOST_REQUIRE(std::holds_alternative<config::config_error>(strict));
  BOOST_CHECK_EQUAL(std::get<config::config_error>(strict).message,
                    path
                      + ":2: not a JSON object; a results file holds one "
                        "per line");
  auto lenient = std::get<results_index>(results_index::read(path, false));
  BOOST_CHECK_EQUAL(lenient.broken_lines(), 1u);
  BOOST_CHECK_EQUAL(lenient.tasks(), 1u);
  auto no_header = dir.write("n.jsonl", result("d/a#0", "SUCCEEDED"));
  auto bad = results_index::read(no_header, false);
  BOOST_CHECK(std::holds_alternative<config::config_error>(bad));
}

BOOST_AUTO_TEST_CASE(result_lines_parse_back_into_results) {
  test::temp_dir dir;
  auto path = dir.write("r.jsonl", header + result("d/a#0", "TIMEOUT", 2));
  auto idx = std::get<results_index>(results_index::read(path, true));
  task_result got;
  idx.for_each_last([&](task_result& r) { got = r; });
  BOOST_CHECK_EQUAL(got.task_id, "d/a#0");
  BOOST_CHECK_EQUAL(got.status, task_status::timeout);
  BOOST_CHECK_EQUAL(got.attempts(), 2u);
  BOOST_CHECK_EQUAL(got.latency_us, 5000);
  BOOST_CHECK_EQUAL(got.output_json, R"({"x":1})");
  BOOST_CHECK_EQUAL(got.finished_us - got.started_us, 1'500'000);
}

BOOST_AUTO_TEST_SUITE_END()
