// troupe run against troupe fake-dify processes on loopback: every mode and
// fault of the Dify API, checked in the results file, the exit code and the
// server's own account of the calls it got.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/fake_dify_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_proxy.hpp"
#include <sys/resource.h>

#include <csignal>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

struct dify_fixture {
  temp_dir dir;
  std::string key = "app-test";
  std::vector<std::string> env;
  int runs = 0;
  std::string out;

  /// A target object for the server.
  static std::string target(const fake_dify_process& s,
                            const std::string& mode = "blocking",
                            const std::string& type = "dify-workflow",
                            const std::string& extra = "") {
    return R"({"type": ")" + type + R"(", "base_url": ")" + s.base_url()
           + R"(", "api_key_env": "TEST_DIFY_KEY", "response_mode": ")" + mode
           + "\"" + (extra.empty() ? "" : ", " + extra) + "}";
  }

  /// Writes a manifest with one dataset "d" of `cases`.
  std::string manifest(const std::string& target_json, const std::string& cases,
                       const std::string& rest = "") {
    auto text = R"({"name": "e2e", "target": )" + target_json
                + R"(, "datasets": [{"name": "d", "cases": )" + cases + "}]"
                + (rest.empty() ? "" : ", " + rest) + "}";
    return dir.write("m" + std::to_string(runs) + ".json", text);
  }

  /// Runs troupe on `manifest_path` with the key in the environment.
  process_result run(const std::string& manifest_path,
                     std::vector<std::string> extra = {},
                     std::chrono::milliseconds limit = 60s) {
    out = dir.file("r" + std::to_string(++runs) + ".jsonl");
    std::vector<std::string> args{troupe_binary(), "run", manifest_path,
                                  "--out",         out,   "--progress",
                                  "never"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto e = env;
    e.push_back("TEST_DIFY_KEY=" + key);
    child_process child{args, dir.path(), e};
    return child.wait(limit);
  }

  results_file results() {
    return read_results(out);
  }

  /// Copies config/examples/NAME (and its cases) into the test folder,
  /// pointed at `server` instead of 127.0.0.1:5001.
  std::string example_for(const fake_dify_process& server,
                          const std::string& name) {
    auto examples = source_dir() + "/config/examples/";
    dir.write("demo-cases.jsonl", read_file(examples + "demo-cases.jsonl"));
    auto text = read_file(examples + name);
    auto host = server.url().substr(7); // "127.0.0.1:PORT"
    for (auto at = text.find("127.0.0.1:5001"); at != std::string::npos;
         at = text.find("127.0.0.1:5001"))
      text.replace(at, 14, host);
    return dir.write(name, text);
  }

  /// Milliseconds between the end of attempt i and the start of i + 1.
  static double gap_ms(const json::object& result, size_t i) {
    auto& log = result.at("attempt_log").as_array();
    auto end = log[i].at("started_ms").to_number<double>()
               + log[i].at("duration_ms").to_number<double>();
    return log[i + 1].at("started_ms").to_number<double>() - end;
  }

  static bool starts(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }

  static bool ends(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size()
           && s.substr(s.size() - suffix.size()) == suffix;
  }

  static std::string str(const json::value& v) {
    return v.is_string() ? std::string{v.get_string()} : json::serialize(v);
  }

  /// The text a raw reply carries: a workflow's outputs.text or an answer,
  /// blocking, or joined from the events of a stream.
  static std::string answer_text(const std::string& body) {
    auto text_of = [](const json::object& o) -> std::string {
      if (auto* a = o.if_contains("answer"))
        return str(*a);
      if (auto* d = o.if_contains("data"); d != nullptr && d->is_object())
        if (auto* out = d->as_object().if_contains("outputs");
            out != nullptr && out->is_object())
          return str(out->at("text"));
      return {};
    };
    if (!starts(body, "event:") && !starts(body, "data:"))
      return text_of(json::parse(body).as_object());
    std::string text;
    for (size_t at = body.find("data: "); at != std::string::npos;
         at = body.find("data: ", at + 1)) {
      auto o = json::parse(body.substr(at + 6, body.find('\n', at) - at - 6))
                 .as_object();
      auto event = str(o.at("event"));
      if (event == "message" || event == "workflow_finished")
        text += text_of(o);
    }
    return text;
  }
};

// Fast retries for the fault tests.
constexpr const char* quick_retry = R"("retry_policy": {"max_attempts": 3,
  "backoff_seconds": 0.05, "backoff_multiplier": 1, "jitter": "none"})";

} // namespace

