#pragma once

// Dify's Service API (and the generic http target) as pure functions: the
// call an attempt makes, and the classified reply its response gives
// (product.md "Retry", dify-api.md). No I/O here, so every odd corner is
// unit-tested: HTTP 200 with a failed run, 400 "Too many requests", error
// events with their fields at the top level, streams cut short.
//
// dify_request.cpp builds calls (http_template.cpp fills in the http
// target's templates), dify_reply.cpp classifies whole responses and
// dify_stream.cpp follows streams; protocol_parts.hpp holds what they share.

#include "actors/http/sse_parser.hpp"
#include "messages/execution.hpp"
#include "messages/http.hpp"
#include "messages/task.hpp"

#include <boost/json/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace troupe {

enum class target_kind : uint8_t {
  dify_workflow,
  dify_chat,
  dify_completion,
  http,
};

/// A service target, with its secret, as the executor needs it.
struct http_target {
  target_kind kind = target_kind::dify_workflow;
  /// Dify: ".../v1", without a trailing slash.
  std::string base_url;
  /// The API key itself (from the environment); never written anywhere.
  std::string api_key;
  bool streaming = false;
  std::string user = "troupe";
  /// http target: templates with {{inputs.X}}, {{params.X}}, {{case_id}}.
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<std::pair<int, int>> success_status{{200, 299}};
  std::string output_pointer;
  /// Transport settings.
  std::string ca_file;
  /// Blocking: the whole body. Streams: each event, and the output kept.
  uint64_t max_response_bytes = 16 * 1024 * 1024;
  /// dify-chat: let Dify name new conversations (an extra LLM call each).
  bool auto_generate_name = false;
};

/// One part of a multipart/form-data body.
struct form_part {
  std::string name;
  /// A text field's value.
  std::string value;
  /// A file part's path (libcurl reads it as it sends), empty for text.
  std::string file;
  /// A file part's Content-Type.
  std::string content_type;
};

/// One HTTP request, ready for the client.
struct http_call {
  std::string method = "POST";
  std::string url;
  /// "Name: value" lines.
  std::vector<std::string> headers;
  std::string body;
  /// Deliver the body as it arrives (SSE).
  bool stream = false;
  /// A multipart/form-data body (libcurl's MIME API) instead of `body`.
  std::vector<form_part> form;
};

/// The call for one attempt, or (a template that cannot be filled in) the
/// reply that ends it.
std::variant<http_call, attempt_reply> build_call(const http_target& t,
                                                  const task_spec& task);

/// Dify's stop call for a streaming task.
http_call build_stop_call(const http_target& t, const std::string& task_id);

/// Classifies a whole response (blocking mode, or a stream that was
/// refused before it started). `now_unix_s` turns an HTTP-date Retry-After
/// into a delay.
attempt_reply classify_response(const http_target& t, const http_outcome& o,
                                int64_t now_unix_s);

/// A Retry-After header in microseconds, -1 if absent or unreadable.
int64_t parse_retry_after(const std::string& value, int64_t now_unix_s);

/// Follows one Dify stream, event by event. The final event (error,
/// workflow_finished, message_end; a chatflow's failed or stopped
/// workflow_finished) ends it, whether or not the connection closes.
class dify_stream {
public:
  /// `max_bytes` caps each event and the output kept (answer, outputs).
  explicit dify_stream(target_kind kind, uint64_t max_bytes = UINT64_MAX)
    : kind_(kind), max_bytes_(max_bytes) {}

  /// Takes one SSE event; true if it was the first event with content.
  bool on_event(const sse_event& e);

  /// Bytes of an event still arriving: past the cap, the stream is over.
  void on_pending(size_t bytes);

  /// Dify's task id, once an event carried it.
  const std::string& task_id() const noexcept {
    return info_.task_id;
  }

  /// Whether the stream is over: its final event came, or it passed the cap.
  bool finished() const noexcept {
    return finished_;
  }

  /// Whether an event or the kept output passed the cap.
  bool too_large() const noexcept {
    return too_large_;
  }

  /// The reply for the stream as it ended. `stop_requested` (troupe sent
  /// Dify's stop call) makes it CANCELLED, whatever event ended it, unless a
  /// workflow_finished said the run had succeeded.
  attempt_reply finish(const http_outcome& transport, bool stop_requested,
                       int64_t now_unix_s);

private:
  void on_workflow_finished(const boost::json::value& v);
  bool run_succeeded() const noexcept;
  void check_kept_size();

  target_kind kind_;
  uint64_t max_bytes_;
  dify_info info_;
  bool started_ = false;
  bool finished_ = false;
  bool too_large_ = false;
  std::string answer_;
  std::string run_status_;  // workflow_finished's status
  std::string final_data_;  // workflow_finished's data
  std::string error_event_; // the error event, whole
  std::string files_;       // message_file events, "{...},{...}"
  int64_t tokens_ = -1;
};

} // namespace troupe
