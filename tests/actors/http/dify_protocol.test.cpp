// Dify calls and answers without a network: exact request bytes, and the
// classification of every odd corner of dify-api.md.

#include "actors/http/dify_protocol.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"

using namespace troupe;

namespace {

http_target workflow() {
  http_target t;
  t.kind = target_kind::dify_workflow;
  t.base_url = "http://dify.test/v1";
  t.api_key = "app-secret";
  t.user = "tester";
  return t;
}

task_spec task() {
  task_spec t;
  t.id = "d/c1#0";
  t.dataset = "d";
  t.case_id = "c1";
  t.inputs_json = R"({"text":"hi \"you\""})";
  t.params_json = R"({"style":"short"})";
  t.query = "what is up?";
  return t;
}

http_outcome ok(std::string body) {
  http_outcome o;
  o.status = 200;
  o.body = std::move(body);
  return o;
}

http_outcome status(int code, std::string body) {
  http_outcome o;
  o.status = code;
  o.body = std::move(body);
  return o;
}

attempt_reply classify(const http_target& t, const http_outcome& o) {
  return classify_response(t, o, 1'700'000'000);
}

} // namespace

BOOST_AUTO_TEST_SUITE(dify_protocol)

BOOST_AUTO_TEST_CASE(calls_carry_inputs_mode_user_and_the_bearer_key) {
  auto t = workflow();
  auto call = std::get<http_call>(build_call(t, task()));
  BOOST_CHECK_EQUAL(call.url, "http://dify.test/v1/workflows/run");
  BOOST_CHECK_EQUAL(call.method, "POST");
  BOOST_CHECK_EQUAL(call.body,
                    R"({"inputs":{"text":"hi \"you\""},)"
                    R"("response_mode":"blocking","user":"tester"})");
  BOOST_REQUIRE_EQUAL(call.headers.size(), 2u);
  BOOST_CHECK_EQUAL(call.headers[0], "Authorization: Bearer app-secret");
  BOOST_CHECK_EQUAL(call.headers[1], "Content-Type: application/json");
  BOOST_CHECK(!call.stream);
  t.kind = target_kind::dify_chat;
  t.streaming = true;
  auto tk = task();
  tk.conversation_id = "conv-9";
  call = std::get<http_call>(build_call(t, tk));
  BOOST_CHECK_EQUAL(call.url, "http://dify.test/v1/chat-messages");
  BOOST_CHECK_EQUAL(call.body,
                    R"({"inputs":{"text":"hi \"you\""},"query":"what is up?",)"
                    R"("conversation_id":"conv-9","response_mode":"streaming",)"
                    R"("user":"tester"})");
  BOOST_CHECK(call.stream);
  t.kind = target_kind::dify_completion;
  call = std::get<http_call>(build_call(t, task()));
  BOOST_CHECK_EQUAL(call.url, "http://dify.test/v1/completion-messages");
}

BOOST_AUTO_TEST_CASE(stop_calls_name_the_task_and_the_user) {
  auto t = workflow();
  auto stop = build_stop_call(t, "task-7");
  BOOST_CHECK_EQUAL(stop.url,
                    "http://dify.test/v1/workflows/tasks/task-7/stop");
  BOOST_CHECK_EQUAL(stop.body, R"({"user":"tester"})");
  t.kind = target_kind::dify_chat;
  BOOST_CHECK_EQUAL(build_stop_call(t, "t8").url,
                    "http://dify.test/v1/chat-messages/t8/stop");
  t.kind = target_kind::dify_completion;
  BOOST_CHECK_EQUAL(build_stop_call(t, "t9").url,
                    "http://dify.test/v1/completion-messages/t9/stop");
}

BOOST_AUTO_TEST_CASE(http_templates_fill_in_escaped_values) {
  http_target t;
  t.kind = target_kind::http;
  t.method = "PUT";
  t.url = "https://svc.test/items/{{case_id}}?q={{inputs.text}}";
  t.headers = {{"X-Style", "{{params.style}}"}};
  t.body
    = R"({"prompt":"{{inputs.text}} / {{params.style}}","id":"{{task_id}}"})";
  auto call = std::get<http_call>(build_call(t, task()));
  BOOST_CHECK_EQUAL(call.method, "PUT");
  BOOST_CHECK_EQUAL(call.url, "https://svc.test/items/c1?q=hi%20%22you%22");
  BOOST_CHECK_EQUAL(call.body,
                    R"({"prompt":"hi \"you\" / short","id":"d/c1#0"})");
  BOOST_CHECK_EQUAL(call.headers[0], "X-Style: short");
  BOOST_CHECK_EQUAL(call.headers[1], "Content-Type: application/json");
  t.body = R"({"x":"{{inputs.missing}}"})";
  auto r = std::get<attempt_reply>(build_call(t, task()));
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(
    r.error, "target.body: no value for {{inputs.missing}} in this task");
}

