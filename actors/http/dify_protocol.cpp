// Dify calls and the classification of their answers.

#include "actors/http/dify_protocol.hpp"

#include "actors/results/result_line.hpp"
#include "messages/error_code.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>

namespace json = boost::json;

namespace troupe {

namespace {

// -- building calls
// ------------------------------------------------------------

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

void auth_headers(const http_target& t, std::vector<std::string>& out) {
  if (!t.api_key.empty())
    out.push_back("Authorization: Bearer " + t.api_key);
}

// The text a placeholder stands for: strings as they are, other values as
// compact JSON.
bool lookup(const std::string& name, const task_spec& task,
            const json::object* inputs, const json::object* params,
            std::string& out) {
  if (name == "case_id") {
    out = task.case_id;
    return true;
  }
  if (name == "task_id") {
    out = task.id;
    return true;
  }
  const json::object* obj = nullptr;
  std::string key;
  if (name.compare(0, 7, "inputs.") == 0) {
    obj = inputs;
    key = name.substr(7);
  } else if (name.compare(0, 7, "params.") == 0) {
    obj = params;
    key = name.substr(7);
  }
  if (obj == nullptr)
    return false;
  auto i = obj->find(key);
  if (i == obj->end())
    return false;
  if (i->value().is_string())
    out = i->value().get_string();
  else
    out = json::serialize(i->value());
  return true;
}

enum class escaping { json, url, header };

void append_escaped(std::string& out, const std::string& text, escaping how) {
  switch (how) {
    case escaping::json: {
      std::string quoted;
      append_json_string(quoted, text);
      out.append(quoted, 1, quoted.size() - 2);
      break;
    }
    case escaping::url: {
      static constexpr char hex[] = "0123456789ABCDEF";
      for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += hex[c >> 4];
          out += hex[c & 15];
        }
      }
      break;
    }
    case escaping::header:
      for (char c : text)
        out += (c == '\r' || c == '\n') ? ' ' : c;
      break;
  }
}

// Fills in {{...}}; false (with `missing` set) when a value is missing.
bool render(const std::string& templ, const task_spec& task,
            const json::object* inputs, const json::object* params,
            escaping how, std::string& out, std::string& missing) {
  out.clear();
  size_t pos = 0;
  for (;;) {
    auto open = templ.find("{{", pos);
    if (open == std::string::npos) {
      out.append(templ, pos, std::string::npos);
      return true;
    }
    auto close = templ.find("}}", open);
    if (close == std::string::npos) {
      out.append(templ, pos, std::string::npos);
      return true;
    }
    out.append(templ, pos, open - pos);
    auto name = templ.substr(open + 2, close - open - 2);
    std::string value;
    if (!lookup(name, task, inputs, params, value)) {
      missing = name;
      return false;
    }
    append_escaped(out, value, how);
    pos = close + 2;
  }
}

attempt_reply rejected(std::string error, error_code code) {
  attempt_reply r;
  r.result = outcome::rejected;
  r.error = std::move(error);
  r.error_code = to_string(code);
  return r;
}

// -- reading answers
// -------------------------------------------------------------

// Parses JSON without throwing; null on failure.
json::value parse_json(std::string_view text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  if (ec)
    return nullptr;
  return v;
}

std::string string_at(const json::value& v, std::string_view key) {
  if (!v.is_object())
    return {};
  auto* x = v.get_object().if_contains(key);
  if (x == nullptr || !x->is_string())
    return {};
  return std::string{x->get_string()};
}

// An integer, or -1: a fraction is cut off, and a number that does not fit
// is as absent (to_number<int64_t> would throw on either).
int64_t int_at(const json::value& v, std::string_view key) {
  if (!v.is_object())
    return -1;
  auto* x = v.get_object().if_contains(key);
  if (x == nullptr || !x->is_number())
    return -1;
  if (x->is_int64())
    return x->get_int64();
  if (x->is_uint64())
    return x->get_uint64() <= INT64_MAX ? static_cast<int64_t>(x->get_uint64())
                                        : -1;
  auto d = x->get_double();
  return d > -9.2e18 && d < 9.2e18 ? static_cast<int64_t>(d) : -1;
}

double double_at(const json::value& v, std::string_view key) {
  if (!v.is_object())
    return -1;
  auto* x = v.get_object().if_contains(key);
  if (x == nullptr || !x->is_number())
    return -1;
  auto d = x->to_number<double>();
  return std::isfinite(d) ? d : -1;
}

const json::value* member(const json::value& v, std::string_view key) {
  return v.is_object() ? v.get_object().if_contains(key) : nullptr;
}

