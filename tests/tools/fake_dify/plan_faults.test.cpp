// fake-dify's faults, planned: each name's enum, its exact answer, the
// success a wire fault spoils, "_fault_times", and the random faults and
// latencies of the flags, drawn only when needed. (Suite fake_dify_plan.)

#include "tools/fake_dify/fault.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/tools/fake_dify/plan_fixture.hpp"

#include <tuple>

using namespace troupe::fake_dify;
using namespace troupe::fake_dify::test;
namespace http = boost::beast::http;

BOOST_FIXTURE_TEST_SUITE(fake_dify_plan, plan_fixture)

BOOST_AUTO_TEST_CASE(fault_names_parse_once_into_the_enum) {
  BOOST_CHECK(parse_fault("")->kind == fault::none);
  BOOST_CHECK(parse_fault("503")->kind == fault::unavailable);
  BOOST_CHECK(parse_fault("echo_key_error")->kind == fault::echo_key_error);
  auto after = parse_fault("429:retry-after=3");
  BOOST_CHECK(after->kind == fault::rate_limited);
  BOOST_CHECK_EQUAL(after->retry_after_s.value_or(-9), 3);
  BOOST_CHECK(!after->retry_date_in_s);
  BOOST_CHECK_EQUAL(parse_fault("429-date:5")->retry_date_in_s.value_or(-9), 5);
  // As always: other "429..." names are plain 429s.
  auto plain = parse_fault("429xyz");
  BOOST_CHECK(plain->kind == fault::rate_limited && !plain->retry_after_s);
  BOOST_CHECK(!parse_fault("bogus"));
  BOOST_CHECK(!parse_fault("50"));
}

BOOST_AUTO_TEST_CASE(an_unknown_fault_is_a_400_that_names_it) {
  auto p = with_fault("bogus");
  BOOST_CHECK_EQUAL(p.status, 400);
  BOOST_CHECK_EQUAL(
    p.body,
    R"({"code":"invalid_param","message":"[fake] unknown _fault bogus",)"
    R"("status":400})");
}

BOOST_AUTO_TEST_CASE(error_faults_answer_with_dify_error_bodies) {
  std::vector<std::tuple<std::string, int, std::string, std::string>> cases{
    {"500", 500, "internal_server_error",
     "The server encountered an internal error and was unable to complete "
     "your request. Either the server is overloaded or there is an error in "
     "the application."},
    {"daily", 429, "rate_limit_error",
     "Rate limit exceeded, please upgrade your plan or your RPD was 5000 "
     "requests/day"},
    {"too_many", 400, "invalid_param",
     "Too many requests. Please try again later. The current maximum "
     "concurrent requests allowed is 1."},
    {"400", 400, "invalid_param", "text is required in input form"},
    {"401", 401, "unauthorized", "Access token is invalid"},
    {"403", 403, "forbidden", "The app's API service has been disabled."},
    {"404", 404, "not_found", "Conversation Not Exists."},
    {"quota", 400, "provider_quota_exceeded",
     "Your quota for Dify Hosted Model Provider has been exhausted."},
    {"echo_key_error", 400, "invalid_param", "you sent Bearer app-k"},
  };
  for (auto& [fault, status, code, message] : cases) {
    auto p = with_fault(fault);
    BOOST_CHECK_EQUAL(p.kind, plan::respond);
    BOOST_CHECK_EQUAL(p.status, status);
    BOOST_CHECK_EQUAL(p.body, R"({"code":")" + code + R"(","message":")"
                                + message + R"(","status":)"
                                + std::to_string(status) + "}");
    BOOST_CHECK(p.headers.empty());
  }
  // Error faults never reach the app: no ids taken.
  BOOST_CHECK_EQUAL(source.ids, 0u);
}

