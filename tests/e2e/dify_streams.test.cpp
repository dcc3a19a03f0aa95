// How Dify's streams really end, against fake-dify (issue 10): stopped chat,
// completion and chatflow streams end CANCELLED, a stop that fails the run
// too; chatflows report their run; the final event ends the attempt though
// the connection stays open; long streams are capped per event; and a
// stream's first_event_ms beside the server's own time (issue 13). (Suite
// dify.)

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"
#include "tests/support/test_proxy.hpp"

#include <csignal>
#include <fstream>
#include <map>
#include <thread>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// Runs `m`, waits until `streams` calls to `path` are under way, and
// interrupts the run as Ctrl+C would; the run's exit code.
int interrupt(dify_fixture& fx, const fake_dify_process& server,
              const std::string& m, const std::string& path, int streams) {
  fx.out = fx.dir.file("stop" + std::to_string(++fx.runs) + ".jsonl");
  child_process child{
    {troupe_binary(), "run", m, "--out", fx.out, "--progress", "never"},
    fx.dir.path(),
    {"TEST_DIFY_KEY=" + fx.key}};
  BOOST_REQUIRE(eventually([&] { return server.calls(path) == streams; }, 10s));
  std::this_thread::sleep_for(1500ms); // the first events have come
  child.signal(SIGINT);
  return child.wait(30s).code;
}

// Runs `m` again with --resume on the file the interrupted run wrote; the
// exit code.
int resume(dify_fixture& fx, const std::string& m) {
  child_process child{
    {troupe_binary(), "run", m, "--resume", fx.out, "--progress", "never"},
    fx.dir.path(),
    {"TEST_DIFY_KEY=" + fx.key}};
  return child.wait(60s).code;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(dify, dify_fixture)

BOOST_AUTO_TEST_CASE(stopped_chat_completion_and_chatflow_streams_are_cancelled,
                     *utf::timeout(150)) {
  fake_dify_process server;
  // Dify ends a stopped easy-UI chat with message_end, a stopped chatflow
  // with workflow_finished(stopped) and message_end: not successes.
  auto chat = manifest(target(server, "streaming", "dify-chat"),
                       R"([{"id": "easy", "query": "q",
                            "inputs": {"_latency_ms": 8000}},
                           {"id": "flow", "query": "q",
                            "inputs": {"_latency_ms": 8000,
                                       "_fault": "chatflow"}}])",
                       R"("execution_policy": {"concurrency": 2})");
  BOOST_CHECK_EQUAL(interrupt(*this, server, chat, "/v1/chat-messages", 2),
                    130);
  auto f = results();
  for (auto* id : {"d/easy#0", "d/flow#0"}) {
    BOOST_TEST_CONTEXT(id) {
      auto& r = f.results.at(id);
      BOOST_CHECK_EQUAL(r.at("status").as_string(), "CANCELLED");
      BOOST_CHECK_LT(r.at("latency_ms").to_number<double>(), 6000.0);
    }
  }
  BOOST_CHECK_EQUAL(server.stats().at("stops").as_array().size(), 2u);
  // --resume completes what the interrupt cancelled.
  BOOST_CHECK_EQUAL(resume(*this, chat), 0);
  for (auto* id : {"d/easy#0", "d/flow#0"})
    BOOST_CHECK_EQUAL(results().status(id), "SUCCEEDED");
  BOOST_CHECK_EQUAL(server.calls("/v1/chat-messages"), 4);
  auto completion
    = manifest(target(server, "streaming", "dify-completion"),
               R"([{"id": "c", "inputs": {"_latency_ms": 8000}}])");
  BOOST_CHECK_EQUAL(
    interrupt(*this, server, completion, "/v1/completion-messages", 1), 130);
  BOOST_CHECK_EQUAL(results().status("d/c#0"), "CANCELLED");
  BOOST_CHECK_EQUAL(resume(*this, completion), 0);
  BOOST_CHECK_EQUAL(results().status("d/c#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(results().result_count.at("d/c#0"), 2);
}

BOOST_AUTO_TEST_CASE(a_stop_that_ends_the_run_failed_is_cancelled,
                     *utf::timeout(60)) {
  fake_dify_process server{{"--stop-fails"}};
  auto m = manifest(target(server, "streaming"),
                    R"([{"id": "w", "inputs": {"_latency_ms": 8000}}])");
  BOOST_CHECK_EQUAL(interrupt(*this, server, m, "/v1/workflows/run", 1), 130);
  auto f_w = results();
  auto& w = f_w.results.at("d/w#0");
  BOOST_CHECK_EQUAL(w.at("status").as_string(), "CANCELLED");
  BOOST_CHECK_EQUAL(w.at("attempts").to_number<int64_t>(), 1);
}

BOOST_AUTO_TEST_CASE(chatflows_report_their_run_before_message_end,
                     *utf::timeout(60)) {
  fake_dify_process server;
  for (auto* mode : {"streaming", "blocking"}) {
    BOOST_TEST_CONTEXT(mode) {
      auto m = manifest(target(server, mode, "dify-chat"),
                        R"([{"id": "ok", "query": "hi",
                             "inputs": {"_fault": "chatflow"}},
                            {"id": "bad", "query": "hi",
                             "inputs": {"_fault": "chatflow_failed"}}])",
                        quick_retry);
      BOOST_CHECK_EQUAL(run(m).code, 1);
      auto f = results();
      auto& ok = f.results.at("d/ok#0");
      BOOST_CHECK_EQUAL(ok.at("status").as_string(), "SUCCEEDED");
      BOOST_CHECK_EQUAL(ok.at("output").as_string(), "echo: hi");
      auto& bad = f.results.at("d/bad#0");
      BOOST_CHECK_EQUAL(bad.at("status").as_string(), "FAILED");
      BOOST_CHECK_EQUAL(bad.at("attempts").to_number<int64_t>(), 1);
    }
  }
  // Streaming, the run's own status says why.
  auto m = manifest(target(server, "streaming", "dify-chat"),
                    R"([{"id": "bad", "query": "hi",
                         "inputs": {"_fault": "chatflow_failed"}}])");
  run(m);
  auto last = results();
  BOOST_CHECK(starts(str(last.results.at("d/bad#0").at("error")),
                     "workflow failed: Node LLM run failed"));
}

