// JSON reading and the replies that end an attempt, shared by the protocol.

#include "actors/http/protocol_parts.hpp"

#include "actors/results/json_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cctype>
#include <cmath>
#include <cstring>

namespace json = boost::json;

namespace troupe::protocol {

namespace {

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

std::string lower(const std::string& s) {
  std::string out = s;
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool contains_any(const std::string& text,
                  std::initializer_list<const char*> words) {
  for (auto* w : words)
    if (text.find(w) != std::string::npos)
      return true;
  return false;
}

} // namespace

provider_error classify_provider_error(const std::string& message) {
  // Dify's model runtime words these as "[provider] Rate Limit Error, ...",
  // "[provider] Server Unavailable Error, ...", "[provider] Connection
  // Error, ..." (InvokeError descriptions), and passes through what the
  // provider's own SDK said after them.
  auto m = lower(message);
  // OpenAI words an exhausted account as a 429 too: waiting will not help.
  if (contains_any(m, {"insufficient_quota", "exceeded your current quota"}))
    return provider_error::other;
  if (contains_any(m, {"rate limit", "rate_limit", "ratelimit",
                       "too many requests", "error code: 429"}))
    return provider_error::rate_limited;
  if (contains_any(m,
                   {"server unavailable", "service unavailable",
                    "temporarily unavailable", "overloaded", "error code: 502",
                    "error code: 503", "error code: 504",
                    "internal server error", "bad gateway", "gateway timeout"}))
    return provider_error::unavailable;
  if (contains_any(m,
                   {"connection error", "connection reset",
                    "connection refused", "connection aborted", "timed out"}))
    return provider_error::connection;
  return provider_error::other;
}

// -- reading JSON
// --------------------------------------------------------------

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

// -- building calls -----------------------------------------------------------

void add_auth_header(const http_target& t, std::vector<std::string>& out) {
  if (!t.api_key.empty())
    out.push_back("Authorization: Bearer " + t.api_key);
}

// -- replies ----------------------------------------------------------------

attempt_reply rejected(std::string error, error_code code) {
  attempt_reply r;
  r.result = outcome::rejected;
  r.error = std::move(error);
  r.error_code = to_string(code);
  return r;
}

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
  else if (status == 400 && code == "completion_request_error") {
    // The model provider's own trouble, mapped by Dify to a 400: retry what
    // passes, keep a bad request final.
    switch (classify_provider_error(message)) {
      case provider_error::rate_limited:
        r.result = outcome::throttled;
        break;
      case provider_error::unavailable:
      case provider_error::connection:
        r.result = outcome::failure;
        break;
      case provider_error::other:
        r.result = outcome::rejected;
        break;
    }
  } else
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
  // After our stop a run ends "stopped", or "failed" where the stop also
  // aborted the graph engine.
  if ((run_status == "stopped" || run_status == "failed") && stop_requested) {
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

} // namespace troupe::protocol
