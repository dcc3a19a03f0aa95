// The results file's exact bytes: header, result and summary lines.

#include "actors/results/result_line.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(result_line)

BOOST_AUTO_TEST_CASE(a_result_line_has_the_contract_fields_in_order) {
  task_result r;
  r.task_id = "smoke/c1#0";
  r.dataset = "smoke";
  r.case_id = "c1";
  r.params_json = R"({"style":"short"})";
  r.status = task_status::succeeded;
  r.attempt_log.push_back({task_status::timeout, 0, 1'000'000,
                           "attempt timed out after 1 s", 0, false, ""});
  r.attempt_log.push_back({task_status::succeeded, 3'000'000, 12'345, "", 200,
                           false, "", 12'000, 300, 45});
  r.started_us = 0;
  r.finished_us = 3'012'345;
  r.latency_us = 12'000;
  r.queue_us = 300;
  r.connect_us = 45;
  r.output_json = R"({"answer":"42"})";
  r.http_status = 200;
  r.tokens = 17;
  std::string line;
  append_result_line(line, r, 1'764'136'800'000'000); // 2025-11-26T06:00:00Z
  BOOST_CHECK_EQUAL(
    line,
    R"({"type":"result","task_id":"smoke/c1#0","dataset":"smoke","case_id":"c1",)"
    R"("params":{"style":"short"},"status":"SUCCEEDED","attempts":2,)"
    R"("attempt_log":[{"status":"TIMEOUT","started_ms":0,"duration_ms":1000,)"
    R"("error":"attempt timed out after 1 s"},{"status":"SUCCEEDED",)"
    R"("started_ms":3000,"duration_ms":12.345,"error":null,"http_status":200,)"
    R"("latency_ms":12,"queue_ms":0.3,"connect_ms":0.045}],)"
    R"("started_at":"2025-11-26T06:00:00.000Z",)"
    R"("finished_at":"2025-11-26T06:00:03.012Z","latency_ms":12,)"
    R"("queue_ms":0.3,"connect_ms":0.045,)"
    R"("output":{"answer":"42"},"error":null,"http_status":200,"tokens":17})"
    "\n");
}

BOOST_AUTO_TEST_CASE(a_cancelled_task_has_null_start_latency_and_output) {
  task_result r;
  r.task_id = "d/c#1";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = "{}";
  r.status = task_status::cancelled;
  r.finished_us = 1500;
  r.error = "cancelled by the user (SIGINT)";
  r.error_code = "cancelled";
  std::string line;
  append_result_line(line, r, 0);
  BOOST_CHECK_EQUAL(
    line,
    R"({"type":"result","task_id":"d/c#1","dataset":"d","case_id":"c",)"
    R"("params":{},"status":"CANCELLED","attempts":0,"attempt_log":[],)"
    R"("started_at":null,"finished_at":"1970-01-01T00:00:00.001Z",)"
    R"("latency_ms":null,"queue_ms":null,"connect_ms":null,"output":null,)"
    R"J("error":"cancelled by the user (SIGINT)","error_code":"cancelled"})J"
    "\n");
}

BOOST_AUTO_TEST_CASE(assertions_and_the_cache_mark_end_the_line) {
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = "{}";
  r.status = task_status::succeeded;
  r.output_json = R"("hi")";
  r.cached = true;
  r.assertions = {{"contains", true, R"(found "h")"},
                  {"json /a", false, "no value at /a"}};
  std::string line;
  append_result_line(line, r, 0);
  auto tail = line.substr(line.find(R"(,"assertions")"));
  BOOST_CHECK_EQUAL(tail,
                    R"J(,"assertions":[{"check":"contains","passed":true,)J"
                    R"J("detail":"found \"h\""},{"check":"json /a",)J"
                    R"J("passed":false,"detail":"no value at /a"}],)J"
                    R"J("cached":true})J"
                    "\n");
}

BOOST_AUTO_TEST_CASE(a_conversation_lists_its_turns_last) {
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = "{}";
  r.status = task_status::failed;
  r.node = "local";
  turn_result first;
  first.query = "hi";
  first.status = task_status::succeeded;
  first.attempts = 2;
  first.latency_us = 1500;
  first.output_json = R"("hello")";
  first.tokens = 12;
  first.conversation_id = "conv-1";
  first.message_id = "msg-1";
  first.assertions = {{"contains", true, R"(found "he")"}};
  turn_result second;
  second.query = "and?";
  second.status = task_status::failed;
  second.attempts = 1;
  second.latency_us = 250;
  second.error = "HTTP 400";
  r.turns = {first, second};
  std::string line;
  append_result_line(line, r, 0);
  auto tail = line.substr(line.find(R"(,"node")"));
  BOOST_CHECK_EQUAL(
    tail, R"J(,"node":"local","turns":[{"query":"hi","status":"SUCCEEDED",)J"
          R"J("attempts":2,"latency_ms":1.5,"output":"hello","error":null,)J"
          R"J("tokens":12,"conversation_id":"conv-1","message_id":"msg-1",)J"
          R"J("assertions":[{"check":"contains","passed":true,)J"
          R"J("detail":"found \"he\""}]},{"query":"and?","status":"FAILED",)J"
          R"J("attempts":1,"latency_ms":0.25,"output":null,)J"
          R"J("error":"HTTP 400","tokens":null,"assertions":[]}]})J"
          "\n");
}

BOOST_AUTO_TEST_CASE(header_and_summary_lines) {
  header_info h{"sha256:ab", "0.1.0", 0,     "m.json", "smoke",
                "stub",      4,       false, {}};
  BOOST_CHECK_EQUAL(
    encode_header(h),
    R"({"type":"header","manifest_hash":"sha256:ab",)"
    R"("version":"0.1.0","started_at":"1970-01-01T00:00:00.000Z",)"
    R"("manifest":"m.json","name":"smoke","target":"stub",)"
    R"("tasks":4})"
    "\n");
  run_summary s;
  s.total = 4;
  s.counts[static_cast<size_t>(task_status::succeeded)] = 3;
  s.counts[static_cast<size_t>(task_status::failed)] = 1;
  s.attempts = 6;
  s.retries = 2;
  s.wall_us = 2'000'000;
  s.finished_this_run = 4;
  s.p50_us = s.p90_us = s.p99_us = s.max_us = 100'000;
  s.slowest.push_back({"d/a#0", 100'000, ""});
  s.failures.push_back({"stub_fatal", 1, {"d/b#0", 0, "stub fatal"}});
  BOOST_CHECK_EQUAL(
    encode_summary(s, 0, true),
    R"({"type":"summary","total":4,"counts":{"PENDING":0,"QUEUED":0,)"
    R"("RUNNING":0,"SUCCEEDED":3,"FAILED":1,"TIMEOUT":0,"CANCELLED":0,)"
    R"("ERROR":0},"attempts":6,"retries":2,"tokens":0,"wall_ms":2000,)"
    R"("tasks_per_second":2.0,"latency_ms":{"p50":100,"p90":100,"p99":100,)"
    R"("max":100},"slowest":[{"task_id":"d/a#0","latency_ms":100}],)"
    R"("failures":[{"error_code":"stub_fatal","count":1,"example":)"
    R"({"task_id":"d/b#0","error":"stub fatal"}}],"assertions_failed":0,)"
    R"("assertion_failures":[],"end":"completed",)"
    R"("reason":null,"finished_at":"1970-01-01T00:00:02.000Z"})");
}

BOOST_AUTO_TEST_SUITE_END()
