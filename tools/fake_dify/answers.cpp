// A fake app's answers: it echoes its input, in Dify's shapes.

#include "tools/fake_dify/answers.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace troupe::fake_dify {

namespace json = boost::json;

namespace {

// The echo a fake app answers with; a conversation's later turns also
// name the queries before them, so that a test sees the app remember.
std::string echo_text(const json::object& inputs, const std::string& query,
                      const std::vector<std::string>& history) {
  if (!query.empty() && !history.empty()) {
    auto text = "echo: " + query + " (turn "
                + std::to_string(history.size() + 1) + "; before:";
    for (size_t i = 0; i < history.size(); ++i)
      text += (i == 0 ? " " : " | ") + history[i];
    return text + ")";
  }
  if (!query.empty())
    return "echo: " + query;
  if (auto* t = inputs.if_contains("text"); t != nullptr && t->is_string())
    return "echo: " + std::string{t->get_string()};
  json::object clean;
  for (auto& kv : inputs)
    if (!kv.key().starts_with("_"))
      clean[kv.key()] = kv.value();
  return "echo: " + json::serialize(clean);
}

// `text` in `k` pieces as even as they go, cut only between UTF-8
// characters (so each piece is valid JSON text); short texts leave some
// pieces empty.
std::vector<std::string> split_text(const std::string& text, int64_t k) {
  std::vector<std::string> out;
  size_t from = 0;
  for (int64_t i = 1; i <= k; ++i) {
    auto to = text.size() * static_cast<size_t>(i) / static_cast<size_t>(k);
    while (to < text.size()
           && (static_cast<unsigned char>(text[to]) & 0xC0) == 0x80)
      ++to;
    to = std::max(to, from);
    out.push_back(text.substr(from, to - from));
    from = to;
  }
  return out;
}

// The content events a stream of `stream_events` in all has room for,
// beside `framing` others; 0 for the app's usual stream.
int64_t content_events(const call_facts& c, int64_t framing) {
  return c.stream_events > framing ? c.stream_events - framing : 0;
}

// A workflow run: its record, and the blocking body or the stream.
plan workflow_plan(plan p, const call_facts& c, plan_source& source,
                   const std::string& run_id, run_end end,
                   const std::string& text, int64_t now, run_shape shape) {
  auto tokens = static_cast<int64_t>(10 + text.size() / 4);
  bool failed = end == run_end::failed;
  bool stopped = end == run_end::stopped;
  json::object data;
  data["id"] = run_id;
  data["workflow_id"] = "wf-fake";
  data["status"] = failed ? "failed" : stopped ? "stopped" : "succeeded";
  json::object outputs;
  outputs["text"] = text;
  data["outputs"] = failed ? json::value(nullptr) : json::value(outputs);
  data["error"] = failed    ? json::value("Node LLM run failed: model timed "
                                             "out (fake)")
                  : stopped ? json::value("Stopped by user.")
                            : json::value(nullptr);
  data["elapsed_time"] = 0.25;
  data["total_tokens"] = tokens;
  data["total_steps"] = 3;
  data["created_at"] = now;
  data["finished_at"] = now;
  p.run_id = run_id;
  p.run_json = json::serialize(data);
  if (!c.streaming) {
    json::object o;
    o["task_id"] = p.task_id;
    o["workflow_run_id"] = run_id;
    o["data"] = data;
    p.body = json::serialize(o);
    return p;
  }
  p.kind = plan::stream;
  auto ev = [&](const char* name, json::object d) {
    json::object o;
    o["event"] = name;
    o["workflow_run_id"] = run_id;
    o["task_id"] = p.task_id;
    o["data"] = std::move(d);
    return frame(o);
  };
  p.events.push_back("event: ping\n\n");
  p.events.push_back(
    ev("workflow_started", json::object{{"id", run_id},
                                        {"workflow_id", "wf-fake"},
                                        {"created_at", now}}));
  p.events.push_back(
    ev("node_started", json::object{{"id", format_id("node", source.next_id())},
                                    {"node_id", "llm"},
                                    {"node_type", "llm"},
                                    {"title", "LLM"},
                                    {"index", 1}}));
  if (shape == run_shape::long_nodes) {
    // A long workflow: 48 nodes of 40 KiB outputs each, about 2 MB.
    for (int i = 0; i < 48; ++i)
      p.events.push_back(
        ev("node_finished",
           json::object{
             {"node_id", "step" + std::to_string(i)},
             {"status", "succeeded"},
             {"outputs", json::object{{"text", std::string(40 * 1024, 'n')}}},
             {"elapsed_time", 0.01}}));
  }
  // --stream-events: ping, workflow_started, node_started, the chunks,
  // node_finished and workflow_finished.
  if (auto k = content_events(c, 5); k > 0 && shape == run_shape::basic) {
    for (auto& piece : split_text(text, k))
      p.events.push_back(ev("text_chunk", json::object{{"text", piece}}));
  } else {
    auto half = text.size() / 2;
    p.events.push_back(
      ev("text_chunk", json::object{{"text", text.substr(0, half)}}));
    p.events.push_back("event: ping\n\n");
    p.events.push_back(
      ev("text_chunk", json::object{{"text", text.substr(half)}}));
  }
  p.events.push_back(ev("node_finished", json::object{{"node_id", "llm"},
                                                      {"status", "succeeded"},
                                                      {"elapsed_time", 0.2}}));
  p.events.push_back(ev("workflow_finished", data));
  p.final_event = stopped_run_frame(
    c, json::object{{"workflow_run_id", run_id}, {"task_id", p.task_id}}, data);
  return p;
}

// Chat and completion apps answer with `answer`.
plan message_plan(plan p, const call_facts& c, plan_source& source,
                  const std::string& text, int64_t now) {
  auto tokens = static_cast<int64_t>(10 + text.size() / 4);
  auto message_id = format_id("msg", source.next_id());
  auto conversation
    = c.app == app_kind::chat
        ? (c.conversation_id.empty() ? format_id("conv", source.next_id())
                                     : c.conversation_id)
        : std::string{};
  json::object usage{{"prompt_tokens", 5},
                     {"completion_tokens", tokens - 5},
                     {"total_tokens", tokens}};
  p.conversation_id = conversation;
  auto base = [&](const char* event) {
    json::object o;
    o["event"] = event;
    o["task_id"] = p.task_id;
    o["id"] = message_id;
    o["message_id"] = message_id;
    if (c.app == app_kind::chat)
      o["conversation_id"] = conversation;
    o["created_at"] = now;
    return o;
  };
  if (!c.streaming) {
    auto o = base("message");
    o["mode"] = c.app == app_kind::chat ? "chat" : "completion";
    o["answer"] = text;
    o["metadata"] = json::object{{"usage", usage}};
    p.body = json::serialize(o);
    return p;
  }
  p.kind = plan::stream;
  p.events.push_back("event: ping\n\n");
  // --stream-events: ping, the messages, message_end.
  auto k = content_events(c, 2);
  auto third = text.size() / 3;
  auto pieces = k > 0 ? split_text(text, k)
                      : std::vector<std::string>{text.substr(0, third),
                                                 text.substr(third, third),
                                                 text.substr(2 * third)};
  for (auto& piece : pieces) {
    auto o = base("message");
    o["answer"] = piece;
    p.events.push_back(frame(o));
  }
  auto end = base("message_end");
  end["metadata"] = json::object{{"usage", usage}};
  p.events.push_back(frame(end));
  p.final_event = frame(end);
  return p;
}

} // namespace

