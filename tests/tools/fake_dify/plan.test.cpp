// fake-dify's plan on its own: routes, keys, Dify's answers and 400s, and
// the bytes a stream puts on the wire, with scripted ids and clock. Its
// faults are in plan_faults.test.cpp; the dify suite tests the server over
// HTTP.

#include "tools/fake_dify/plan.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/tools/fake_dify/plan_fixture.hpp"

#include <tuple>

using namespace troupe::fake_dify;
using namespace troupe::fake_dify::test;
namespace http = boost::beast::http;

BOOST_FIXTURE_TEST_SUITE(fake_dify_plan, plan_fixture)

BOOST_AUTO_TEST_CASE(ids_carry_the_number_twice_in_hex) {
  BOOST_CHECK_EQUAL(format_id("task", 42),
                    "task-0000002a-0000-4000-8000-00000000002a");
  BOOST_CHECK_EQUAL(format_id("run", 0x100000001),
                    "run-00000001-0000-4000-8000-000100000001");
}

BOOST_AUTO_TEST_CASE(a_blocking_workflow_answers_its_run_and_records_it) {
  auto p
    = run(app_kind::workflow, R"({"inputs": {"text": "hello"}, "user": "u"})");
  BOOST_CHECK_EQUAL(p.kind, plan::respond);
  BOOST_CHECK_EQUAL(p.status, 200);
  BOOST_CHECK_EQUAL(p.body, hello_body);
  BOOST_CHECK(p.headers.empty());
  BOOST_CHECK_EQUAL(p.task_id, id1);
  BOOST_CHECK_EQUAL(p.run_id, id2);
  BOOST_CHECK_EQUAL(p.run_json, run_json);
  BOOST_CHECK_EQUAL(p.latency_ms, 0);
}

