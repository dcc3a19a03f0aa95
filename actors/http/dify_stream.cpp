// Following a Dify stream event by event, and the reply for how it ended.
//
// How Dify ends its streams (docs/dify-compatibility.md):
//   workflow         ... workflow_finished(status) [tts_message...]
//   easy-UI chat,    ... message* message_end        (a stop ends it so too)
//   completion
//   chatflow         ... workflow_finished(succeeded) message* message_end
//                    ... workflow_finished(stopped) message_end
//                    ... workflow_finished(failed) error("Run failed: ...")
//   any              ... error
// The connection may stay open after the final event (TTS auto-play).

#include "actors/http/dify_protocol.hpp"
#include "actors/http/protocol_parts.hpp"
#include "actors/results/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace json = boost::json;

namespace troupe {

using namespace protocol;

namespace {

// A message_file event as the result keeps it: what names the file.
std::string file_entry(const json::value& v) {
  json::object o;
  for (auto key : {"id", "type", "belongs_to", "url"})
    if (auto* x = member(v, key))
      o[key] = *x;
  return json::serialize(o);
}

} // namespace

bool dify_stream::on_event(const sse_event& e) {
  if (finished_)
    return false; // after the final event: TTS audio, pings
  if (e.data.size() > max_bytes_) {
    too_large_ = finished_ = true;
    return false;
  }
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
  } else if (event == "message_file") {
    if (!files_.empty())
      files_ += ',';
    files_ += file_entry(v);
  } else if (event == "workflow_finished") {
    on_workflow_finished(v);
  } else if (event == "message_end" && kind_ != target_kind::dify_workflow) {
    if (auto* meta = member(v, "metadata"))
      if (auto* usage = member(*meta, "usage"))
        tokens_ = int_at(*usage, "total_tokens");
    finished_ = true;
  }
  check_kept_size();
  return first;
}

void dify_stream::on_workflow_finished(const json::value& v) {
  auto* data = member(v, "data");
  if (data == nullptr)
    return;
  final_data_ = json::serialize(*data);
  run_status_ = string_at(*data, "status");
  if (kind_ == target_kind::dify_workflow) {
    finished_ = true;
    return;
  }
  // A chatflow: message_end follows a run that succeeded (and carries the
  // usage); a failed or stopped run is decided here, whatever follows.
  if (tokens_ < 0)
    tokens_ = int_at(*data, "total_tokens");
  if (!run_succeeded())
    finished_ = true;
}

bool dify_stream::run_succeeded() const noexcept {
  return run_status_ == "succeeded" || run_status_ == "partial-succeeded";
}

void dify_stream::on_pending(size_t bytes) {
  if (!finished_ && bytes > max_bytes_)
    too_large_ = finished_ = true;
}

void dify_stream::check_kept_size() {
  if (answer_.size() + files_.size() > max_bytes_
      || final_data_.size() > max_bytes_)
    too_large_ = finished_ = true;
}

attempt_reply dify_stream::finish(const http_outcome& transport,
                                  bool stop_requested, int64_t now_unix_s) {
  attempt_reply r;
  // A run that finished before our stop reached it keeps its whole output.
  bool completed
    = run_succeeded() && finished_ && !too_large_ && error_event_.empty();
  if (stop_requested && !completed) {
    // Whatever ended the stream: a stopped easy-UI app says message_end, a
    // stopped run may say "stopped" or (graph engine aborted) "failed".
    r.result = outcome::cancelled;
    r.http_status = transport.status;
    r.error = "stopped by troupe (Dify stop call)";
  } else if (too_large_) {
    r.result = outcome::error_final;
    r.http_status = transport.status;
    r.error = "stream event or output larger than the limit "
              "(target.max_response_bytes = "
              + std::to_string(max_bytes_) + ")";
    r.error_code = to_string(error_code::response_too_large);
  } else if (!run_status_.empty() && !run_succeeded()) {
    // A failed or stopped run, even if message_end or error followed.
    r = workflow_result(parse_json(final_data_), transport.status, false);
  } else if (!error_event_.empty()) {
    // Fields at the top level: {"event":"error","code","status","message"}.
    auto v = parse_json(error_event_);
    auto status = static_cast<int>(int_at(v, "status"));
    r = service_error(status > 0 ? status : 500, string_at(v, "code"),
                      string_at(v, "message"),
                      parse_retry_after(transport.retry_after, now_unix_s));
    r.http_status = transport.status;
    r.error = "stream error event: " + r.error;
  } else if (finished_ && kind_ == target_kind::dify_workflow) {
    r = workflow_result(parse_json(final_data_), transport.status, false);
  } else if (finished_) {
    r.result = outcome::success;
    r.http_status = transport.status;
    append_json_string(r.output_json, answer_);
    r.tokens = tokens_;
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
  if (!files_.empty())
    r.dify.files_json = "[" + files_ + "]";
  return r;
}

} // namespace troupe