BOOST_AUTO_TEST_CASE(the_final_event_ends_the_attempt_on_an_open_connection,
                     *utf::timeout(60)) {
  fake_dify_process server;
  for (auto* type : {"dify-workflow", "dify-chat"}) {
    BOOST_TEST_CONTEXT(type) {
      auto m = manifest(target(server, "streaming", type),
                        R"([{"id": "open", "query": "hi",
                             "inputs": {"_fault": "linger"}}])",
                        R"("execution_policy": {"timeout_seconds": 3},
                           "retry_policy": {"max_attempts": 1})");
      BOOST_CHECK_EQUAL(run(m).code, 0);
      auto f_r = results();
      auto& r = f_r.results.at("d/open#0");
      BOOST_CHECK_EQUAL(r.at("status").as_string(), "SUCCEEDED");
      BOOST_CHECK_LT(r.at("latency_ms").to_number<double>(), 2000.0);
    }
  }
  BOOST_CHECK_EQUAL(server.stats().at("lingering").as_int64(), 2);
}

BOOST_AUTO_TEST_CASE(long_streams_are_capped_per_event_not_in_all,
                     *utf::timeout(60)) {
  fake_dify_process server;
  // ~2 MB of node events, none over 1 MiB: a success.
  auto m = manifest(target(server, "streaming", "dify-workflow",
                           R"("max_response_bytes": 1048576)"),
                    R"([{"id": "long", "inputs": {"_fault": "long"}}])");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  BOOST_CHECK_EQUAL(results().status("d/long#0"), "SUCCEEDED");
  // Each 40 KiB event is over a 16 KiB cap: ERROR, not retried (a retry
  // would run the whole workflow again), and the run is stopped.
  m = manifest(target(server, "streaming", "dify-workflow",
                      R"("max_response_bytes": 16384)"),
               R"([{"id": "long", "inputs": {"_fault": "long"}}])",
               quick_retry);
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f_r = results();
  auto& r = f_r.results.at("d/long#0");
  BOOST_CHECK_EQUAL(r.at("status").as_string(), "ERROR");
  BOOST_CHECK_EQUAL(r.at("error_code").as_string(), "response_too_large");
  BOOST_CHECK_EQUAL(r.at("attempts").to_number<int64_t>(), 1);
  BOOST_CHECK_EQUAL(server.stats().at("stops").as_array().size(), 1u);
}

