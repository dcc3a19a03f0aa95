// How Dify's streams really end (docs/dify-compatibility.md): stops that end
// with message_end or "failed", chatflows that report their run before
// message_end or error, the final event rather than the closed connection,
// per-event caps, provider errors worth a retry, and chat request details.

#include "actors/http/dify_protocol.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"

#include <initializer_list>

using namespace troupe;

namespace {

http_outcome ok() {
  http_outcome o;
  o.status = 200;
  return o;
}

// Feeds `events` (each an event's JSON) to a fresh stream of `kind`.
dify_stream play(target_kind kind, std::initializer_list<const char*> events,
                 uint64_t max_bytes = UINT64_MAX) {
  dify_stream s{kind, max_bytes};
  for (auto* e : events)
    s.on_event({"message", e});
  return s;
}

constexpr auto chat = target_kind::dify_chat;
constexpr auto workflow_app = target_kind::dify_workflow;

constexpr const char* started
  = R"({"event":"workflow_started","task_id":"t1","data":{}})";
constexpr const char* hello
  = R"({"event":"message","task_id":"t1","answer":"Hel"})";
constexpr const char* message_end
  = R"({"event":"message_end","metadata":{"usage":{"total_tokens":7}}})";

std::string finished_with(const char* status) {
  return std::string{R"({"event":"workflow_finished","data":{"status":")"}
         + status + R"(","error":"Run aborted","total_tokens":3}})";
}

http_target chat_target() {
  http_target t;
  t.kind = chat;
  t.base_url = "http://dify.test/v1";
  t.user = "u";
  return t;
}

