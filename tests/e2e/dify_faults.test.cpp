// troupe run against fake-dify's faults: failed and stopped runs, throttling
// and Retry-After, server errors, wire faults, silence, aborting 4xx, an
// active-request cap and oversized responses. (Suite dify.)

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

BOOST_FIXTURE_TEST_SUITE(dify, dify_fixture)

BOOST_AUTO_TEST_CASE(failed_and_stopped_runs_are_failed_and_not_retried,
                     *utf::timeout(60)) {
  fake_dify_process server;
  for (auto mode : {"blocking", "streaming"}) {
    auto m = manifest(target(server, mode),
                      R"([{"id": "f", "inputs": {"_fault": "failed"}},
                          {"id": "s", "inputs": {"_fault": "stopped"}}])",
                      quick_retry);
    BOOST_CHECK_EQUAL(run(m).code, 1);
    auto f = results();
    auto& failed = f.results.at("d/f#0");
    BOOST_CHECK_EQUAL(failed.at("status").as_string(), "FAILED");
    BOOST_CHECK_EQUAL(failed.at("attempts").as_int64(), 1);
    BOOST_CHECK_EQUAL(failed.at("error").as_string(),
                      "workflow failed: Node LLM run failed: model timed out "
                      "(fake)");
    BOOST_CHECK_EQUAL(failed.at("http_status").as_int64(), 200);
    auto& stopped = f.results.at("d/s#0");
    BOOST_CHECK_EQUAL(stopped.at("status").as_string(), "FAILED");
    BOOST_CHECK_EQUAL(stopped.at("attempts").as_int64(), 1);
    BOOST_CHECK_EQUAL(stopped.at("error_code").as_string(), "workflow_stopped");
  }
}