BOOST_AUTO_TEST_CASE(validate_notes_a_long_blocking_timeout_on_dify_cloud,
                     *utf::timeout(30)) {
  auto cloud = [&](const char* mode) {
    return manifest(R"({"type": "dify-workflow",
                        "base_url": "https://api.dify.ai/v1",
                        "api_key_env": "TEST_DIFY_KEY",
                        "response_mode": ")"
                      + std::string{mode} + "\"}",
                    R"([{"id": "c"}])",
                    R"("execution_policy": {"timeout_seconds": 120})");
  };
  auto validate = [&](const std::string& m) {
    child_process child{
      {troupe_binary(), "validate", m}, dir.path(), {"TEST_DIFY_KEY=" + key}};
    return child.wait(20s);
  };
  auto r = validate(cloud("blocking"));
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.out.find("note: execution_policy.timeout_seconds is over "
                            "100 with a blocking target on Dify Cloud"),
                 std::string::npos);
  r = validate(cloud("streaming"));
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(r.out.find("note:"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(first_event_ms_is_the_server_time_to_its_first_event,
                     *utf::timeout(60)) {
  // fake-dify sends 10 events, 50 ms apart (--stream-events, the latency
  // spread between them), and logs when it read each request and wrote its
  // first data event. troupe counts first_event_ms from the request going
  // out on a ready connection, as latency_ms: it matches the server's time
  // and leaves out the 400 ms that the proxy takes to open each HTTPS
  // tunnel, which connect_ms holds. (Before, it counted them: 450 ms.)
  auto cert = dir.file("cert.pem");
  auto pkey = dir.file("key.pem");
  auto gen
    = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec",
                   "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                   "-keyout", pkey, "-out", cert, "-days", "1", "-subj",
                   "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"});
  BOOST_REQUIRE_EQUAL(gen.code, 0);
  auto log = dir.file("timing.jsonl");
  fake_dify_process server{{"--tls-cert", cert, "--tls-key", pkey,
                            "--stream-events", "10", "--latency-ms", "500",
                            "--timing-log", log}};
  test_proxy proxy{400ms};
  env = {"HTTPS_PROXY=" + proxy.url()};
  auto m = manifest(target(server, "streaming", "dify-workflow",
                           R"("ca_file": ")" + cert + "\""),
                    R"([{"id": "a", "inputs": {"n": "a"}},
                        {"id": "b", "inputs": {"n": "b"}},
                        {"id": "c", "inputs": {"n": "c"}}])",
                    R"("execution_policy": {"concurrency": 3})");
  BOOST_REQUIRE_EQUAL(run(m).code, 0);
  std::map<std::string, json::object> logged; // by the input n
  std::ifstream in{log};
  for (std::string line; std::getline(in, line);) {
    auto o = json::parse(line).as_object();
    logged[str(o.at("inputs").as_object().at("n"))] = o;
  }
  BOOST_REQUIRE_EQUAL(logged.size(), 3u);
  auto f = results();
  for (auto* id : {"a", "b", "c"}) {
    BOOST_TEST_CONTEXT(id) {
      auto& o = logged.at(id);
      BOOST_CHECK_EQUAL(o.at("events").as_int64(), 10);
      // The first data event follows the ping by one gap.
      auto server_ms = static_cast<double>(o.at("first_event_us").as_int64()
                                           - o.at("received_us").as_int64())
                       / 1000;
      BOOST_CHECK_GE(server_ms, 49.0);
      auto& r = f.results.at("d/" + std::string{id} + "#0");
      BOOST_CHECK_EQUAL(str(r.at("output").as_object().at("text")),
                        "echo: {\"n\":\"" + std::string{id} + "\"}");
      BOOST_CHECK_GE(r.at("connect_ms").to_number<double>(), 400.0);
      // The request's way to the server and the event's way back, through
      // the proxy: a few ms, with room for a loaded machine.
      auto first = r.at("first_event_ms").to_number<double>();
      BOOST_CHECK_GE(first, server_ms - 1.0);
      BOOST_CHECK_LT(first, server_ms + 250.0);
      BOOST_CHECK_LE(first, r.at("latency_ms").to_number<double>());
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