BOOST_FIXTURE_TEST_SUITE(dify, dify_fixture)

BOOST_AUTO_TEST_CASE(a_blocking_workflow_records_outputs_tokens_and_ids,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(target(server),
                    R"([{"id": "a", "inputs": {"text": "hello"}},
                        {"id": "b", "inputs": {"text": "world"}}])",
                    R"("parameters": [{"tone": "dry"}, {"tone": "warm"}])");
  auto r = run(m);
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = results();
  BOOST_REQUIRE_EQUAL(f.results.size(), 4u);
  auto& a = f.results.at("d/a#1");
  BOOST_CHECK_EQUAL(a.at("status").as_string(), "SUCCEEDED");
  BOOST_CHECK_EQUAL(a.at("output").at("text").as_string(), "echo: hello");
  BOOST_CHECK_EQUAL(a.at("http_status").as_int64(), 200);
  BOOST_CHECK_EQUAL(a.at("tokens").as_int64(), 12);
  auto& d = a.at("dify").as_object();
  BOOST_CHECK(starts(d.at("task_id").as_string(), "task-"));
  BOOST_CHECK(starts(d.at("workflow_run_id").as_string(), "run-"));
  BOOST_CHECK_EQUAL(d.at("elapsed_time").to_number<double>(), 0.25);
  BOOST_CHECK_EQUAL(d.at("total_steps").as_int64(), 3);
  BOOST_CHECK(!a.contains("first_event_ms"));
  BOOST_CHECK_EQUAL(f.summary().at("tokens").as_int64(), 4 * 12);
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 4);
  // The parameter set reached the app's inputs.
  BOOST_CHECK_NE(r.out.find("tokens: 48"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_streaming_workflow_takes_outputs_from_workflow_finished,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(target(server, "streaming"),
                    R"([{"id": "a", "inputs": {"text": "streamed",
                                               "_latency_ms": 200}}])");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  auto a = results().results.at("d/a#0");
  BOOST_CHECK_EQUAL(a.at("status").as_string(), "SUCCEEDED");
  BOOST_CHECK_EQUAL(a.at("output").at("text").as_string(), "echo: streamed");
  BOOST_CHECK_EQUAL(a.at("tokens").as_int64(), 13);
  // The first event with content came one event gap (200 ms / 8) in.
  auto first = a.at("first_event_ms").to_number<double>();
  BOOST_CHECK_GE(first, 20.0);
  BOOST_CHECK_LT(first, a.at("latency_ms").to_number<double>());
}

BOOST_AUTO_TEST_CASE(chat_and_completion_answers_in_both_modes,
                     *utf::timeout(60)) {
  fake_dify_process server;
  for (auto mode : {"blocking", "streaming"}) {
    auto chat = manifest(target(server, mode, "dify-chat"),
                         R"([{"id": "q", "query": "how are you doing"}])");
    BOOST_CHECK_EQUAL(run(chat).code, 0);
    auto q = results().results.at("d/q#0");
    BOOST_CHECK_EQUAL(q.at("output").as_string(), "echo: how are you doing");
    BOOST_CHECK(
      starts(q.at("dify").at("conversation_id").as_string(), "conv-"));
    auto completion = manifest(target(server, mode, "dify-completion"),
                               R"([{"id": "c", "inputs": {"text": "abc"}}])");
    BOOST_CHECK_EQUAL(run(completion).code, 0);
    BOOST_CHECK_EQUAL(results().results.at("d/c#0").at("output").as_string(),
                      "echo: abc");
  }
  BOOST_CHECK_EQUAL(server.calls("/v1/chat-messages"), 2);
  BOOST_CHECK_EQUAL(server.calls("/v1/completion-messages"), 2);
}

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

BOOST_AUTO_TEST_CASE(ctrl_c_sends_the_stop_call_for_a_running_stream,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(target(server, "streaming"),
                    R"([{"id": "long", "inputs": {"_latency_ms": 8000}},
                        {"id": "next"}])",
                    R"("execution_policy": {"concurrency": 1})");
  out = dir.file("stop.jsonl");
  child_process child{
    {troupe_binary(), "run", m, "--out", out, "--progress", "never"},
    dir.path(),
    {"TEST_DIFY_KEY=" + key}};
  // Wait until the stream is under way, then interrupt.
  BOOST_REQUIRE(
    eventually([&] { return server.calls("/v1/workflows/run") == 1; }, 10s));
  std::this_thread::sleep_for(1500ms);
  child.signal(SIGINT);
  auto r = child.wait(30s);
  BOOST_CHECK_EQUAL(r.code, 130);
  auto f = results();
  auto& stopped = f.results.at("d/long#0");
  BOOST_CHECK_EQUAL(stopped.at("status").as_string(), "CANCELLED");
  BOOST_CHECK_EQUAL(f.status("d/next#0"), "CANCELLED");
  auto stops = server.stats().at("stops").as_array();
  BOOST_REQUIRE_EQUAL(stops.size(), 1u);
  BOOST_CHECK_EQUAL(stops[0].as_string(),
                    stopped.at("dify").at("task_id").as_string());
  // The stream ended through Dify's own stopped event, well before 8 s.
  BOOST_CHECK_LT(stopped.at("latency_ms").to_number<double>(), 6000.0);
}