BOOST_AUTO_TEST_CASE(
  http_templates_keep_unclosed_braces_and_miss_unknown_names) {
  http_target t;
  t.kind = target_kind::http;
  t.url = "https://svc.test/{{case_id}}/{{inputs.text";
  BOOST_CHECK_EQUAL(std::get<http_call>(build_call(t, task())).url,
                    "https://svc.test/c1/{{inputs.text");
  t.url = "https://svc.test/{{input.text}}";
  auto r = std::get<attempt_reply>(build_call(t, task()));
  BOOST_CHECK_EQUAL(r.error,
                    "target.url: no value for {{input.text}} in this task");
  BOOST_CHECK_EQUAL(r.error_code, "template");
  auto numbers = task();
  numbers.inputs_json = R"({"n":3,"o":{"a":[1]}})";
  t.url = "https://svc.test/{{inputs.n}}/{{inputs.o}}";
  BOOST_CHECK_EQUAL(std::get<http_call>(build_call(t, numbers)).url,
                    "https://svc.test/3/%7B%22a%22%3A%5B1%5D%7D");
}

BOOST_AUTO_TEST_CASE(a_succeeded_workflow_gives_outputs_tokens_and_ids) {
  auto r = classify(workflow(),
                    ok(R"({"task_id":"t1","workflow_run_id":"r1","data":{)"
                       R"("id":"r1","workflow_id":"w","status":"succeeded",)"
                       R"("outputs":{"answer":"42"},"error":null,)"
                       R"("elapsed_time":1.5,"total_tokens":33,)"
                       R"("total_steps":4}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"({"answer":"42"})");
  BOOST_CHECK_EQUAL(r.tokens, 33);
  BOOST_CHECK_EQUAL(r.http_status, 200);
  BOOST_CHECK_EQUAL(r.dify.task_id, "t1");
  BOOST_CHECK_EQUAL(r.dify.workflow_run_id, "r1");
  BOOST_CHECK_EQUAL(r.dify.elapsed_time, 1.5);
  BOOST_CHECK_EQUAL(r.dify.total_steps, 4);
}

BOOST_AUTO_TEST_CASE(http_200_with_a_failed_run_is_failed_and_not_retried) {
  auto r
    = classify(workflow(), ok(R"({"task_id":"t","data":{"status":"failed",)"
                              R"("outputs":null,"error":"LLM node: quota"}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(r.error, "workflow failed: LLM node: quota");
  BOOST_CHECK_EQUAL(r.error_code, "workflow_failed");
  r = classify(workflow(), ok(R"({"data":{"status":"stopped"}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(r.error_code, "workflow_stopped");
  r = classify(workflow(), ok(R"({"data":{"status":"partial-succeeded",)"
                              R"("outputs":{}}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::success);
}

BOOST_AUTO_TEST_CASE(chat_and_completion_answers_are_json_strings) {
  auto t = workflow();
  t.kind = target_kind::dify_chat;
  auto r = classify(t, ok(R"({"event":"message","task_id":"t","id":"m1",)"
                          R"("message_id":"m1","conversation_id":"c1",)"
                          R"("answer":"line\none","metadata":{"usage":)"
                          R"({"total_tokens":9}}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"("line\none")");
  BOOST_CHECK_EQUAL(r.tokens, 9);
  BOOST_CHECK_EQUAL(r.dify.conversation_id, "c1");
  BOOST_CHECK_EQUAL(r.dify.message_id, "m1");
}

BOOST_AUTO_TEST_CASE(statuses_map_to_retry_decisions) {
  auto t = workflow();
  auto code = [&](int s, const char* body) {
    return classify(t, status(s, body)).result;
  };
  BOOST_CHECK_EQUAL(code(429, R"({"code":"too_many_requests","message":"x"})"),
                    outcome::throttled);
  BOOST_CHECK_EQUAL(
    code(400, R"({"code":"invalid_param","message":"Too many requests. )"
              R"(Please try again later.","status":400})"),
    outcome::throttled);
  BOOST_CHECK_EQUAL(code(400, R"({"code":"invalid_param","message":"x"})"),
                    outcome::rejected);
  BOOST_CHECK_EQUAL(code(404, R"({"code":"not_found"})"), outcome::rejected);
  for (int s : {500, 502, 503, 504})
    BOOST_CHECK_EQUAL(code(s, "<html>bad gateway</html>"), outcome::failure);
  BOOST_CHECK_EQUAL(code(501, ""), outcome::rejected);
  BOOST_CHECK_EQUAL(code(401, R"({"code":"unauthorized"})"),
                    outcome::abort_run);
  BOOST_CHECK_EQUAL(code(403, R"({"code":"forbidden"})"), outcome::abort_run);
  BOOST_CHECK_EQUAL(code(400, R"({"code":"provider_quota_exceeded"})"),
                    outcome::abort_run);
  BOOST_CHECK_EQUAL(
    code(429,
         R"({"code":"rate_limit_error","message":"Rate limit exceeded, )"
         R"(please upgrade your plan or your RPD was 5000 requests/day"})"),
    outcome::abort_run);
  auto r = classify(t, status(429, R"({"code":"too_many_requests",)"
                                   R"("message":"slow down","status":429})"));
  BOOST_CHECK_EQUAL(r.error, "HTTP 429 too_many_requests: slow down");
  BOOST_CHECK_EQUAL(r.error_code, "http_429:too_many_requests");
  r = classify(t, status(502, "<html>Bad Gateway</html>"));
  BOOST_CHECK_EQUAL(r.error, "HTTP 502: <html>Bad Gateway</html>");
}

BOOST_AUTO_TEST_CASE(retry_after_takes_seconds_or_an_http_date) {
  BOOST_CHECK_EQUAL(parse_retry_after("3", 0), 3'000'000);
  BOOST_CHECK_EQUAL(parse_retry_after(" 0 ", 0), 0);
  BOOST_CHECK_EQUAL(parse_retry_after("", 0), -1);
  BOOST_CHECK_EQUAL(parse_retry_after("soon", 0), -1);
  // Tue, 14 Nov 2023 22:13:20 GMT is 1,700,000,000.
  BOOST_CHECK_EQUAL(
    parse_retry_after("Tue, 14 Nov 2023 22:13:25 GMT", 1'700'000'000),
    5'000'000);
  BOOST_CHECK_EQUAL(
    parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", 1'700'000'000), 0);
  auto o = status(429, "{}");
  o.retry_after = "2";
  BOOST_CHECK_EQUAL(classify(workflow(), o).retry_after_us, 2'000'000);
}

BOOST_AUTO_TEST_CASE(broken_answers_are_errors) {
  auto r = classify(workflow(), ok(R"({"task_id": "x", "data": {)"));
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error_code, "malformed_response");
  http_outcome reset;
  reset.transport_error = 56;
  reset.transport_message = "Recv failure: Connection reset by peer";
  r = classify(workflow(), reset);
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error, "connection: Recv failure: Connection reset by "
                             "peer");
  http_outcome big = ok("");
  big.too_large = true;
  BOOST_CHECK_EQUAL(classify(workflow(), big).error_code, "response_too_large");
  http_outcome tls;
  tls.transport_error = 60;
  tls.tls_error = true;
  tls.transport_message = "SSL certificate problem: self-signed certificate";
  BOOST_CHECK_EQUAL(classify(workflow(), tls).error_code, "tls");
}

BOOST_AUTO_TEST_CASE(the_http_target_reads_its_output_pointer) {
  http_target t;
  t.kind = target_kind::http;
  t.output_pointer = "/data/answer";
  t.success_status = {{200, 201}};
  auto r = classify(t, status(201, R"({"data":{"answer":[1,2]}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, "[1,2]");
  r = classify(t, status(200, R"({"data":{}})"));
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(r.error_code, "output_pointer");
  t.output_pointer.clear();
  r = classify(t, status(200, "plain text"));
  BOOST_CHECK_EQUAL(r.output_json, R"("plain text")");
  BOOST_CHECK_EQUAL(classify(t, status(202, "{}")).result, outcome::rejected);
}

BOOST_AUTO_TEST_CASE(a_workflow_stream_ends_with_workflow_finished) {
  dify_stream s{target_kind::dify_workflow};
  BOOST_CHECK(!s.on_event({"message", R"({"event":"ping"})"}));
  BOOST_CHECK(s.on_event({"message", R"({"event":"workflow_started",)"
                                     R"("task_id":"t1","workflow_run_id":)"
                                     R"("r1","data":{}})"}));
  BOOST_CHECK_EQUAL(s.task_id(), "t1");
  BOOST_CHECK(!s.on_event({"message", R"({"event":"text_chunk","data":{}})"}));
  BOOST_CHECK(!s.finished());
  s.on_event({"message", R"({"event":"workflow_finished","task_id":"t1",)"
                         R"("data":{"id":"r1","status":"succeeded",)"
                         R"("outputs":{"text":"hi"},"total_tokens":5}})"});
  BOOST_CHECK(s.finished());
  auto r = s.finish(ok(""), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"({"text":"hi"})");
  BOOST_CHECK_EQUAL(r.tokens, 5);
  BOOST_CHECK_EQUAL(r.dify.task_id, "t1");
}

BOOST_AUTO_TEST_CASE(a_stream_without_its_final_event_is_an_error) {
  dify_stream s{target_kind::dify_workflow};
  s.on_event({"message", R"({"event":"workflow_started","task_id":"t1"})"});
  auto r = s.finish(ok(""), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error, "stream ended before workflow_finished");
  BOOST_CHECK_EQUAL(r.dify.task_id, "t1");
}

BOOST_AUTO_TEST_CASE(an_error_event_carries_its_fields_at_the_top_level) {
  dify_stream s{target_kind::dify_workflow};
  s.on_event({"message", R"({"event":"workflow_started","task_id":"t1"})"});
  s.on_event({"message", R"({"event":"error","workflow_run_id":null,)"
                         R"("code":"provider_quota_exceeded","status":400,)"
                         R"("message":"quota gone"})"});
  auto r = s.finish(ok(""), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::abort_run);
  BOOST_CHECK_EQUAL(r.error, "stream error event: HTTP 400 "
                             "provider_quota_exceeded: quota gone");
  dify_stream t{target_kind::dify_chat};
  t.on_event({"message", R"({"event":"error","code":"internal_server_error",)"
                         R"("status":500,"message":"boom"})"});
  BOOST_CHECK_EQUAL(t.finish(ok(""), false, 0).result, outcome::failure);
}

BOOST_AUTO_TEST_CASE(a_chat_stream_joins_message_deltas_in_order) {
  dify_stream s{target_kind::dify_chat};
  s.on_event({"message", R"({"event":"message","task_id":"t","answer":"He",)"
                         R"("conversation_id":"c","message_id":"m"})"});
  s.on_event({"message", R"({"event":"agent_message","answer":"llo"})"});
  s.on_event({"message", R"({"event":"message","answer":", world"})"});
  s.on_event({"message", R"({"event":"message_end","metadata":{"usage":)"
                         R"({"total_tokens":12}}})"});
  auto r = s.finish(ok(""), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"("Hello, world")");
  BOOST_CHECK_EQUAL(r.tokens, 12);
  BOOST_CHECK_EQUAL(r.dify.conversation_id, "c");
}

BOOST_AUTO_TEST_CASE(a_run_we_stopped_is_cancelled_not_failed) {
  dify_stream s{target_kind::dify_workflow};
  s.on_event({"message", R"({"event":"workflow_started","task_id":"t1"})"});
  s.on_event({"message",
              R"({"event":"workflow_finished","data":)"
              R"({"status":"stopped","error":"Stopped by user."}})"});
  BOOST_CHECK_EQUAL(s.finish(ok(""), true, 0).result, outcome::cancelled);
  dify_stream t{target_kind::dify_workflow};
  t.on_event({"message", R"({"event":"workflow_finished","data":)"
                         R"({"status":"stopped"}})"});
  BOOST_CHECK_EQUAL(t.finish(ok(""), false, 0).result, outcome::rejected);
}

BOOST_AUTO_TEST_SUITE_END()
