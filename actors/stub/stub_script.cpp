// Stub behaviours and their replies.

#include "actors/stub/stub_script.hpp"

#include "actors/results/json_text.hpp"
#include "actors/worker/backoff.hpp"
#include "messages/error_code.hpp"

#include <stdexcept>

namespace troupe {

namespace {

// Keeps failure-rate draws apart from jitter draws made with the same seed.
constexpr uint64_t failure_salt = 0x5eed'fa11'0000'0001ull;

// A conversation's turn: the answer echoes the query and the conversation
// it came on, and names the conversation it continues (a new one, named
// after the task, when it came on none) as Dify would.
void stub_turn(attempt_reply& r, const task_spec& task) {
  r.output_json += ",\"query\":";
  append_json_string(r.output_json, task.query);
  r.output_json += ",\"conversation_id\":";
  append_json_string(r.output_json, task.conversation_id);
  r.dify.conversation_id = task.conversation_id.empty()
                             ? "stub-conversation-" + task.id
                             : task.conversation_id;
}

} // namespace

stub_behavior stub_script::pick(const std::string& task_id,
                                uint32_t attempt) const {
  stub_behavior b;
  const std::vector<stub_behavior>* list = nullptr;
  auto i = settings_.behaviors.find(task_id);
  if (i != settings_.behaviors.end() && !i->second.empty()) {
    list = &i->second;
  } else if (!settings_.dataset_behaviors.empty()) {
    // The dataset's default: its name is the task id up to the first '/'.
    auto d
      = settings_.dataset_behaviors.find(task_id.substr(0, task_id.find('/')));
    if (d != settings_.dataset_behaviors.end() && !d->second.empty())
      list = &d->second;
  }
  if (list != nullptr) {
    b = (*list)[std::min<size_t>(attempt - 1, list->size() - 1)];
  } else if (settings_.failure_rate > 0
             && unit_draw(settings_.seed ^ failure_salt, task_id, attempt)
                  < settings_.failure_rate) {
    b.action = stub_action::failure;
  }
  if (b.delay_us < 0)
    b.delay_us = settings_.delay_us;
  return b;
}

attempt_reply stub_reply(const stub_behavior& b, const task_spec& task) {
  attempt_reply r;
  switch (b.action) {
    case stub_action::success:
      r.result = outcome::success;
      r.output_json = "{\"task_id\":";
      append_json_string(r.output_json, task.id);
      r.output_json += ",\"echo\":";
      r.output_json += task.inputs_json.empty() ? "{}" : task.inputs_json;
      if (!task.turns.empty())
        stub_turn(r, task);
      r.output_json += '}';
      break;
    case stub_action::failure:
      r.result = outcome::failure;
      r.error = "stub failure";
      r.error_code = to_string(error_code::stub_failure);
      break;
    case stub_action::fatal:
      r.result = outcome::rejected;
      r.error = "stub fatal failure (not retried)";
      r.error_code = to_string(error_code::stub_fatal);
      break;
    case stub_action::timeout:
      r.result = outcome::timeout;
      r.error = "stub timeout";
      r.error_code = to_string(error_code::timeout);
      break;
    case stub_action::error:
      r.result = outcome::error;
      r.error = "stub error";
      r.error_code = to_string(error_code::stub_error);
      break;
    case stub_action::throttle:
      r.result = outcome::throttled;
      r.http_status = 429;
      r.error = "stub 429 Too Many Requests";
      r.error_code = http_error_code(429);
      r.retry_after_us = b.retry_after_us;
      break;
    case stub_action::auth:
      r.result = outcome::abort_run;
      r.http_status = 401;
      r.error = "stub 401 Unauthorized";
      r.error_code = http_error_code(401);
      break;
    case stub_action::crash:
      throw std::runtime_error("stub crash");
  }
  return r;
}

} // namespace troupe