BOOST_AUTO_TEST_CASE(a_deadline_on_a_chat_stream_makes_the_stop_call,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(target(server, "streaming", "dify-chat"),
                    R"([{"id": "slow", "query": "take your time",
                         "inputs": {"_latency_ms": 12000}}])",
                    R"("execution_policy": {"timeout_seconds": 3.5},
                       "retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto slow = results().results.at("d/slow#0");
  BOOST_CHECK_EQUAL(slow.at("status").as_string(), "TIMEOUT");
  auto stats = server.stats();
  BOOST_REQUIRE_EQUAL(stats.at("stops").as_array().size(), 1u);
  BOOST_CHECK_EQUAL(stats.at("by_path").as_object().size() >= 2, true);
  bool chat_stop = false;
  for (auto& kv : stats.at("by_path").as_object())
    chat_stop
      = chat_stop
        || (starts(kv.key(), "/v1/chat-messages/") && ends(kv.key(), "/stop"));
  BOOST_CHECK(chat_stop);
}

BOOST_AUTO_TEST_CASE(a_missing_key_variable_is_exit_2_and_names_it,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = dir.write("nokey.json",
                     R"({"target": {"type": "dify-workflow", "base_url": ")"
                       + server.base_url()
                       + R"(", "api_key_env": "NOT_SET_ANYWHERE_42"},
                         "datasets": [{"name": "d", "cases": [{"id": "a"}]}]})");
  auto r = run(m);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("NOT_SET_ANYWHERE_42"), std::string::npos);
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 0);
}

BOOST_AUTO_TEST_CASE(the_key_never_appears_in_results_logs_or_errors,
                     *utf::timeout(60)) {
  key = "app-SECRET-7f3a9c-do-not-leak";
  fake_dify_process server{{}, key};
  auto m
    = manifest(target(server, "streaming"),
               R"([{"id": "ok"}, {"id": "bad", "inputs": {"_fault": "400"}},
                        {"id": "x", "inputs": {"_fault": "401"}}])",
               R"("execution_policy": {"concurrency": 1})");
  auto r = run(m, {"--summary-json", dir.file("s.json")});
  BOOST_CHECK_EQUAL(r.code, 3);
  auto everything
    = read_file(out) + read_file(dir.file("s.json")) + r.out + r.err;
  BOOST_CHECK_EQUAL(everything.find("SECRET-7f3a9c"), std::string::npos);
  // A wrong key in the environment is not echoed either.
  key = "app-WRONG-55d1e0-do-not-leak";
  r = run(m);
  BOOST_CHECK_EQUAL(r.code, 3);
  everything = read_file(out) + r.out + r.err;
  BOOST_CHECK_EQUAL(everything.find("WRONG-55d1e0"), std::string::npos);
  auto help = run_process({troupe_binary(), "run", "--help"});
  BOOST_CHECK_EQUAL(help.out.find("SECRET"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(https_is_verified_and_a_ca_file_makes_it_trusted,
                     *utf::timeout(90)) {
  auto cert = dir.file("cert.pem");
  auto pkey = dir.file("key.pem");
  auto gen = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey",
                          "rsa:2048", "-nodes", "-keyout", pkey, "-out", cert,
                          "-days", "1", "-subj", "/CN=localhost", "-addext",
                          "subjectAltName=IP:127.0.0.1,DNS:localhost"});
  BOOST_REQUIRE_EQUAL(gen.code, 0);
  fake_dify_process server{{"--tls-cert", cert, "--tls-key", pkey}};
  BOOST_REQUIRE(starts(server.url(), "https://"));
  auto untrusted = manifest(target(server), R"([{"id": "a"}])",
                            R"("retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(untrusted).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.status("d/a#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.results.at("d/a#0").at("error_code").as_string(), "tls");
  auto trusted = manifest(target(server, "blocking", "dify-workflow",
                                 R"("ca_file": ")" + cert + "\""),
                          R"([{"id": "a"}])");
  BOOST_CHECK_EQUAL(run(trusted).code, 0);
  BOOST_CHECK_EQUAL(results().status("d/a#0"), "SUCCEEDED");
  // Through an HTTPS proxy: a CONNECT tunnel, still verified.
  test_proxy proxy;
  env = {"HTTPS_PROXY=" + proxy.url()};
  BOOST_CHECK_EQUAL(run(trusted).code, 0);
  BOOST_CHECK_GE(proxy.tunnels(), 1);
}

BOOST_AUTO_TEST_CASE(http_proxy_and_no_proxy_are_honoured, *utf::timeout(60)) {
  fake_dify_process server;
  test_proxy proxy;
  auto m = manifest(target(server), R"([{"id": "a"}, {"id": "b"}])");
  env = {"HTTP_PROXY=" + proxy.url()};
  BOOST_CHECK_EQUAL(run(m).code, 0);
  BOOST_CHECK_EQUAL(proxy.forwarded(), 2);
  env = {"HTTP_PROXY=" + proxy.url(), "NO_PROXY=127.0.0.1"};
  BOOST_CHECK_EQUAL(run(m).code, 0);
  BOOST_CHECK_EQUAL(proxy.forwarded(), 2);
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 4);
}

