// Classifying a whole response (blocking mode, or a stream refused before it
// started): success with its output, or the reply the retry rules give.

#include "actors/http/dify_protocol.hpp"
#include "actors/http/protocol_parts.hpp"
#include "actors/results/json_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <ctime>

namespace json = boost::json;

namespace troupe {

namespace {

using namespace protocol;

attempt_reply classify_dify_ok(const http_target& t, const http_outcome& o) {
  auto v = parse_json(o.body);
  if (!v.is_object())
    return malformed(o, "not a JSON object");
  if (t.kind == target_kind::dify_workflow) {
    auto* data = member(v, "data");
    if (data == nullptr || !data->is_object())
      return malformed(o, "no \"data\" object");
    auto r = workflow_result(*data, o.status, false);
    r.dify.task_id = string_at(v, "task_id");
    if (r.dify.workflow_run_id.empty())
      r.dify.workflow_run_id = string_at(v, "workflow_run_id");
    return r;
  }
  auto* answer = member(v, "answer");
  if (answer == nullptr || !answer->is_string())
    return malformed(o, "no \"answer\" string");
  attempt_reply r;
  r.result = outcome::success;
  r.http_status = o.status;
  r.output_json = json::serialize(*answer);
  r.dify.task_id = string_at(v, "task_id");
  r.dify.message_id = string_at(v, "message_id");
  if (r.dify.message_id.empty())
    r.dify.message_id = string_at(v, "id");
  r.dify.conversation_id = string_at(v, "conversation_id");
  if (auto* meta = member(v, "metadata"))
    if (auto* usage = member(*meta, "usage"))
      r.tokens = int_at(*usage, "total_tokens");
  return r;
}

attempt_reply classify_http_ok(const http_target& t, const http_outcome& o) {
  attempt_reply r;
  r.result = outcome::success;
  r.http_status = o.status;
  auto v = parse_json(o.body);
  if (v.is_null() && o.body != "null") {
    if (!t.output_pointer.empty())
      return malformed(o, "not JSON, so output_pointer cannot apply");
    // Plain text: the output is that text, as a JSON string.
    append_json_string(r.output_json, o.body);
    return r;
  }
  if (t.output_pointer.empty()) {
    if (!all_finite(v))
      return malformed(o, out_of_range);
    r.output_json = json::serialize(v);
    return r;
  }
  json::error_code ec;
  auto* x = v.find_pointer(t.output_pointer, ec);
  if (x == nullptr) {
    return rejected("output_pointer " + t.output_pointer
                      + " matches nothing in the response",
                    error_code::output_pointer);
  }
  if (!all_finite(*x))
    return malformed(o, out_of_range);
  r.output_json = json::serialize(*x);
  return r;
}

bool is_success(const http_target& t, int status) {
  if (t.kind != target_kind::http)
    return status == 200;
  for (auto& [lo, hi] : t.success_status)
    if (status >= lo && status <= hi)
      return true;
  return false;
}

} // namespace

int64_t parse_retry_after(const std::string& value, int64_t now_unix_s) {
  auto begin = value.find_first_not_of(" \t");
  if (begin == std::string::npos)
    return -1;
  auto text = value.substr(begin);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.pop_back();
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    if (text.size() > 9)
      return -1;
    return std::stoll(text) * 1'000'000;
  }
  // An HTTP-date: "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  auto* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0')
    return -1;
  auto at = static_cast<int64_t>(::timegm(&tm));
  return at > now_unix_s ? (at - now_unix_s) * 1'000'000 : 0;
}

attempt_reply classify_response(const http_target& t, const http_outcome& o,
                                int64_t now_unix_s) {
  if (o.transport_error != 0 || o.too_large)
    return transport_error(o);
  if (!is_success(t, o.status))
    return error_from_body(o, now_unix_s);
  if (t.kind == target_kind::http)
    return classify_http_ok(t, o);
  return classify_dify_ok(t, o);
}

} // namespace troupe
