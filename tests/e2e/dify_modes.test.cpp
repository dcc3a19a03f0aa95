// troupe run against fake-dify in every mode and target type: workflow,
// chat and completion apps, blocking and streaming, the http target, HTTPS
// and proxies, and the example manifests. (Suite dify, with its faults,
// stops and keys, and load in dify_*.test.cpp.)

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"
#include "tests/support/test_proxy.hpp"

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

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
        std::pair{"dify-chat-conversation.json", "DIFY_API_KEY"},
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

BOOST_AUTO_TEST_SUITE_END()
