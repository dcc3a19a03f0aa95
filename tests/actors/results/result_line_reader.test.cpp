// Result lines read back: what the encoder writes, the decoder returns,
// and what is missing or of the wrong type reads as absent.

#include "actors/results/result_line_reader.hpp"

#include "actors/results/result_line.hpp"

#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

using namespace troupe;

namespace {

// A line as the decoder sees it.
boost::json::object object_of(const std::string& line) {
  boost::json::error_code ec;
  auto v = parse_results_json(line, ec);
  BOOST_REQUIRE(!ec);
  return v.get_object();
}

} // namespace

BOOST_AUTO_TEST_SUITE(result_line_reader)

BOOST_AUTO_TEST_CASE(rfc3339_times_parse_to_microseconds) {
  BOOST_CHECK_EQUAL(parse_rfc3339("1970-01-01T00:00:00.000Z"), 0);
  BOOST_CHECK_EQUAL(parse_rfc3339("2000-02-29T00:00:00.123Z"),
                    951'782'400'123'000);
  BOOST_CHECK_EQUAL(parse_rfc3339("nonsense"), -1);
}

BOOST_AUTO_TEST_CASE(a_result_line_reads_back_as_it_was_written) {
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = R"({"k":"v"})";
  r.status = task_status::failed;
  r.attempt_log.push_back(
    {task_status::failed, 1000, 2500, "no", 500, false, "", 2000, 400, 100});
  r.started_us = 1000;
  r.finished_us = 3500;
  r.latency_us = 2000;
  r.queue_us = 400;
  r.connect_us = 100;
  r.output_json = R"({"a":[1,2]})";
  r.error = "no";
  r.error_code = "http_500";
  r.http_status = 500;
  r.tokens = 3;
  r.first_event_us = 1500;
  r.assertions = {{"contains", false, "missing"}};
  r.cached = true;
  std::string line;
  append_result_line(line, r, 0);
  task_result got;
  BOOST_REQUIRE(parse_result_line(object_of(line), got));
  std::string again;
  append_result_line(again, got, 0);
  BOOST_CHECK_EQUAL(again, line);
  BOOST_CHECK_EQUAL(got.attempt_log.at(0).http_status, 500);
  BOOST_CHECK_EQUAL(got.attempt_log.at(0).queue_us, 400);
  BOOST_CHECK_EQUAL(got.queue_us, 400);
  BOOST_CHECK_EQUAL(got.connect_us, 100);
  BOOST_CHECK_EQUAL(got.assertions.at(0).detail, "missing");
}

BOOST_AUTO_TEST_CASE(a_conversation_reads_back_with_its_turns) {
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = "{}";
  r.status = task_status::succeeded;
  r.output_json = R"("bye")";
  turn_result one;
  one.query = "hi";
  one.status = task_status::succeeded;
  one.attempts = 2;
  one.latency_us = 1500;
  one.output_json = R"("hello")";
  one.tokens = 12;
  one.conversation_id = "conv-1";
  one.message_id = "msg-1";
  one.assertions = {{"contains", true, "found"}};
  turn_result two;
  two.query = "bye";
  two.status = task_status::succeeded;
  two.attempts = 1;
  two.output_json = R"("bye")";
  r.turns = {one, two};
  std::string line;
  append_result_line(line, r, 0);
  task_result got;
  BOOST_REQUIRE(parse_result_line(object_of(line), got));
  std::string again;
  append_result_line(again, got, 0);
  BOOST_CHECK_EQUAL(again, line);
  BOOST_REQUIRE_EQUAL(got.turns.size(), 2u);
  BOOST_CHECK_EQUAL(got.turns[0].attempts, 2u);
  BOOST_CHECK_EQUAL(got.turns[0].latency_us, 1500);
  BOOST_CHECK_EQUAL(got.turns[1].tokens, -1);
}