BOOST_AUTO_TEST_CASE(throttling_is_retried_and_retry_after_is_honoured,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(
    target(server),
    R"([{"id": "ra", "inputs": {"_fault": "429:retry-after=1", "_fault_times": 1}},
        {"id": "date", "inputs": {"_fault": "429-date:2", "_fault_times": 1}},
        {"id": "plain", "inputs": {"_fault": "429", "_fault_times": 1}},
        {"id": "busy", "inputs": {"_fault": "too_many", "_fault_times": 1}}])",
    R"("execution_policy": {"concurrency": 4},
       "retry_policy": {"max_attempts": 3, "backoff_seconds": 0.3,
                        "jitter": "none"})");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  auto f = results();
  for (auto id : {"d/ra#0", "d/date#0", "d/plain#0", "d/busy#0"}) {
    auto& r = f.results.at(id);
    BOOST_CHECK_EQUAL(r.at("status").as_string(), "SUCCEEDED");
    BOOST_CHECK_EQUAL(r.at("attempts").as_int64(), 2);
  }
  auto& ra = f.results.at("d/ra#0");
  auto& first = ra.at("attempt_log").as_array()[0];
  BOOST_CHECK_EQUAL(first.at("status").as_string(), "FAILED");
  BOOST_CHECK_EQUAL(first.at("http_status").as_int64(), 429);
  // Retry-After: 1 beats the 0.3 s backoff; an HTTP date 2 s ahead (whole
  // seconds) waits at least 1 s; without the header the backoff applies.
  BOOST_CHECK_GE(gap_ms(ra, 0), 1000.0);
  BOOST_CHECK_GE(gap_ms(f.results.at("d/date#0"), 0), 1000.0);
  BOOST_CHECK_GE(gap_ms(f.results.at("d/plain#0"), 0), 300.0);
  BOOST_CHECK_LT(gap_ms(f.results.at("d/plain#0"), 0), gap_ms(ra, 0));
  auto& busy = f.results.at("d/busy#0").at("attempt_log").as_array()[0];
  BOOST_CHECK_EQUAL(busy.at("http_status").as_int64(), 400);
  BOOST_CHECK(str(busy.at("error")).find("Too many requests")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(server_errors_are_retried_other_4xx_are_not,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(
    target(server),
    R"([{"id": "e500", "inputs": {"_fault": "500", "_fault_times": 1}},
        {"id": "e502", "inputs": {"_fault": "502", "_fault_times": 2}},
        {"id": "e503", "inputs": {"_fault": "503", "_fault_times": 1}},
        {"id": "e504", "inputs": {"_fault": "504", "_fault_times": 1}},
        {"id": "always", "inputs": {"_fault": "500"}},
        {"id": "bad", "inputs": {"_fault": "400"}},
        {"id": "gone", "inputs": {"_fault": "404"}}])",
    quick_retry);
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.status("d/e500#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("d/e500#0"), 2);
  BOOST_CHECK_EQUAL(f.attempts("d/e502#0"), 3);
  BOOST_CHECK_EQUAL(f.status("d/e503#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.status("d/e504#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.status("d/always#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("d/always#0"), 3);
  BOOST_CHECK_EQUAL(f.results.at("d/always#0").at("error_code").as_string(),
                    "http_500:internal_server_error");
  BOOST_CHECK_EQUAL(f.status("d/bad#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("d/bad#0"), 1);
  BOOST_CHECK_EQUAL(f.results.at("d/bad#0").at("error").as_string(),
                    "HTTP 400 invalid_param: text is required in input form");
  BOOST_CHECK_EQUAL(f.attempts("d/gone#0"), 1);
  BOOST_CHECK_EQUAL(f.results.at("d/gone#0").at("http_status").as_int64(), 404);
}

BOOST_AUTO_TEST_CASE(wire_faults_are_errors, *utf::timeout(60)) {
  fake_dify_process server;
  auto cases = R"([{"id": "reset", "inputs": {"_fault": "reset"}},
                   {"id": "malformed", "inputs": {"_fault": "malformed"}},
                   {"id": "cut", "inputs": {"_fault": "cut"}},
                   {"id": "evt", "inputs": {"_fault": "stream_error"}}])";
  auto policy
    = R"("retry_policy": {"max_attempts": 2, "backoff_seconds": 0.05})";
  BOOST_CHECK_EQUAL(run(manifest(target(server), cases, policy)).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.status("d/reset#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.attempts("d/reset#0"), 2);
  BOOST_CHECK_EQUAL(f.results.at("d/reset#0").at("error_code").as_string(),
                    "connection");
  BOOST_CHECK_EQUAL(f.status("d/malformed#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.results.at("d/malformed#0").at("error_code").as_string(),
                    "malformed_response");
  BOOST_CHECK_EQUAL(f.status("d/cut#0"), "ERROR");
  // In blocking mode an error event is an HTTP error.
  BOOST_CHECK_EQUAL(f.status("d/evt#0"), "FAILED");
  BOOST_CHECK_EQUAL(
    run(manifest(target(server, "streaming"), cases, policy)).code, 1);
  f = results();
  BOOST_CHECK_EQUAL(f.status("d/cut#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.results.at("d/cut#0").at("error").as_string(),
                    "stream ended before workflow_finished");
  BOOST_CHECK_EQUAL(f.status("d/evt#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("d/evt#0"), 1);
  BOOST_CHECK_EQUAL(f.results.at("d/evt#0").at("error").as_string(),
                    "stream error event: HTTP 400 completion_request_error: "
                    "[fake] Error: model returned an error");
  BOOST_CHECK_EQUAL(f.status("d/reset#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.status("d/malformed#0"), "ERROR");
}

BOOST_AUTO_TEST_CASE(a_silent_server_times_out_and_frees_the_connection,
                     *utf::timeout(60)) {
  // One call at a time: had the hung call's connection stayed open, the
  // server would refuse the retry as a second active call.
  fake_dify_process server{{"--max-active", "1"}};
  auto m = manifest(target(server),
                    R"([{"id": "h", "inputs": {"_fault": "hang",
                                               "_fault_times": 1}}])",
                    R"("execution_policy": {"timeout_seconds": 0.5},
                       "retry_policy": {"max_attempts": 2,
                                        "backoff_seconds": 0.2})");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  auto h = results().results.at("d/h#0");
  BOOST_CHECK_EQUAL(h.at("status").as_string(), "SUCCEEDED");
  auto& log = h.at("attempt_log").as_array();
  BOOST_CHECK_EQUAL(log[0].at("status").as_string(), "TIMEOUT");
  BOOST_CHECK_EQUAL(log[0].at("duration_ms").to_number<double>() >= 500.0,
                    true);
  BOOST_CHECK_EQUAL(server.stats().at("rejected_active").as_int64(), 0);
}

BOOST_AUTO_TEST_CASE(a_401_aborts_the_run_and_stops_calling,
                     *utf::timeout(60)) {
  fake_dify_process server;
  // c0's 401 comes at once; the call beside it takes 1 s, so the abort is
  // handled long before a third call could start (with 50 ms calls, as
  // before, a loaded machine could let one or two more through).
  std::string cases = R"([{"id": "c0", "inputs": {"_fault": "401"}})";
  for (int i = 1; i < 30; ++i)
    cases += R"(, {"id": "c)" + std::to_string(i)
             + R"(", "inputs": {"_latency_ms": 1000}})";
  cases += "]";
  auto m = manifest(target(server), cases,
                    R"("execution_policy": {"concurrency": 2})");
  auto r = run(m);
  BOOST_CHECK_EQUAL(r.code, 3);
  BOOST_CHECK_NE(r.out.find("reason: run aborted: d/c0#0: HTTP 401 "
                            "unauthorized: Access token is invalid"),
                 std::string::npos);
  auto f = results();
  BOOST_CHECK_EQUAL(f.results.size(), 30u);
  BOOST_CHECK_EQUAL(f.status("d/c0#0"), "FAILED");
  BOOST_CHECK_GE(f.count("CANCELLED"), 27u);
  BOOST_CHECK_EQUAL(f.results.at("d/c29#0").at("error").as_string(),
                    "run aborted: d/c0#0: HTTP 401 unauthorized: Access token "
                    "is invalid");
  BOOST_CHECK_EQUAL(f.summary().at("end").as_string(), "aborted");
  // c0 and the call beside it, at most one more: no call after the abort.
  BOOST_CHECK_LE(server.calls("/v1/workflows/run"), 3);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_403_and_quota_abort_with_exit_3,
                     *utf::timeout(60)) {
  fake_dify_process server;
  key = "app-wrong";
  auto m = manifest(target(server), R"([{"id": "a"}, {"id": "b"}])");
  BOOST_CHECK_EQUAL(run(m).code, 3);
  key = "app-test";
  for (auto fault : {"403", "quota", "daily"}) {
    auto q = manifest(target(server),
                      std::string{R"([{"id": "a", "inputs": {"_fault": ")"}
                        + fault + R"("}}, {"id": "b"}])",
                      R"("execution_policy": {"concurrency": 1})");
    BOOST_CHECK_EQUAL(run(q).code, 3);
    auto f = results();
    BOOST_CHECK_EQUAL(f.status("d/a#0"), "FAILED");
    BOOST_CHECK_EQUAL(f.status("d/b#0"), "CANCELLED");
  }
}