BOOST_AUTO_TEST_CASE(a_streaming_workflow_plans_eight_frames_and_a_stop) {
  auto p = with_fault("", true);
  BOOST_REQUIRE_EQUAL(p.kind, plan::stream);
  BOOST_REQUIRE_EQUAL(p.events.size(), 8u);
  BOOST_CHECK_EQUAL(p.events[0], "event: ping\n\n");
  BOOST_CHECK_EQUAL(p.events[1],
                    R"(data: {"event":"workflow_started","workflow_run_id":")"
                      + id2 + R"(","task_id":")" + id1 + R"(","data":{"id":")"
                      + id2
                      + R"(","workflow_id":"wf-fake","created_at":1700000000}})"
                        "\n\n");
  // The node takes the third id.
  BOOST_CHECK_NE(p.events[2].find("node-00000003-"), std::string::npos);
  BOOST_CHECK_NE(p.events[3].find(R"("data":{"text":"echo:"})"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(p.events[4], "event: ping\n\n");
  BOOST_CHECK_NE(p.events[5].find(R"("data":{"text":" hello"})"),
                 std::string::npos);
  BOOST_CHECK_NE(p.events[7].find(R"("event":"workflow_finished")"),
                 std::string::npos);
  BOOST_CHECK_NE(p.events[7].find(R"("status":"succeeded")"),
                 std::string::npos);
  BOOST_CHECK_NE(p.final_event.find(R"("status":"stopped","outputs":{},)"
                                    R"("error":"Stopped by user.")"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_chat_answer_takes_a_run_id_it_does_not_use) {
  auto p = run(app_kind::chat, R"({"query": "hi", "user": "u"})");
  BOOST_CHECK_EQUAL(
    p.body, R"({"event":"message","task_id":")" + id1
              + R"(","id":"msg-00000003-0000-4000-8000-000000000003",)"
                R"("message_id":"msg-00000003-0000-4000-8000-000000000003",)"
                R"("conversation_id":"conv-00000004-0000-4000-8000-)"
                R"(000000000004","created_at":1700000000,"mode":"chat",)"
                R"("answer":"echo: hi","metadata":{"usage":{"prompt_tokens":5,)"
                R"("completion_tokens":7,"total_tokens":12}}})");
  BOOST_CHECK(p.run_id.empty());
  // A conversation goes on under its own id, and its answers name the
  // queries before them; a completion has none.
  auto again = run(app_kind::chat, R"({"query": "and you?", "user": "u",
    "conversation_id": "conv-00000004-0000-4000-8000-000000000004"})");
  BOOST_CHECK_NE(
    again.body.find(
      R"("conversation_id":"conv-00000004-0000-4000-8000-000000000004")"),
    std::string::npos);
  BOOST_CHECK_NE(
    again.body.find(R"x("answer":"echo: and you? (turn 2; before: hi)")x"),
    std::string::npos);
  auto third = run(app_kind::chat, R"({"query": "bye", "user": "u",
    "conversation_id": "conv-00000004-0000-4000-8000-000000000004"})");
  BOOST_CHECK_NE(third.body.find(
                   R"x("answer":"echo: bye (turn 3; before: hi | and you?)")x"),
                 std::string::npos);
  // Dify knows a conversation only under the user who started it.
  for (auto* body : {R"({"query": "hi", "user": "u", "conversation_id": "x"})",
                     R"({"query": "hi", "user": "someone else",
    "conversation_id": "conv-00000004-0000-4000-8000-000000000004"})"}) {
    auto unknown = run(app_kind::chat, body);
    BOOST_CHECK_EQUAL(unknown.status, 404);
    BOOST_CHECK_EQUAL(unknown.body, R"({"code":"not_found",)"
                                    R"("message":"Conversation Not Exists.",)"
                                    R"("status":404})");
  }
  auto completion
    = run(app_kind::completion, R"({"inputs": {"text": "abc"}, "user": "u"})");
  BOOST_CHECK_EQUAL(completion.body.find("conversation_id"), std::string::npos);
  BOOST_CHECK_NE(completion.body.find(R"("mode":"completion")"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_streaming_message_comes_in_three_pieces_and_an_end) {
  auto p = run(app_kind::completion, R"({"inputs": {"text": "abcdef"},
                                         "user": "u",
                                         "response_mode": "streaming"})");
  BOOST_REQUIRE_EQUAL(p.events.size(), 5u);
  BOOST_CHECK_NE(p.events[1].find(R"("answer":"echo")"), std::string::npos);
  BOOST_CHECK_NE(p.events[2].find(R"("answer":": ab")"), std::string::npos);
  BOOST_CHECK_NE(p.events[3].find(R"("answer":"cdef")"), std::string::npos);
  BOOST_CHECK_NE(p.events[4].find(R"("event":"message_end")"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(p.final_event, p.events[4]);
}

BOOST_AUTO_TEST_CASE(bad_bodies_get_the_400s_dify_sends) {
  auto error = [](const std::string& code, const std::string& message) {
    return R"({"code":")" + code + R"(","message":")" + message
           + R"(","status":400})";
  };
  std::vector<std::tuple<app_kind, std::string, std::string>> cases{
    {app_kind::workflow, "not json",
     error("bad_request",
           "Invalid JSON payload received or JSON payload is empty.")},
    {app_kind::workflow, R"({"inputs": {}})",
     error("invalid_param", "Arg user must be provided.")},
    {app_kind::workflow, R"({"inputs": {}, "user": ""})",
     error("invalid_param", "Arg user must be provided.")},
    {app_kind::workflow, R"({"user": "u"})",
     error("invalid_param", "inputs is required in input form")},
    {app_kind::workflow, R"({"user": "u", "inputs": {}, "response_mode": "x"})",
     error("invalid_param", "response_mode must be blocking or streaming")},
    {app_kind::chat, R"({"user": "u"})",
     error("invalid_param", "query is required")},
  };
  for (auto& [app, body, expected] : cases) {
    auto p = run(app, body);
    BOOST_CHECK_EQUAL(p.status, 400);
    BOOST_CHECK_EQUAL(p.body, expected);
  }
  // No ids, no draws: a refused call touches nothing.
  BOOST_CHECK_EQUAL(source.ids, 0u);
}

BOOST_AUTO_TEST_CASE(requests_route_by_method_and_path) {
  auto to = [](http::verb m, const std::string& path) {
    return route_of(m, path).to;
  };
  auto get = http::verb::get;
  auto post = http::verb::post;
  BOOST_CHECK(to(get, "/_fake/stats") == endpoint::stats);
  BOOST_CHECK(to(get, "/v1/") == endpoint::welcome);
  BOOST_CHECK(to(get, "/v1") == endpoint::welcome);
  BOOST_CHECK(to(post, "/v1/") == endpoint::not_found);
  BOOST_CHECK(to(get, "/v1/parameters") == endpoint::parameters);
  BOOST_CHECK(to(get, "/v1/info") == endpoint::info);
  BOOST_CHECK(to(get, "/v1/workflows/run") == endpoint::not_found);
  BOOST_CHECK(to(get, "/nope") == endpoint::not_found);
  auto lookup = route_of(get, "/v1/workflows/run/run-1");
  BOOST_CHECK(lookup.to == endpoint::run_lookup);
  BOOST_CHECK_EQUAL(lookup.id, "run-1");
  for (auto path :
       {"/v1/workflows/tasks/t-9/stop", "/v1/chat-messages/t-9/stop",
        "/v1/completion-messages/t-9/stop"}) {
    auto stop = route_of(post, path);
    BOOST_CHECK(stop.to == endpoint::stop);
    BOOST_CHECK_EQUAL(stop.id, "t-9");
  }
  BOOST_CHECK(to(post, "/stop") == endpoint::not_found);
  auto workflow = route_of(post, "/v1/workflows/run");
  BOOST_CHECK(workflow.to == endpoint::run
              && workflow.app == app_kind::workflow);
  BOOST_CHECK(route_of(post, "/v1/chat-messages").app == app_kind::chat);
  BOOST_CHECK(route_of(post, "/v1/completion-messages").app
              == app_kind::completion);
}

