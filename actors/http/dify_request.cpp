// The call an attempt makes: Dify's run endpoints and stop calls, or the
// generic http target's filled-in templates (http_template.cpp).

#include "actors/http/dify_protocol.hpp"
#include "actors/http/http_template.hpp"
#include "actors/http/protocol_parts.hpp"
#include "actors/results/json_text.hpp"

#include <string_view>

namespace troupe {

namespace {

const char* endpoint(target_kind k) {
  switch (k) {
    case target_kind::dify_workflow:
      return "/workflows/run";
    case target_kind::dify_chat:
      return "/chat-messages";
    case target_kind::dify_completion:
      return "/completion-messages";
    case target_kind::http:
      break;
  }
  return "";
}

} // namespace

std::variant<http_call, attempt_reply> build_call(const http_target& t,
                                                  const task_spec& task) {
  if (t.kind == target_kind::http)
    return protocol::build_http_call(t, task);
  http_call c;
  std::string_view inputs = task.inputs_json.empty()
                              ? std::string_view{"{}"}
                              : std::string_view{task.inputs_json};
  c.url = t.base_url + endpoint(t.kind);
  c.stream = t.streaming;
  protocol::add_auth_header(t, c.headers);
  c.headers.emplace_back("Content-Type: application/json");
  c.body.reserve(inputs.size() + task.query.size() + t.user.size() + 96);
  c.body = "{\"inputs\":";
  c.body += inputs;
  if (t.kind == target_kind::dify_chat) {
    c.body += ",\"query\":";
    append_json_string(c.body, task.query);
    if (!task.conversation_id.empty()) {
      c.body += ",\"conversation_id\":";
      append_json_string(c.body, task.conversation_id);
    } else if (!t.auto_generate_name) {
      // Dify names a new conversation with an extra LLM call unless told
      // not to; the name is of no use to a test run.
      c.body += ",\"auto_generate_name\":false";
    }
  }
  c.body += t.streaming ? ",\"response_mode\":\"streaming\""
                        : ",\"response_mode\":\"blocking\"";
  c.body += ",\"user\":";
  append_json_string(c.body, t.user);
  c.body += '}';
  return c;
}

http_call build_stop_call(const http_target& t, const std::string& task_id) {
  http_call c;
  switch (t.kind) {
    case target_kind::dify_workflow:
      c.url = t.base_url + "/workflows/tasks/" + task_id + "/stop";
      break;
    case target_kind::dify_chat:
      c.url = t.base_url + "/chat-messages/" + task_id + "/stop";
      break;
    default:
      c.url = t.base_url + "/completion-messages/" + task_id + "/stop";
      break;
  }
  protocol::add_auth_header(t, c.headers);
  c.headers.emplace_back("Content-Type: application/json");
  c.body = "{\"user\":";
  append_json_string(c.body, t.user);
  c.body += '}';
  return c;
}

} // namespace troupe