BOOST_AUTO_TEST_CASE(a_node_lost_attempt_is_written_and_read_back) {
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = "{}";
  r.status = task_status::succeeded;
  attempt_record lost;
  lost.lost = true;
  lost.started_us = 0;
  lost.duration_us = 50'000;
  lost.error = "node h:1 lost: gone";
  lost.node = "h:1";
  r.attempt_log.push_back(lost);
  r.attempt_log.push_back(
    {task_status::succeeded, 100'000, 2'000, "", 0, false, ""});
  r.started_us = 0;
  r.finished_us = 102'000;
  r.latency_us = 2'000;
  r.node = "local";
  std::string line;
  append_result_line(line, r, 0);
  // A lost attempt is no attempt.
  BOOST_CHECK_NE(
    line.find(R"("attempts":1,"attempt_log":[{"status":"node_lost",)"
              R"("started_ms":0,"duration_ms":50,"error":"node h:1 )"
              R"(lost: gone","node":"h:1"},{"status":"SUCCEEDED",)"
              R"("started_ms":100,"duration_ms":2,"error":null}])"),
    std::string::npos);
  task_result got;
  BOOST_REQUIRE(parse_result_line(object_of(line), got));
  BOOST_REQUIRE_EQUAL(got.attempt_log.size(), 2u);
  BOOST_CHECK(got.attempt_log[0].lost);
  BOOST_CHECK_EQUAL(got.attempt_log[0].node, "h:1");
  BOOST_CHECK(!got.attempt_log[1].lost);
  BOOST_CHECK_EQUAL(got.attempts(), 1u);
  std::string again;
  append_result_line(again, got, 0);
  BOOST_CHECK_EQUAL(again, line);
}

BOOST_AUTO_TEST_CASE(a_turn_of_the_wrong_shape_reads_as_empty) {
  task_result got;
  BOOST_REQUIRE(parse_result_line(
    object_of(R"({"type":"result","task_id":"t","status":"FAILED",)"
              R"("turns":[7,{"query":3,"status":"LATE","attempts":-2}]})"),
    got));
  BOOST_REQUIRE_EQUAL(got.turns.size(), 1u);
  BOOST_CHECK(got.turns[0].query.empty());
  BOOST_CHECK(got.turns[0].status == task_status::pending);
  BOOST_CHECK_EQUAL(got.turns[0].attempts, 0u);
}

BOOST_AUTO_TEST_CASE(a_header_line_reads_back_as_it_was_written) {
  header_info h{"sha256:ab", "0.1.0", 951'782'400'123'000,
                "m.json",    "smoke", "stub",
                4,           true,    {}};
  results_header got;
  BOOST_REQUIRE(parse_header_line(object_of(encode_header(h)), got));
  BOOST_CHECK_EQUAL(got.manifest_hash, "sha256:ab");
  BOOST_CHECK_EQUAL(got.started_at, "2000-02-29T00:00:00.123Z");
  BOOST_CHECK_EQUAL(got.started_at_us, h.started_at_us);
  BOOST_CHECK_EQUAL(got.name, "smoke");
  BOOST_CHECK_EQUAL(got.tasks, 4u);
  result_key key;
  BOOST_CHECK(!parse_result_key(object_of(encode_header(h)), key));
}

BOOST_AUTO_TEST_CASE(a_result_line_needs_a_task_id_and_a_known_status) {
  result_key key;
  BOOST_CHECK(parse_result_key(
    object_of(R"({"type":"result","task_id":"t","status":"TIMEOUT"})"), key));
  BOOST_CHECK_EQUAL(key.task_id, "t");
  BOOST_CHECK(key.status == task_status::timeout);
  BOOST_CHECK(!parse_result_key(
    object_of(R"({"type":"result","task_id":"t","status":"LATE"})"), key));
  BOOST_CHECK(!parse_result_key(
    object_of(R"({"type":"result","task_id":"","status":"FAILED"})"), key));
  task_result r;
  BOOST_CHECK(!parse_result_line(
    object_of(R"({"type":"summary","task_id":"t","status":"FAILED"})"), r));
}

BOOST_AUTO_TEST_CASE(a_number_beyond_a_double_makes_a_line_unreadable) {
  boost::json::error_code ec;
  parse_results_json(R"({"type":"result","latency_ms":1e400})", ec);
  BOOST_CHECK(ec);
}

BOOST_AUTO_TEST_SUITE_END()