BOOST_AUTO_TEST_CASE(a_bearer_key_is_needed_and_checked_when_one_is_set) {
  BOOST_CHECK(authorized("Bearer k", "k"));
  BOOST_CHECK(authorized("bearer k", "k"));
  BOOST_CHECK(!authorized("Bearer x", "k"));
  BOOST_CHECK(!authorized("Basic k", "k"));
  BOOST_CHECK(!authorized("Bearer", ""));
  BOOST_CHECK(!authorized("", ""));
  BOOST_CHECK(authorized("Bearer anything", ""));
}

BOOST_AUTO_TEST_CASE(a_stop_call_needs_a_user) {
  auto ok = plan_stop("t-1", R"({"user": "u"})");
  BOOST_CHECK_EQUAL(ok.answer.status, 200);
  BOOST_CHECK_EQUAL(ok.answer.body, R"({"result":"success"})");
  BOOST_CHECK_EQUAL(ok.task_id, "t-1");
  for (auto body : {"{}", "bad", R"({"user": 1})"}) {
    auto refused = plan_stop("t-1", body);
    BOOST_CHECK_EQUAL(refused.answer.status, 400);
    BOOST_CHECK_EQUAL(refused.answer.body,
                      R"({"code":"invalid_param","message":"Arg user must be )"
                      R"(provided.","status":400})");
    BOOST_CHECK(refused.task_id.empty());
  }
}

BOOST_AUTO_TEST_CASE(fixed_answers_need_no_state) {
  BOOST_CHECK_EQUAL(fixed_plan(endpoint::welcome).body,
                    R"({"welcome":"Dify OpenAPI","api_version":"v1",)"
                    R"("server_version":"fake-1.0.0"})");
  BOOST_CHECK_NE(
    fixed_plan(endpoint::parameters).body.find(R"("variable":"text")"),
    std::string::npos);
  BOOST_CHECK_EQUAL(fixed_plan(endpoint::info).body,
                    R"({"name":"fake app","description":"troupe fake-dify",)"
                    R"("tags":[],"mode":"workflow","author_name":"troupe"})");
  auto missing = fixed_plan(endpoint::not_found);
  BOOST_CHECK_EQUAL(missing.status, 404);
  BOOST_CHECK_EQUAL(missing.body,
                    R"({"code":"not_found","message":"The requested URL was )"
                    R"(not found.","status":404})");
  auto unauthorized = unauthorized_plan();
  BOOST_CHECK_EQUAL(unauthorized.status, 401);
  BOOST_CHECK_EQUAL(header(unauthorized, "WWW-Authenticate"),
                    "Bearer realm=\"api\"");
  BOOST_CHECK_NE(too_many_active_plan(3).body.find(
                   "The current maximum concurrent requests allowed is 3."),
                 std::string::npos);
  BOOST_CHECK_EQUAL(run_not_found_plan().body,
                    R"({"code":"not_found","message":"Workflow run not )"
                    R"(found.","status":404})");
}

BOOST_AUTO_TEST_CASE(streams_go_out_in_chunks) {
  BOOST_CHECK_EQUAL(chunk("abc"), "3\r\nabc\r\n");
  BOOST_CHECK_EQUAL(chunk(std::string(300, 'x')),
                    "12c\r\n" + std::string(300, 'x') + "\r\n");
  BOOST_CHECK_EQUAL(last_chunk, "0\r\n\r\n");
  BOOST_CHECK_EQUAL(stream_head(true),
                    "HTTP/1.1 200 OK\r\nServer: troupe-fake-dify\r\n"
                    "Content-Type: text/event-stream; charset=utf-8\r\n"
                    "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
                    "Connection: keep-alive\r\n\r\n");
  BOOST_CHECK_NE(stream_head(false).find("Connection: close\r\n\r\n"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(reset_bytes,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    "Content-Length: 500\r\n\r\n{\"task_id\": \"t\", \"da");
}

BOOST_AUTO_TEST_SUITE_END()