plan success_plan(const call_facts& c, plan_source& source, run_end end,
                  bool echo_key, run_shape shape) {
  plan p;
  p.app = c.app;
  auto now = source.now();
  // A leaky app that repeats the caller's key, as some error pages do.
  auto text = echo_key ? "you sent " + c.authorization
                       : echo_text(c.inputs, c.query, c.history);
  p.task_id = format_id("task", source.next_id());
  // Messages take a run id too and leave it unused, so that the ids a seed
  // gives stay what they always were.
  auto run_id = format_id("run", source.next_id());
  if (c.app == app_kind::workflow)
    return workflow_plan(std::move(p), c, source, run_id, end, text, now,
                         shape);
  if (c.app == app_kind::chat && shape == run_shape::chatflow)
    return chatflow_plan(std::move(p), c, source, run_id, end, text, now);
  return message_plan(std::move(p), c, source, text, now);
}

std::string error_body(int status, std::string_view code,
                       std::string_view message) {
  json::object o;
  o["code"] = code;
  o["message"] = message;
  o["status"] = status;
  return json::serialize(o);
}

std::string stopped_run_frame(const call_facts& c, const json::object& envelope,
                              json::object data) {
  data["status"] = c.stop_fails ? "failed" : "stopped";
  data["outputs"] = json::object{};
  data["error"]
    = c.stop_fails ? "[fake] graph engine aborted by stop" : "Stopped by user.";
  auto o = envelope;
  o["event"] = "workflow_finished";
  o["data"] = std::move(data);
  return frame(o);
}

std::string frame(const json::object& o) {
  return "data: " + json::serialize(o) + "\n\n";
}

std::string parameters_json() {
  return R"({"opening_statement":"","suggested_questions":[],)"
         R"("suggested_questions_after_answer":{"enabled":false},)"
         R"("speech_to_text":{"enabled":false},"text_to_speech":{"enabled":false},)"
         R"("retriever_resource":{"enabled":false},"annotation_reply":{"enabled":false},)"
         R"("more_like_this":{"enabled":false},"user_input_form":[)"
         R"({"text-input":{"label":"Text","variable":"text","required":true,"default":""}}],)"
         R"("sensitive_word_avoidance":{"enabled":false},"file_upload":{},)"
         R"("system_parameters":{"file_size_limit":15,"image_file_size_limit":10,)"
         R"("audio_file_size_limit":50,"video_file_size_limit":100}})";
}

} // namespace troupe::fake_dify