BOOST_AUTO_TEST_CASE(the_http_target_fills_templates_and_reads_a_pointer,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto t = R"({"type": "http", "url": ")" + server.url()
           + R"J(/v1/workflows/run", "api_key_env": "TEST_DIFY_KEY",
               "body": {"inputs": {"text": "{{inputs.q}} ({{params.lang}})"},
                        "user": "{{case_id}}", "response_mode": "blocking"},
               "output_pointer": "/data/outputs/text"})J";
  auto m = manifest(t, R"([{"id": "a", "inputs": {"q": "say \"hi\""}},
                           {"id": "b", "inputs": {"other": 1}}])",
                    R"("parameters": [{"lang": "en"}])");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.results.at("d/a#0").at("output").as_string(),
                    "echo: say \"hi\" (en)");
  BOOST_CHECK_EQUAL(f.status("d/b#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.results.at("d/b#0").at("error").as_string(),
                    "target.body: no value for {{inputs.q}} in this task");
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 1);
}

BOOST_AUTO_TEST_CASE(the_examples_run_against_the_fake_server,
                     *utf::timeout(60)) {
  fake_dify_process server{{}, "app-demo"};
  for (auto [name, var] :
       {std::pair{"dify-workflow.json", "DIFY_API_KEY"},
        std::pair{"dify-chat-streaming.json", "DIFY_API_KEY"},
        std::pair{"http-endpoint.json", "SERVICE_TOKEN"}}) {
    auto m = example_for(server, name);
    env = {std::string{var} + "=app-demo"};
    auto r = run(m);
    BOOST_CHECK_MESSAGE(r.code == 0,
                        name << ": exit " << r.code << " " << r.err);
    auto f = results();
    BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), f.results.size());
  }
  BOOST_CHECK_EQUAL(results().results.at("q/one#1").at("output").as_string(),
                    "echo: 2+2? (fr)");
}

BOOST_AUTO_TEST_CASE(the_adaptive_example_settles_under_the_cap,
                     *utf::timeout(120)) {
  // As its comment runs it: 4 calls at a time, 50 ms each.
  fake_dify_process server{{"--max-active", "4", "--latency-ms", "50"},
                           "app-demo"};
  env = {"DIFY_API_KEY=app-demo"};
  auto r = run(example_for(server, "adaptive.json"));
  BOOST_CHECK_MESSAGE(r.code == 0, "exit " << r.code << " " << r.err);
  auto f = results();
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 150u);
  BOOST_CHECK_LE(f.summary().at("adaptive_concurrency").at("min").as_int64(),
                 4);
  BOOST_CHECK_LE(server.stats().at("max_active").as_int64(), 4);
  // 28 of the first 32 calls are turned away; after that only the probes
  // above 4 are.
  auto rejected = server.stats().at("rejected_active").as_int64();
  BOOST_TEST_MESSAGE("rejections: " << rejected);
  BOOST_CHECK_LT(rejected, 100);
}