BOOST_AUTO_TEST_CASE(an_active_request_cap_is_retried_until_all_succeed,
                     *utf::timeout(60)) {
  fake_dify_process server{{"--max-active", "2", "--latency-ms", "50"}};
  std::string cases = "[";
  for (int i = 0; i < 12; ++i)
    cases += std::string{i ? ", " : ""} + R"({"id": "c)" + std::to_string(i)
             + "\"}";
  cases += "]";
  auto m = manifest(target(server), cases,
                    R"("execution_policy": {"concurrency": 6},
                       "retry_policy": {"max_attempts": 30,
                                        "backoff_seconds": 0.05,
                                        "backoff_multiplier": 1.2,
                                        "jitter": "full"})");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  auto f = results();
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 12u);
  auto stats = server.stats();
  BOOST_CHECK_GT(stats.at("rejected_active").as_int64(), 0);
  BOOST_CHECK_LE(stats.at("max_active").as_int64(), 2);
  BOOST_CHECK_GT(f.summary().at("retries").as_int64(), 0);
}

BOOST_AUTO_TEST_CASE(responses_over_the_limit_are_errors, *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(target(server, "blocking", "dify-workflow",
                           R"("max_response_bytes": 1048576)"),
                    R"([{"id": "big", "inputs": {"_fault": "large"}},
                        {"id": "ok"}])",
                    R"("retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.status("d/big#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.results.at("d/big#0").at("error_code").as_string(),
                    "response_too_large");
  BOOST_CHECK_EQUAL(f.status("d/ok#0"), "SUCCEEDED");
}

BOOST_AUTO_TEST_SUITE_END()