BOOST_AUTO_TEST_CASE(gateway_faults_answer_a_proxy_html_page) {
  for (auto status : {502, 503, 504}) {
    auto p = with_fault(std::to_string(status));
    BOOST_CHECK_EQUAL(p.status, status);
    BOOST_CHECK_EQUAL(p.body, "<html><body><h1>" + std::to_string(status)
                                + " Bad Gateway</h1></body></html>");
    BOOST_CHECK_EQUAL(header(p, "Content-Type"), "text/html");
  }
}

BOOST_AUTO_TEST_CASE(rate_limits_send_retry_after_as_seconds_or_a_date) {
  BOOST_CHECK_EQUAL(header(with_fault("429"), "Retry-After"), "<none>");
  BOOST_CHECK_EQUAL(header(with_fault("429:retry-after=3"), "Retry-After"),
                    "3");
  BOOST_CHECK_EQUAL(header(with_fault("429-date:5"), "Retry-After"),
                    "Tue, 14 Nov 2023 22:13:25 GMT");
  settings.retry_after_s = 2;
  auto p = with_fault("429");
  BOOST_CHECK_EQUAL(p.status, 429);
  BOOST_CHECK_EQUAL(
    p.body, R"({"code":"too_many_requests","message":"Too Many Requests: )"
            R"x(rate limit exceeded (fake)","status":429})x");
  BOOST_CHECK_EQUAL(header(p, "Retry-After"), "2");
  // The name's own seconds win over the flag's.
  BOOST_CHECK_EQUAL(header(with_fault("429:retry-after=0"), "Retry-After"),
                    "0");
}

BOOST_AUTO_TEST_CASE(wire_faults_spoil_a_success_and_keep_its_run) {
  auto reset = with_fault("reset");
  BOOST_CHECK_EQUAL(reset.kind, plan::reset);
  BOOST_CHECK_EQUAL(reset.run_id, id2);
  BOOST_CHECK_EQUAL(with_fault("hang").kind, plan::hang);
  auto cut = with_fault("cut");
  BOOST_CHECK_EQUAL(cut.kind, plan::cut);
  BOOST_CHECK_EQUAL(cut_bytes("abcd"),
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Content-Length: 4\r\n\r\nab");
  auto cut_stream = with_fault("cut", true);
  BOOST_CHECK_EQUAL(cut_stream.kind, plan::stream);
  BOOST_CHECK_EQUAL(cut_stream.events.size(), 3u);
  BOOST_CHECK(cut_stream.final_event.empty());
  auto malformed = with_fault("malformed");
  BOOST_CHECK_EQUAL(malformed.kind, plan::respond);
  BOOST_CHECK_EQUAL(malformed.status, 200);
  BOOST_CHECK_GT(malformed.body.size(), 100u);
  BOOST_CHECK_EQUAL(with_fault("malformed", true).body,
                    R"({"task_id": "x", "data": {)");
  auto large = with_fault("large");
  BOOST_CHECK_EQUAL(large.body.size(), 4u * 1024 * 1024 + 69);
}

BOOST_AUTO_TEST_CASE(a_stream_error_is_an_event_or_a_blocking_400) {
  auto s = with_fault("stream_error", true);
  BOOST_REQUIRE_EQUAL(s.events.size(), 4u);
  BOOST_CHECK_EQUAL(s.events[3],
                    R"(data: {"event":"error","workflow_run_id":null,)"
                    R"("code":"completion_request_error","status":400,)"
                    R"("message":"[fake] Error: model returned an error"})"
                    "\n\n");
  BOOST_CHECK(s.final_event.empty());
  auto b = with_fault("stream_error");
  BOOST_CHECK_EQUAL(b.status, 400);
  BOOST_CHECK_NE(b.body.find("completion_request_error"), std::string::npos);
  // The run was made before the error, so it can be looked up.
  BOOST_CHECK(!b.run_id.empty());
}

BOOST_AUTO_TEST_CASE(run_faults_end_the_run_failed_or_stopped) {
  auto failed = with_fault("failed");
  BOOST_CHECK_NE(failed.body.find(R"("status":"failed","outputs":null,)"
                                  R"("error":"Node LLM run failed: model )"
                                  R"x(timed out (fake)")x"),
                 std::string::npos);
  auto stopped = with_fault("stopped");
  BOOST_CHECK_NE(stopped.body.find(R"("status":"stopped",)"),
                 std::string::npos);
  BOOST_CHECK_NE(stopped.body.find(R"("error":"Stopped by user.")"),
                 std::string::npos);
  auto echo = with_fault("echo_key");
  BOOST_CHECK_NE(
    echo.body.find(R"("outputs":{"text":"you sent Bearer app-k"})"),
    std::string::npos);
}