BOOST_AUTO_TEST_CASE(the_barrier_holds_calls_until_n_are_open,
                     *utf::timeout(60)) {
  // Three calls answered only once all three are open: max_active is 3
  // however far apart they arrive (up to the 50 s hold timeout).
  fake_dify_process server{
    {"--hold-until-active", "3", "--hold-timeout-ms", "50000"}};
  auto m
    = manifest(target(server), R"([{"id": "a"}, {"id": "b"}, {"id": "c"}])",
               R"("execution_policy": {"concurrency": 3,
                                            "timeout_seconds": 55},
                       "retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  BOOST_CHECK_EQUAL(results().count("SUCCEEDED"), 3u);
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(stats.at("max_active").as_int64(), 3);
  BOOST_CHECK_EQUAL(stats.at("hold_released").as_bool(), true);
  BOOST_CHECK_EQUAL(stats.at("hold_timeouts").as_int64(), 0);
}

BOOST_AUTO_TEST_CASE(a_barrier_that_is_never_reached_fails_the_held_calls,
                     *utf::timeout(60)) {
  // Two tasks can never make five calls open at once.
  fake_dify_process server{
    {"--hold-until-active", "5", "--hold-timeout-ms", "300"}};
  auto m = manifest(target(server), R"([{"id": "a"}, {"id": "b"}])",
                    R"("execution_policy": {"concurrency": 2},
                       "retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  for (auto id : {"d/a#0", "d/b#0"}) {
    auto& r = f.results.at(id);
    BOOST_CHECK_EQUAL(r.at("status").as_string(), "FAILED");
    BOOST_CHECK_EQUAL(r.at("http_status").as_int64(), 503);
    // K depends on when the second call came; N and T do not.
    auto error = str(r.at("error"));
    BOOST_CHECK_MESSAGE(error.find("hold-until-active: only ")
                            != std::string::npos
                          && ends(error, " of 5 calls arrived within 300 ms"),
                        error);
  }
  BOOST_CHECK_GE(server.stats().at("hold_timeouts").as_int64(), 1);
}

BOOST_AUTO_TEST_CASE(a_held_call_whose_client_gives_up_is_dropped_and_counted,
                     *utf::timeout(60)) {
  // Each attempt times out while held; the server lets it go (it no longer
  // counts towards the two) and counts it, as troupe counts the attempt.
  fake_dify_process server{
    {"--hold-until-active", "2", "--hold-timeout-ms", "50000"}};
  auto m = manifest(target(server), R"([{"id": "a"}])",
                    R"("execution_policy": {"timeout_seconds": 0.5},
                       "retry_policy": {"max_attempts": 2,
                                        "backoff_seconds": 0.05})");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.status("d/a#0"), "TIMEOUT");
  BOOST_CHECK_EQUAL(f.attempts("d/a#0"), 2);
  BOOST_CHECK(
    eventually([&] { return server.stats().at("held").as_int64() == 0; }, 10s));
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 2);
  BOOST_CHECK_EQUAL(stats.at("max_active").as_int64(), 1);
  BOOST_CHECK_EQUAL(stats.at("hold_released").as_bool(), false);
}

BOOST_AUTO_TEST_CASE(the_echo_key_faults_repeat_the_authorization_header,
                     *utf::timeout(60)) {
  // The server side of the redaction tests (issue 14, item 7): it really
  // leaks the key, in outputs, answers and error messages. Raw HTTP, so
  // this holds whatever troupe redacts.
  key = "app-SECRET-echo-1234";
  fake_dify_process server{{}, key};
  auto auth = "Bearer " + key;
  auto leak = "you sent " + auth;
  auto call = [&](const std::string& path, const std::string& fault,
                  const std::string& mode) {
    return http_post(server.base_url() + path,
                     R"({"inputs": {"_fault": ")" + fault
                       + R"("}, "query": "q", "user": "u", "response_mode": ")"
                       + mode + "\"}",
                     auth);
  };
  for (auto mode : {"blocking", "streaming"}) {
    for (auto path :
         {"/workflows/run", "/chat-messages", "/completion-messages"}) {
      auto ok = call(path, "echo_key", mode);
      BOOST_CHECK_EQUAL(ok.status, 200);
      BOOST_CHECK_MESSAGE(answer_text(ok.body) == leak,
                          path << " " << mode << ": " << ok.body);
      auto bad = call(path, "echo_key_error", mode);
      BOOST_CHECK_EQUAL(bad.status, 400);
      BOOST_CHECK_MESSAGE(bad.body.find(R"("message":")" + leak + "\"")
                            != std::string::npos,
                          bad.body);
    }
  }
  // The blocking workflow's outputs, exactly.
  auto v = json::parse(call("/workflows/run", "echo_key", "blocking").body);
  BOOST_CHECK_EQUAL(v.at("data").at("outputs").at("text").as_string(), leak);
}