// A short, printable excerpt of a body that is not the JSON we expected.
std::string excerpt(const std::string& body) {
  std::string out;
  for (char c : body.substr(0, 160))
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  if (body.size() > 160)
    out += "...";
  return out;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

// An error from the service: an HTTP status (or a stream's error event) with
// Dify's {code, message}.
attempt_reply service_error(int status, const std::string& code,
                            const std::string& message,
                            int64_t retry_after_us) {
  attempt_reply r;
  r.http_status = status;
  r.error = "HTTP " + std::to_string(status);
  if (!code.empty())
    r.error += " " + code;
  if (!message.empty())
    r.error += ": " + message;
  r.error_code = http_error_code(status, code);
  r.retry_after_us = retry_after_us;
  bool daily_cap = code == "rate_limit_error"
                   && (message.find("RPD") != std::string::npos
                       || message.find("upgrade your plan") != std::string::npos
                       || message.find("daily") != std::string::npos);
  if (status == 401 || status == 403 || code == "provider_quota_exceeded"
      || daily_cap)
    r.result = outcome::abort_run;
  else if (status == 429
           || (status == 400 && starts_with(message, "Too many requests")))
    r.result = outcome::throttled;
  else if (status == 500 || status == 502 || status == 503 || status == 504)
    r.result = outcome::failure;
  else
    r.result = outcome::rejected;
  return r;
}

attempt_reply error_from_body(const http_outcome& o, int64_t now_unix_s) {
  auto v = parse_json(o.body);
  auto code = string_at(v, "code");
  auto message = string_at(v, "message");
  if (code.empty() && message.empty() && !o.body.empty())
    message = excerpt(o.body);
  return service_error(o.status, code, message,
                       parse_retry_after(o.retry_after, now_unix_s));
}

attempt_reply transport_error(const http_outcome& o) {
  attempt_reply r;
  r.result = outcome::error;
  r.http_status = o.status;
  if (o.too_large) {
    r.error = "response larger than the limit (target.max_response_bytes)";
    r.error_code = to_string(error_code::response_too_large);
  } else if (o.tls_error) {
    r.error = "TLS: " + o.transport_message;
    r.error_code = to_string(error_code::tls);
  } else {
    r.error = "connection: " + o.transport_message;
    r.error_code = to_string(error_code::connection);
  }
  return r;
}

attempt_reply malformed(int status, const std::string& what,
                        const std::string& body) {
  attempt_reply r;
  r.result = outcome::error;
  r.http_status = status;
  r.error = "malformed response (" + what + "): " + excerpt(body);
  r.error_code = to_string(error_code::malformed_response);
  return r;
}

attempt_reply malformed(const http_outcome& o, const std::string& what) {
  return malformed(o.status, what, o.body);
}

const char* out_of_range = "a number out of range";

// A finished workflow run: blocking `data`, or workflow_finished's data.
attempt_reply workflow_result(const json::value& data, int status,
                              bool stop_requested) {
  attempt_reply r;
  r.http_status = status;
  r.dify.workflow_run_id = string_at(data, "id");
  r.dify.elapsed_time = double_at(data, "elapsed_time");
  r.dify.total_steps = int_at(data, "total_steps");
  r.tokens = int_at(data, "total_tokens");
  auto run_status = string_at(data, "status");
  auto error = string_at(data, "error");
  if (run_status == "succeeded" || run_status == "partial-succeeded") {
    r.result = outcome::success;
    if (auto* out = member(data, "outputs");
        out != nullptr && !out->is_null()) {
      if (!all_finite(*out)) {
        auto text = json::serialize(*out);
        auto bad = malformed(status, out_of_range, text);
        bad.dify = r.dify;
        bad.tokens = r.tokens;
        return bad;
      }
      r.output_json = json::serialize(*out);
    }
    return r;
  }
  if (run_status == "stopped" && stop_requested) {
    r.result = outcome::cancelled;
    r.error = "stopped by troupe (Dify stop call)";
    return r;
  }
  r.result = outcome::rejected;
  r.error = "workflow " + (run_status.empty() ? "ended" : run_status);
  if (!error.empty())
    r.error += ": " + error;
  r.error_code = workflow_error_code(run_status);
  return r;
}

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

std::variant<http_call, attempt_reply> build_call(const http_target& t,
                                                  const task_spec& task) {
  http_call c;
  std::string_view inputs = task.inputs_json.empty()
                              ? std::string_view{"{}"}
                              : std::string_view{task.inputs_json};
  if (t.kind != target_kind::http) {
    c.url = t.base_url + endpoint(t.kind);
    c.stream = t.streaming;
    auth_headers(t, c.headers);
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
      }
    }
    c.body += t.streaming ? ",\"response_mode\":\"streaming\""
                          : ",\"response_mode\":\"blocking\"";
    c.body += ",\"user\":";
    append_json_string(c.body, t.user);
    c.body += '}';
    return c;
  }
  // The generic http target: fill in the templates.
  auto in = parse_json(inputs);
  auto params = parse_json(task.params_json.empty() ? "{}" : task.params_json);
  const json::object* in_obj = in.is_object() ? &in.get_object() : nullptr;
  const json::object* par_obj
    = params.is_object() ? &params.get_object() : nullptr;
  std::string missing;
  auto fail = [&](const char* where) {
    return rejected(std::string{"target."} + where + ": no value for {{"
                      + missing + "}} in this task",
                    error_code::template_value);
  };
  c.method = t.method;
  if (!render(t.url, task, in_obj, par_obj, escaping::url, c.url, missing))
    return fail("url");
  auth_headers(t, c.headers);
  bool has_content_type = false;
  for (auto& [name, value] : t.headers) {
    std::string rendered;
    if (!render(value, task, in_obj, par_obj, escaping::header, rendered,
                missing))
      return fail("headers");
    c.headers.push_back(name + ": " + rendered);
    std::string lower = name;
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    has_content_type = has_content_type || lower == "content-type";
  }
  if (!t.body.empty()) {
    if (!render(t.body, task, in_obj, par_obj, escaping::json, c.body, missing))
      return fail("body");
    if (!has_content_type)
      c.headers.emplace_back("Content-Type: application/json");
  }
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
  auth_headers(t, c.headers);
  c.headers.emplace_back("Content-Type: application/json");
  c.body = "{\"user\":";
  append_json_string(c.body, t.user);
  c.body += '}';
  return c;
}

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