BOOST_AUTO_TEST_CASE(fault_times_limits_a_fault_to_the_first_calls_per_key) {
  auto call = [&](const std::string& inputs) {
    return run(app_kind::workflow,
               R"({"inputs": )" + inputs + R"(, "user": "u"})")
      .status;
  };
  auto keyed = R"({"_fault": "500", "_fault_times": 2, "_fault_key": "k"})";
  BOOST_CHECK_EQUAL(call(keyed), 500);
  BOOST_CHECK_EQUAL(call(keyed), 500);
  BOOST_CHECK_EQUAL(call(keyed), 200);
  // Without a key, the inputs are the key.
  auto once = R"({"_fault": "503", "_fault_times": 1, "a": 1})";
  BOOST_CHECK_EQUAL(call(once), 503);
  BOOST_CHECK_EQUAL(call(once), 200);
  BOOST_CHECK_EQUAL(call(R"({"_fault": "503", "_fault_times": 1, "a": 2})"),
                    503);
  BOOST_CHECK_EQUAL(source.counts.at("k"), 3);
}

BOOST_AUTO_TEST_CASE(random_faults_draw_only_for_calls_that_name_none) {
  settings.failure_rate = 0.5;
  settings.rate_429 = 0.5;
  settings.retry_after_s = 4;
  source.draws = {0.4};
  BOOST_CHECK_EQUAL(
    run(app_kind::workflow, R"({"inputs": {}, "user": "u"})").status, 500);
  source.draws = {0.6, 0.3};
  auto limited = run(app_kind::workflow, R"({"inputs": {}, "user": "u"})");
  BOOST_CHECK_EQUAL(limited.status, 429);
  BOOST_CHECK_EQUAL(header(limited, "Retry-After"), "4");
  source.draws = {0.6, 0.6};
  BOOST_CHECK_EQUAL(
    run(app_kind::workflow, R"({"inputs": {}, "user": "u"})").status, 200);
  // A named fault draws nothing (an unexpected draw fails the test).
  BOOST_CHECK_EQUAL(with_fault("404").status, 404);
  BOOST_CHECK(source.draws.empty());
}

BOOST_AUTO_TEST_CASE(latency_is_drawn_from_the_range_and_a_call_may_set_it) {
  settings.latency_min_ms = 10;
  settings.latency_max_ms = 20;
  source.range_value = 15;
  BOOST_CHECK_EQUAL(with_fault("").latency_ms, 15);
  // "_latency_ms" wins, but the draw still happens, as it always did.
  auto p = run(app_kind::workflow,
               R"({"inputs": {"_latency_ms": 200}, "user": "u"})");
  BOOST_CHECK_EQUAL(p.latency_ms, 200);
  BOOST_CHECK_EQUAL(source.ranges.size(), 2u);
  // Faults keep the latency too.
  BOOST_CHECK_EQUAL(with_fault("500").latency_ms, 15);
  settings.latency_max_ms = 10;
  BOOST_CHECK_EQUAL(with_fault("").latency_ms, 10);
  BOOST_CHECK_EQUAL(source.ranges.size(), 3u);
}

BOOST_AUTO_TEST_SUITE_END()
