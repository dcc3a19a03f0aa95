// Following a Dify stream event by event, and the reply for how it ended.

#include "actors/http/dify_protocol.hpp"
#include "actors/http/protocol_parts.hpp"
#include "actors/results/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace json = boost::json;

namespace troupe {

using namespace protocol;

bool dify_stream::on_event(const sse_event& e) {
  auto v = parse_json(e.data);
  if (!v.is_object())
    return false; // not JSON: ignored, like any unknown event
  auto event = string_at(v, "event");
  if (event == "ping" || event.empty())
    return false;
  bool first = !started_;
  started_ = true;
  if (info_.task_id.empty())
    info_.task_id = string_at(v, "task_id");
  if (info_.workflow_run_id.empty())
    info_.workflow_run_id = string_at(v, "workflow_run_id");
  if (info_.conversation_id.empty())
    info_.conversation_id = string_at(v, "conversation_id");
  if (info_.message_id.empty())
    info_.message_id = string_at(v, "message_id");
  if (event == "error") {
    error_event_ = e.data;
    finished_ = true;
  } else if (event == "message" || event == "agent_message") {
    answer_ += string_at(v, "answer");
  } else if (event == "message_replace") {
    answer_ = string_at(v, "answer");
  } else if (event == "workflow_finished"
             && kind_ == target_kind::dify_workflow) {
    if (auto* data = member(v, "data"))
      final_data_ = json::serialize(*data);
    finished_ = true;
  } else if (event == "message_end" && kind_ != target_kind::dify_workflow) {
    if (auto* meta = member(v, "metadata"))
      if (auto* usage = member(*meta, "usage"))
        tokens_ = int_at(*usage, "total_tokens");
    finished_ = true;
  }
  return first;
}

attempt_reply dify_stream::finish(const http_outcome& transport,
                                  bool stop_requested, int64_t now_unix_s) {
  attempt_reply r;
  if (!error_event_.empty()) {
    // Fields at the top level: {"event":"error","code","status","message"}.
    auto v = parse_json(error_event_);
    auto status = static_cast<int>(int_at(v, "status"));
    r = service_error(status > 0 ? status : 500, string_at(v, "code"),
                      string_at(v, "message"),
                      parse_retry_after(transport.retry_after, now_unix_s));
    r.http_status = transport.status;
    r.error = "stream error event: " + r.error;
  } else if (finished_ && kind_ == target_kind::dify_workflow) {
    r = workflow_result(parse_json(final_data_), transport.status,
                        stop_requested);
  } else if (finished_) {
    r.result = outcome::success;
    r.http_status = transport.status;
    append_json_string(r.output_json, answer_);
    r.tokens = tokens_;
  } else if (stop_requested) {
    r.result = outcome::cancelled;
    r.http_status = transport.status;
    r.error = "stopped by troupe (Dify stop call)";
  } else if (transport.transport_error != 0 || transport.too_large) {
    r = transport_error(transport);
  } else {
    r.result = outcome::error;
    r.http_status = transport.status;
    r.error = kind_ == target_kind::dify_workflow
                ? "stream ended before workflow_finished"
                : "stream ended before message_end";
    r.error_code = to_string(error_code::stream_cut);
  }
  // Identifiers seen on the way count whatever the outcome.
  if (r.dify.task_id.empty())
    r.dify.task_id = info_.task_id;
  if (r.dify.workflow_run_id.empty())
    r.dify.workflow_run_id = info_.workflow_run_id;
  if (r.dify.conversation_id.empty())
    r.dify.conversation_id = info_.conversation_id;
  if (r.dify.message_id.empty())
    r.dify.message_id = info_.message_id;
  return r;
}

} // namespace troupe
