// fake-dify's stream shapes as Dify really plays them (issue 10): chatflow
// sequences, a stop that ends the run "failed", a stream that stays open
// after its final event, long streams, and the /v1 throttle with its 429
// variant; --stream-events. (Suite fake_dify_plan.)

#include "tools/fake_dify/plan.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/tools/fake_dify/plan_fixture.hpp"

#include <string>

using namespace troupe::fake_dify;
using namespace troupe::fake_dify::test;

namespace {

// The "event" of each data frame, in order ("ping" for a ping).
std::string event_names(const std::vector<std::string>& frames) {
  std::string out;
  for (auto& f : frames) {
    for (size_t at = f.find("\"event\":\""); at != std::string::npos;
         at = f.find("\"event\":\"", at + 1)) {
      auto from = at + 9;
      out
        += (out.empty() ? "" : " ") + f.substr(from, f.find('"', from) - from);
    }
    if (f == "event: ping\n\n")
      out += out.empty() ? "ping" : " ping";
  }
  return out;
}

// The string field `key` of frames [from, to), joined: the answer the
// content events carry in pieces. Frames hold no escaped quotes here.
std::string joined(const std::vector<std::string>& frames, size_t from,
                   size_t to, const std::string& key) {
  std::string out;
  auto field = "\"" + key + "\":\"";
  for (size_t i = from; i < to; ++i) {
    auto at = frames[i].find(field) + field.size();
    out += frames[i].substr(at, frames[i].find('"', at) - at);
  }
  return out;
}

std::string chat_body(const std::string& fault, bool streaming = true) {
  return R"({"inputs": {"_fault": ")" + fault
         + R"("}, "query": "hi", "user": "u", "response_mode": ")"
         + (streaming ? "streaming" : "blocking") + "\"}";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(fake_dify_plan, plan_fixture)

BOOST_AUTO_TEST_CASE(a_chatflow_reports_its_run_before_message_end) {
  auto p = run(app_kind::chat, chat_body("chatflow"));
  BOOST_CHECK(p.kind == plan::stream);
  BOOST_CHECK_EQUAL(event_names(p.events),
                    "ping workflow_started node_started message message "
                    "node_finished workflow_finished message_end");
  BOOST_CHECK_NE(p.events[6].find(R"("status":"succeeded")"),
                 std::string::npos);
  // Stopped: workflow_finished(stopped), then message_end.
  BOOST_CHECK_EQUAL(event_names({p.final_event}),
                    "workflow_finished message_end");
  BOOST_CHECK_NE(p.final_event.find(R"("status":"stopped")"),
                 std::string::npos);
  auto blocking = run(app_kind::chat, chat_body("chatflow", false));
  BOOST_CHECK_NE(blocking.body.find(R"("answer":"echo: hi")"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failed_chatflow_ends_with_workflow_finished_and_error) {
  auto p = run(app_kind::chat, chat_body("chatflow_failed"));
  BOOST_CHECK_EQUAL(event_names(p.events),
                    "ping workflow_started node_started node_finished "
                    "workflow_finished error");
  BOOST_CHECK_NE(p.events.back().find(R"("code":"invalid_param")"),
                 std::string::npos);
  BOOST_CHECK_NE(p.events.back().find("Run failed: Node LLM run failed"),
                 std::string::npos);
  auto blocking = run(app_kind::chat, chat_body("chatflow_failed", false));
  BOOST_CHECK_EQUAL(blocking.status, 400);
}

BOOST_AUTO_TEST_CASE(stop_fails_ends_a_stopped_run_failed) {
  settings.stop_fails = true;
  auto w = with_fault("", true);
  BOOST_CHECK_NE(w.final_event.find(R"("status":"failed")"), std::string::npos);
  auto c = run(app_kind::chat, chat_body("chatflow"));
  BOOST_CHECK_EQUAL(event_names({c.final_event}), "workflow_finished error");
}

BOOST_AUTO_TEST_CASE(linger_keeps_a_stream_open_and_long_sends_big_nodes) {
  BOOST_CHECK(with_fault("linger", true).linger);
  BOOST_CHECK(!with_fault("linger", false).linger); // blocking: no stream
  BOOST_CHECK(!with_fault("", true).linger);
  auto p = with_fault("long", true);
  size_t big = 0;
  size_t total = 0;
  for (auto& e : p.events) {
    total += e.size();
    big += e.size() > 40 * 1024 ? 1 : 0;
  }
  BOOST_CHECK_EQUAL(big, 48u);
  BOOST_CHECK_GT(total, 1'900'000u); // about 2 MB
}

BOOST_AUTO_TEST_CASE(stream_events_pads_a_stream_to_n_events_with_its_text) {
  settings.stream_events = 12;
  auto w = with_fault("", true);
  BOOST_CHECK_EQUAL(event_names(w.events),
                    "ping workflow_started node_started text_chunk text_chunk "
                    "text_chunk text_chunk text_chunk text_chunk text_chunk "
                    "node_finished workflow_finished");
  // The chunks are the answer, split between characters: "echo: hello"
  // in 7, some empty.
  BOOST_CHECK_EQUAL(joined(w.events, 3, 10, "text"), "echo: hello");
  auto c = run(app_kind::chat, R"({"inputs": {}, "query": "héllo wörld",
                                   "user": "u", "response_mode": "streaming"})");
  BOOST_CHECK_EQUAL(event_names(c.events),
                    "ping message message message message message message "
                    "message message message message message_end");
  BOOST_CHECK_EQUAL(joined(c.events, 1, 11, "answer"), "echo: héllo wörld");
  // Blocking answers and other shapes keep theirs.
  BOOST_CHECK(with_fault("", false).events.empty());
  BOOST_CHECK_EQUAL(
    event_names(run(app_kind::chat, chat_body("chatflow")).events),
    "ping workflow_started node_started message message "
    "node_finished workflow_finished message_end");
}

BOOST_AUTO_TEST_CASE(the_active_cap_answers_as_dify_v1_or_with_a_429) {
  auto p = too_many_active_plan(3, settings);
  BOOST_CHECK_EQUAL(p.status, 400);
  BOOST_CHECK_EQUAL(p.body, R"({"code":"invalid_param","message":"Too many )"
                            R"(requests. Please try again later. The current )"
                            R"(maximum concurrent requests allowed is 3.",)"
                            R"("status":400})");
  BOOST_CHECK_EQUAL(header(p, "Retry-After"), "<none>");
  settings.throttle_429 = true;
  p = too_many_active_plan(3, settings);
  BOOST_CHECK_EQUAL(p.status, 429);
  BOOST_CHECK_EQUAL(header(p, "Retry-After"), "1");
  settings.retry_after_s = 4;
  BOOST_CHECK_EQUAL(header(too_many_active_plan(3, settings), "Retry-After"),
                    "4");
}

BOOST_AUTO_TEST_SUITE_END()