attempt_reply error_400(const char* code, const char* message) {
  http_outcome o;
  o.status = 400;
  o.body = std::string{R"({"code":")"} + code + R"(","message":")" + message
           + R"(","status":400})";
  return classify_response(chat_target(), o, 0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(dify_stream_ends)

BOOST_AUTO_TEST_CASE(a_stopped_easy_chat_ending_with_message_end_is_cancelled) {
  // Dify ends a stopped chat or completion app with message_end.
  for (auto kind : {chat, target_kind::dify_completion}) {
    auto s = play(kind, {hello, message_end});
    BOOST_CHECK(s.finished());
    auto r = s.finish(ok(), true, 0);
    BOOST_CHECK_EQUAL(r.result, outcome::cancelled);
    BOOST_CHECK_EQUAL(r.output_json, "");
    BOOST_CHECK_EQUAL(s.finish(ok(), false, 0).result, outcome::success);
  }
}

BOOST_AUTO_TEST_CASE(a_chatflow_that_reports_a_stopped_run_is_not_a_success) {
  auto stopped = finished_with("stopped");
  // Ours: CANCELLED. Not ours (someone else stopped it): FAILED, final.
  auto s = play(chat, {started, hello, stopped.c_str(), message_end});
  BOOST_CHECK(s.finished());
  BOOST_CHECK_EQUAL(s.finish(ok(), true, 0).result, outcome::cancelled);
  auto r = s.finish(ok(), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(r.error, "workflow stopped: Run aborted");
  BOOST_CHECK_EQUAL(r.error_code, "workflow_stopped");
}

BOOST_AUTO_TEST_CASE(a_failed_chatflow_is_failed_whatever_follows) {
  auto failed = finished_with("failed");
  // Dify follows it with an error event "Run failed: ..." (a 500), which
  // alone would be retried; the run's own status wins.
  auto s = play(chat, {started, failed.c_str(),
                       R"({"event":"error","code":"internal_server_error",)"
                       R"("status":500,"message":"Run failed: x"})"});
  auto r = s.finish(ok(), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(r.error, "workflow failed: Run aborted");
  auto t = play(chat, {started, failed.c_str(), message_end});
  BOOST_CHECK_EQUAL(t.finish(ok(), false, 0).result, outcome::rejected);
}

BOOST_AUTO_TEST_CASE(a_stop_that_ends_the_run_failed_is_cancelled) {
  auto failed = finished_with("failed");
  auto w = play(workflow_app, {started, failed.c_str()});
  BOOST_CHECK_EQUAL(w.finish(ok(), true, 0).result, outcome::cancelled);
  BOOST_CHECK_EQUAL(w.finish(ok(), false, 0).result, outcome::rejected);
  auto c = play(chat, {started, failed.c_str()});
  BOOST_CHECK_EQUAL(c.finish(ok(), true, 0).result, outcome::cancelled);
  // An error event after our stop is a cancel too.
  auto e = play(chat, {hello, R"({"event":"error","code":"x","status":500})"});
  BOOST_CHECK_EQUAL(e.finish(ok(), true, 0).result, outcome::cancelled);
}

BOOST_AUTO_TEST_CASE(a_run_that_succeeded_before_the_stop_keeps_its_output) {
  auto done = std::string{R"({"event":"workflow_finished","data":)"}
              + R"({"status":"succeeded","outputs":{"text":"all"}}})";
  auto w = play(workflow_app, {started, done.c_str()});
  auto r = w.finish(ok(), true, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"({"text":"all"})");
  auto c = play(chat, {started, hello, done.c_str()});
  BOOST_CHECK(!c.finished()); // a chatflow's answer ends at message_end
  c.on_event({"message", message_end});
  r = c.finish(ok(), true, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"("Hel")");
  BOOST_CHECK_EQUAL(r.tokens, 7);
}

BOOST_AUTO_TEST_CASE(
  the_final_event_ends_the_stream_and_later_ones_are_ignored) {
  auto s = play(chat, {hello});
  BOOST_CHECK(!s.finished());
  s.on_event({"message", message_end});
  BOOST_CHECK(s.finished());
  // TTS audio may follow while the connection stays open.
  s.on_event({"message", R"({"event":"tts_message","audio":"AAAA"})"});
  s.on_event({"message", R"({"event":"message","answer":"lo"})"});
  auto r = s.finish(ok(), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"("Hel")");
}

BOOST_AUTO_TEST_CASE(the_cap_applies_to_each_event_not_the_whole_stream) {
  std::string node = R"({"event":"node_finished","data":{"x":")"
                     + std::string(600, 'n') + "\"}}";
  dify_stream s{workflow_app, 1024};
  s.on_event({"message", started});
  for (int i = 0; i < 100; ++i) // 60 KB in all, each under 1 KiB
    s.on_event({"message", node});
  BOOST_CHECK(!s.finished());
  s.on_event({"message", R"({"event":"workflow_finished","data":)"
                         R"({"status":"succeeded","outputs":{}}})"});
  BOOST_CHECK_EQUAL(s.finish(ok(), false, 0).result, outcome::success);
  // One event over the cap: ERROR, and never retried.
  dify_stream big{workflow_app, 1024};
  big.on_event({"message", std::string(2000, ' ') + started});
  BOOST_CHECK(big.finished());
  BOOST_CHECK(big.too_large());
  auto r = big.finish(ok(), false, 0);
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  BOOST_CHECK_EQUAL(status_of(r.result), task_status::error);
  BOOST_CHECK_EQUAL(r.error_code, "response_too_large");
  // An event still arriving past the cap.
  dify_stream arriving{workflow_app, 1024};
  arriving.on_pending(1025);
  BOOST_CHECK(arriving.too_large());
  // The answer kept past the cap.
  dify_stream answer{chat, 1024};
  std::string part
    = R"({"event":"message","answer":")" + std::string(300, 'a') + "\"}";
  for (int i = 0; i < 3; ++i)
    answer.on_event({"message", part});
  BOOST_CHECK(!answer.finished());
  answer.on_event({"message", part});
  BOOST_CHECK(answer.too_large());
}

BOOST_AUTO_TEST_CASE(message_files_are_kept_in_the_result) {
  auto s = play(chat, {hello,
                       R"({"event":"message_file","id":"f1","type":"image",)"
                       R"("belongs_to":"assistant","url":"https://x/f1.png",)"
                       R"("conversation_id":"c"})",
                       message_end});
  auto r = s.finish(ok(), false, 0);
  BOOST_CHECK_EQUAL(r.dify.files_json,
                    R"([{"id":"f1","type":"image","belongs_to":"assistant",)"
                    R"("url":"https://x/f1.png"}])");
}

BOOST_AUTO_TEST_CASE(provider_trouble_in_a_400_is_retried_bad_requests_not) {
  // Dify's InvokeError descriptions, as its model runtime words them.
  BOOST_CHECK_EQUAL(
    error_400("completion_request_error",
              "[openai] Rate Limit Error, Error code: 429 - slow down")
      .result,
    outcome::throttled);
  BOOST_CHECK_EQUAL(
    error_400("completion_request_error",
              "[anthropic] Server Unavailable Error, Overloaded")
      .result,
    outcome::failure);
  BOOST_CHECK_EQUAL(error_400("completion_request_error",
                              "[ollama] Connection Error, Request timed out.")
                      .result,
                    outcome::failure);
  BOOST_CHECK_EQUAL(
    error_400("completion_request_error",
              "[openai] Bad Request Error, context_length_exceeded")
      .result,
    outcome::rejected);
  BOOST_CHECK_EQUAL(
    error_400("completion_request_error",
              "[openai] Rate Limit Error, You exceeded your current quota")
      .result,
    outcome::rejected);
  // The same words under another code stay final.
  BOOST_CHECK_EQUAL(error_400("invalid_param", "Rate Limit Error").result,
                    outcome::rejected);
  // And in a stream's error event.
  auto s = play(chat, {R"({"event":"error","code":"completion_request_error",)"
                       R"("status":400,"message":"[x] Connection Error, )"
                       R"(reset"})"});
  BOOST_CHECK_EQUAL(s.finish(ok(), false, 0).result, outcome::failure);
}

BOOST_AUTO_TEST_CASE(new_chat_conversations_are_not_named_by_an_llm_call) {
  task_spec task;
  task.query = "hi";
  auto t = chat_target();
  auto body = std::get<http_call>(build_call(t, task)).body;
  BOOST_CHECK_EQUAL(body, R"({"inputs":{},"query":"hi",)"
                          R"("auto_generate_name":false,)"
                          R"("response_mode":"blocking","user":"u"})");
  task.conversation_id = "c9"; // an existing one keeps its name
  body = std::get<http_call>(build_call(t, task)).body;
  BOOST_CHECK(body.find("auto_generate_name") == std::string::npos);
  task.conversation_id.clear();
  t.auto_generate_name = true;
  body = std::get<http_call>(build_call(t, task)).body;
  BOOST_CHECK(body.find("auto_generate_name") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