BOOST_AUTO_TEST_CASE(an_echoed_key_is_masked_in_everything_troupe_writes,
                     *utf::timeout(120)) {
  // Issue 14, item 7: a server that echoes the key put it in error, output,
  // the printed summary and the HTML report. Every target type, both modes.
  key = "app-SECRET-abc123";
  fake_dify_process server{{}, key};
  auto http = R"({"type": "http", "url": ")" + server.url()
              + R"J(/v1/workflows/run", "api_key_env": "TEST_DIFY_KEY",
                  "body": {"inputs": {"_fault": "{{inputs._fault}}"},
                           "user": "u", "response_mode": "blocking"},
                  "output_pointer": "/data/outputs/text"})J";
  std::vector<std::string> targets{
    target(server, "blocking"),
    target(server, "streaming"),
    target(server, "blocking", "dify-chat"),
    target(server, "streaming", "dify-chat"),
    target(server, "streaming", "dify-completion"),
    http};
  for (auto& t : targets) {
    auto m = manifest(t, R"([{"id": "ok", "query": "q",
                                "inputs": {"_fault": "echo_key"}},
                               {"id": "bad", "query": "q",
                                "inputs": {"_fault": "echo_key_error"}}])");
    auto summary = dir.file("s" + std::to_string(runs) + ".json");
    auto r = run(m, {"--summary-json", summary});
    BOOST_CHECK_EQUAL(r.code, 1); // "bad" is a FAILED 400
    auto html = dir.file("h" + std::to_string(runs) + ".html");
    auto rep = run_process({troupe_binary(), "report", out, "--html", html},
                           30s, dir.path());
    BOOST_CHECK_EQUAL(rep.code, 0);
    auto lines = read_file(out);
    for (auto& text : {lines, r.out, r.err, read_file(summary), rep.out,
                       rep.err, read_file(html)})
      BOOST_CHECK_MESSAGE(text.find("SECRET") == std::string::npos,
                          t << ": the key leaked: " << text.substr(0, 400));
    auto f = results();
    BOOST_CHECK_MESSAGE(
      str(f.results.at("d/ok#0").at("output")).find("you sent Bearer app-***")
        != std::string::npos,
      t);
    BOOST_CHECK_MESSAGE(
      str(f.results.at("d/bad#0").at("error")).find("you sent Bearer app-***")
        != std::string::npos,
      t);
  }
}

// Both processes raise their soft file limit to the hard one; 10,000
// connections need that many descriptors in each, and some to spare.
boost::test_tools::assertion_result
file_limit_allows_ten_thousand(utf::test_unit_id) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  boost::test_tools::assertion_result ok(lim.rlim_max == RLIM_INFINITY
                                         || lim.rlim_max >= 10'500);
  ok.message() << "needs a hard file limit (ulimit -Hn) of 10,500, got "
               << lim.rlim_max;
  return ok;
}

BOOST_AUTO_TEST_CASE(ten_thousand_requests_in_flight,
                     *utf::precondition(file_limit_allows_ten_thousand)
                       * utf::timeout(290)) {
  // The server answers no call until all 10,000 are open at once, so the
  // test shows 10,000 in flight however slow the ramp: only a ramp longer
  // than the 240 s hold timeout fails it, and then it says so.
  fake_dify_process server{
    {"--hold-until-active", "10000", "--hold-timeout-ms", "240000"}};
  std::string cases = "[";
  for (int i = 0; i < 10'000; ++i)
    cases
      += std::string{i ? "," : ""} + R"({"id":"c)" + std::to_string(i) + "\"}";
  cases += "]";
  auto m = manifest(target(server), cases,
                    R"("execution_policy": {"concurrency": 10000,
                                            "timeout_seconds": 600},
                       "retry_policy": {"max_attempts": 1})");
  auto r = run(m, {}, 280s);
  auto stats = server.stats();
  BOOST_TEST_MESSAGE("fake-dify: " << json::serialize(stats));
  BOOST_CHECK_EQUAL(stats.at("hold_timeouts").as_int64(), 0);
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(results().count("SUCCEEDED"), 10'000u);
  BOOST_CHECK_EQUAL(stats.at("max_active").as_int64(), 10'000);
}

BOOST_AUTO_TEST_SUITE_END()
