// A chatflow (advanced-chat app) on /chat-messages, as Dify streams it
// (api/core/app/apps/advanced_chat/generate_task_pipeline.py):
//
//   succeeded  workflow_started node_started message* node_finished
//              workflow_finished(succeeded) message_end
//   failed     workflow_started node_started node_finished(failed)
//              workflow_finished(failed) error(invalid_param "Run failed: ...")
//   stopped    ... workflow_finished(stopped | failed) message_end

#include "tools/fake_dify/answers.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace troupe::fake_dify {

namespace json = boost::json;

plan chatflow_plan(plan p, const call_facts& c, plan_source& source,
                   const std::string& run_id, run_end end,
                   const std::string& text, int64_t now) {
  auto tokens = static_cast<int64_t>(10 + text.size() / 4);
  auto message_id = format_id("msg", source.next_id());
  auto conversation = c.conversation_id.empty()
                        ? format_id("conv", source.next_id())
                        : c.conversation_id;
  bool failed = end == run_end::failed;
  p.conversation_id = conversation;
  json::object usage{{"prompt_tokens", 5},
                     {"completion_tokens", tokens - 5},
                     {"total_tokens", tokens}};
  json::object envelope{{"task_id", p.task_id},
                        {"id", message_id},
                        {"message_id", message_id},
                        {"conversation_id", conversation},
                        {"created_at", now}};
  auto event = [&](const char* name) {
    auto o = envelope;
    o["event"] = name;
    return o;
  };
  auto workflow_event = [&](const char* name, json::object data) {
    auto o = event(name);
    o["workflow_run_id"] = run_id;
    o["data"] = std::move(data);
    return frame(o);
  };
  json::object run{{"id", run_id},
                   {"workflow_id", "wf-fake-chatflow"},
                   {"status", failed ? "failed" : "succeeded"},
                   {"outputs", json::object{{"answer", text}}},
                   {"error", failed ? json::value("Node LLM run failed: model "
                                                  "timed out (fake)")
                                    : json::value(nullptr)},
                   {"elapsed_time", 0.25},
                   {"total_tokens", tokens},
                   {"total_steps", 3},
                   {"created_at", now},
                   {"finished_at", now}};
  auto end_event = event("message_end");
  end_event["metadata"] = json::object{{"usage", usage}};
  if (!c.streaming) {
    if (failed) {
      // Blocking: the error the pipeline raises, as the controller maps it.
      plan e;
      e.status = 400;
      e.body
        = error_body(400, "invalid_param",
                     "Run failed: " + std::string{run["error"].as_string()});
      return e;
    }
    auto o = event("message");
    o["mode"] = "advanced-chat";
    o["answer"] = text;
    o["metadata"] = json::object{{"usage", usage}};
    p.body = json::serialize(o);
    return p;
  }
  p.kind = plan::stream;
  p.events.push_back("event: ping\n\n");
  p.events.push_back(workflow_event(
    "workflow_started",
    json::object{{"id", run_id}, {"workflow_id", "wf-fake-chatflow"}}));
  p.events.push_back(workflow_event(
    "node_started", json::object{{"id", format_id("node", source.next_id())},
                                 {"node_id", "llm"},
                                 {"node_type", "llm"},
                                 {"title", "LLM"},
                                 {"index", 1}}));
  if (!failed) {
    auto half = text.size() / 2;
    for (auto piece : {text.substr(0, half), text.substr(half)}) {
      auto o = event("message");
      o["answer"] = piece;
      p.events.push_back(frame(o));
    }
  }
  p.events.push_back(workflow_event(
    "node_finished", json::object{{"node_id", "llm"},
                                  {"status", failed ? "failed" : "succeeded"},
                                  {"elapsed_time", 0.2}}));
  p.events.push_back(workflow_event("workflow_finished", run));
  auto run_failed = [&](const std::string& why) {
    auto err = event("error");
    err["code"] = "invalid_param";
    err["status"] = 400;
    err["message"] = "Run failed: " + why;
    return frame(err);
  };
  p.events.push_back(failed ? run_failed(std::string{run["error"].as_string()})
                            : frame(end_event));
  auto stop_envelope = envelope;
  stop_envelope["workflow_run_id"] = run_id;
  p.final_event
    = stopped_run_frame(c, stop_envelope, run)
      + (c.stop_fails ? run_failed("[fake] graph engine aborted by stop")
                      : frame(end_event));
  return p;
}

} // namespace troupe::fake_dify
