// fake-dify's decisions: which endpoint, which fault, which answer.
//
//   body ─▶ read_call (Dify's 400s) ─▶ latency ─▶ fault_name ─▶ parse_fault
//                                                   ─▶ plan_fault ─▶ plan

#include "tools/fake_dify/plan.hpp"

#include "tools/fake_dify/answers.hpp"
#include "tools/fake_dify/uploads.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <variant>

namespace troupe::fake_dify {

namespace json = boost::json;
namespace http = boost::beast::http;

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The call a body describes, or the 400 Dify answers to it.
std::variant<call_facts, plan> read_call(app_kind app, std::string_view body,
                                         std::string_view authorization) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return error_plan(400, "bad_request",
                      "Invalid JSON payload received or JSON payload is "
                      "empty.");
  auto& o = v.get_object();
  call_facts c;
  c.app = app;
  c.authorization = authorization;
  auto* user = o.if_contains("user");
  if (user == nullptr || !user->is_string() || user->get_string().empty())
    return error_plan(400, "invalid_param", "Arg user must be provided.");
  c.user = user->get_string();
  if (auto* in = o.if_contains("inputs"); in != nullptr && in->is_object())
    c.inputs = in->get_object();
  else if (app == app_kind::workflow)
    return error_plan(400, "invalid_param", "inputs is required in input form");
  auto* mode = o.if_contains("response_mode");
  if (mode != nullptr && mode->is_string()) {
    if (mode->get_string() == "streaming")
      c.streaming = true;
    else if (mode->get_string() != "blocking")
      return error_plan(400, "invalid_param",
                        "response_mode must be blocking or streaming");
  }
  if (app == app_kind::chat) {
    auto* q = o.if_contains("query");
    if (q == nullptr || !q->is_string() || q->get_string().empty())
      return error_plan(400, "invalid_param", "query is required");
    c.query = q->get_string();
    if (auto* conv = o.if_contains("conversation_id");
        conv != nullptr && conv->is_string())
      c.conversation_id = conv->get_string();
  }
  return c;
}

// The call's own "_fault" while its "_fault_times" allow, else a random
// fault from the settings; "" for none. Draws only what it needs, so a seed
// gives the same faults as it always has.
std::string fault_name(const json::object& inputs, const fault_settings& s,
                       plan_source& source) {
  std::string name;
  if (auto* f = inputs.if_contains("_fault"); f != nullptr && f->is_string())
    name = f->get_string();
  if (!name.empty()) {
    auto* times = inputs.if_contains("_fault_times");
    if (times == nullptr || !times->is_number())
      return name;
    std::string key;
    if (auto* k = inputs.if_contains("_fault_key");
        k != nullptr && k->is_string())
      key = k->get_string();
    else
      key = json::serialize(inputs);
    if (source.count_fault(key) > times->to_number<int64_t>())
      name.clear();
    return name;
  }
  if (s.failure_rate > 0 && source.draw() < s.failure_rate)
    return "500";
  if (s.rate_429 > 0 && source.draw() < s.rate_429)
    return "429";
  return name;
}

plan rate_limited_plan(const fault_spec& f, const fault_settings& s,
                       plan_source& source) {
  auto p = error_plan(429, "too_many_requests",
                      "Too Many Requests: rate limit exceeded (fake)");
  if (f.retry_date_in_s) {
    auto at = static_cast<std::time_t>(source.now() + *f.retry_date_in_s);
    p.headers.emplace_back(
      "Retry-After",
      fmt::format("{:%a, %d %b %Y %H:%M:%S} GMT", fmt::gmtime(at)));
    return p;
  }
  auto after = f.retry_after_s.value_or(s.retry_after_s);
  if (after >= 0)
    p.headers.emplace_back("Retry-After", std::to_string(after));
  return p;
}

// A proxy's HTML error page.
plan gateway_plan(int status) {
  plan p;
  p.status = status;
  p.body
    = fmt::format("<html><body><h1>{} Bad Gateway</h1></body></html>", status);
  p.headers.emplace_back("Content-Type", "text/html");
  return p;
}

// What a call with fault `f` answers. Faults that spoil a success start
// from one, so they use up ids as a success does.
plan plan_fault(const fault_spec& f, const call_facts& c,
                const fault_settings& s, plan_source& source) {
  auto success = [&](run_end end = run_end::succeeded, bool echo = false,
                     run_shape shape = run_shape::basic) {
    return success_plan(c, source, end, echo, shape);
  };
  switch (f.kind) {
    case fault::none:
      return success();
    case fault::chatflow:
      return success(run_end::succeeded, false, run_shape::chatflow);
    case fault::chatflow_failed:
      return success(run_end::failed, false, run_shape::chatflow);
    case fault::long_run:
      return success(run_end::succeeded, false, run_shape::long_nodes);
    case fault::linger: {
      auto p = success();
      p.linger = p.kind == plan::stream;
      return p;
    }
    case fault::failed:
      return success(run_end::failed);
    case fault::stopped:
      return success(run_end::stopped);
    case fault::echo_key:
      return success(run_end::succeeded, true);
    case fault::server_error:
      return error_plan(500, "internal_server_error",
                        "The server encountered an internal error and was "
                        "unable to complete your request. Either the server "
                        "is overloaded or there is an error in the "
                        "application.");
    case fault::bad_gateway:
      return gateway_plan(502);
    case fault::unavailable:
      return gateway_plan(503);
    case fault::gateway_timeout:
      return gateway_plan(504);
    case fault::rate_limited:
      return rate_limited_plan(f, s, source);
    case fault::daily_limit:
      return error_plan(429, "rate_limit_error",
                        "Rate limit exceeded, please upgrade your plan or "
                        "your RPD was 5000 requests/day");
    case fault::too_many:
      return too_many_active_plan(1, s);
    case fault::invalid_param:
      return error_plan(400, "invalid_param", "text is required in input form");
    case fault::echo_key_error:
      return error_plan(400, "invalid_param", "you sent " + c.authorization);
    case fault::unauthorized:
      return error_plan(401, "unauthorized", "Access token is invalid");
    case fault::forbidden:
      return error_plan(403, "forbidden",
                        "The app's API service has been disabled.");
    case fault::not_found:
      return error_plan(404, "not_found", "Conversation Not Exists.");
    case fault::quota:
      return error_plan(400, "provider_quota_exceeded",
                        "Your quota for Dify Hosted Model Provider has been "
                        "exhausted.");
    case fault::reset: {
      auto p = success();
      p.kind = plan::reset;
      return p;
    }
    case fault::malformed: {
      // Half the blocking body; a stream has none, so a broken object.
      auto p = success();
      p.kind = plan::respond;
      p.body = p.body.substr(0, p.body.size() / 2);
      if (p.body.empty())
        p.body = "{\"task_id\": \"x\", \"data\": {";
      return p;
    }
    case fault::cut: {
      auto p = success();
      if (p.kind != plan::stream) {
        p.kind = plan::cut;
        return p;
      }
      p.events.resize(std::min<size_t>(p.events.size(), 3)); // no final event
      p.final_event.clear();
      return p;
    }
    case fault::stream_error: {
      auto p = success();
      if (p.kind != plan::stream) {
        // The run was recorded before the error, as it was made.
        auto e = error_plan(400, "completion_request_error",
                            "[fake] Error: model returned an error");
        e.run_id = std::move(p.run_id);
        e.run_json = std::move(p.run_json);
        return e;
      }
      json::object err{{"event", "error"},
                       {"workflow_run_id", nullptr},
                       {"code", "completion_request_error"},
                       {"status", 400},
                       {"message", "[fake] Error: model returned an error"}};
      p.events.resize(std::min<size_t>(p.events.size(), 3));
      p.events.push_back(frame(err));
      p.final_event.clear();
      return p;
    }
    case fault::hang: {
      auto p = success();
      p.kind = plan::hang;
      return p;
    }
    case fault::large: {
      auto p = success();
      p.kind = plan::respond;
      p.body = "{\"task_id\":\"big\",\"data\":{\"status\":\"succeeded\","
               "\"outputs\":{\"text\":\""
               + std::string(4 * 1024 * 1024, 'x') + "\"}}}";
      return p;
    }
  }
  return success();
}

} // namespace

route route_of(http::verb method, std::string_view path) {
  constexpr std::string_view run_prefix = "/v1/workflows/run/";
  bool get = method == http::verb::get;
  bool post = method == http::verb::post;
  if (get && path == "/_fake/stats")
    return {endpoint::stats, app_kind::workflow, {}};
  if (get && (path == "/v1/" || path == "/v1"))
    return {endpoint::welcome, app_kind::workflow, {}};
  if (get && path == "/v1/parameters")
    return {endpoint::parameters, app_kind::workflow, {}};
  if (get && path == "/v1/info")
    return {endpoint::info, app_kind::workflow, {}};
  if (get && starts_with(path, run_prefix))
    return {endpoint::run_lookup, app_kind::workflow,
            std::string{path.substr(run_prefix.size())}};
  // /v1/workflows/tasks/{id}/stop, /v1/chat-messages/{id}/stop,
  // /v1/completion-messages/{id}/stop
  if (post && path.size() > 5 && path.substr(path.size() - 5) == "/stop") {
    auto trimmed = path.substr(0, path.size() - 5);
    return {endpoint::stop, app_kind::workflow,
            std::string{trimmed.substr(trimmed.rfind('/') + 1)}};
  }
  if (post && path == "/v1/files/upload")
    return {endpoint::upload, app_kind::workflow, {}};
  if (post && path == "/v1/workflows/run")
    return {endpoint::run, app_kind::workflow, {}};
  if (post && path == "/v1/chat-messages")
    return {endpoint::run, app_kind::chat, {}};
  if (post && path == "/v1/completion-messages")
    return {endpoint::run, app_kind::completion, {}};
  return {};
}

bool authorized(std::string_view authorization, std::string_view api_key) {
  if (authorization.size() < 7
      || !boost::beast::iequals(authorization.substr(0, 7), "Bearer "))
    return false;
  return api_key.empty() || authorization.substr(7) == api_key;
}

plan plan_run(app_kind app, std::string_view body,
              std::string_view authorization, const fault_settings& settings,
              plan_source& source) {
  auto call = read_call(app, body, authorization);
  if (auto* refused = std::get_if<plan>(&call))
    return std::move(*refused);
  auto& c = std::get<call_facts>(call);
  c.stop_fails = settings.stop_fails;
  c.stream_events = settings.stream_events;
  // Dify knows a conversation only under the user who started it.
  if (!c.conversation_id.empty()) {
    auto history = source.conversation(c.user, c.conversation_id);
    if (!history)
      return error_plan(404, "not_found", "Conversation Not Exists.");
    c.history = std::move(*history);
  }
  // Uploaded files as Dify resolves them: an unknown id is a ValueError.
  if (auto* store = source.uploads())
    if (auto err = resolve_uploads(c.inputs, *store); !err.empty())
      return error_plan(400, "invalid_param", err);
  // Drawn even when "_latency_ms" overrides it, as it always was.
  auto latency
    = settings.latency_min_ms == settings.latency_max_ms
        ? settings.latency_min_ms
        : source.draw_between(settings.latency_min_ms, settings.latency_max_ms);
  if (auto* l = c.inputs.if_contains("_latency_ms");
      l != nullptr && l->is_number())
    latency = l->to_number<int64_t>();
  auto name = fault_name(c.inputs, settings, source);
  auto f = parse_fault(name);
  auto p
    = f ? plan_fault(*f, c, settings, source)
        : error_plan(400, "invalid_param", "[fake] unknown _fault " + name);
  p.latency_ms = latency;
  if (!p.conversation_id.empty() && (p.status == 200 || p.kind == plan::stream))
    source.remember_turn(c.user, p.conversation_id, c.query);
  return p;
}

stop_plan plan_stop(const std::string& id, std::string_view body) {
  json::error_code ec;
  auto v = json::parse(body, ec);
  auto* user
    = (!ec && v.is_object()) ? v.get_object().if_contains("user") : nullptr;
  if (user == nullptr || !user->is_string())
    return {error_plan(400, "invalid_param", "Arg user must be provided."), {}};
  return {json_plan("{\"result\":\"success\"}"), id};
}

plan error_plan(int status, std::string_view code, std::string_view message) {
  plan p;
  p.status = status;
  p.body = error_body(status, code, message);
  return p;
}

plan json_plan(std::string body) {
  plan p;
  p.body = std::move(body);
  return p;
}

plan fixed_plan(endpoint to) {
  switch (to) {
    case endpoint::welcome:
      return json_plan("{\"welcome\":\"Dify OpenAPI\",\"api_version\":\"v1\","
                       "\"server_version\":\"fake-1.0.0\"}");
    case endpoint::parameters:
      return json_plan(parameters_json());
    case endpoint::info:
      return json_plan("{\"name\":\"fake app\",\"description\":\"troupe "
                       "fake-dify\",\"tags\":[],\"mode\":\"workflow\","
                       "\"author_name\":\"troupe\"}");
    default:
      return error_plan(404, "not_found", "The requested URL was not found.");
  }
}

plan unauthorized_plan() {
  auto p = error_plan(401, "unauthorized", "Access token is invalid");
  p.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"api\"");
  return p;
}

plan too_many_active_plan(int64_t max_active, const fault_settings& s) {
  if (s.throttle_429) {
    auto p = error_plan(429, "too_many_requests",
                        fmt::format("Too many requests. Please try again "
                                    "later. The current maximum concurrent "
                                    "requests allowed is {}.",
                                    max_active));
    p.headers.emplace_back(
      "Retry-After",
      std::to_string(s.retry_after_s >= 0 ? s.retry_after_s : 1));
    return p;
  }
  return error_plan(400, "invalid_param",
                    fmt::format("Too many requests. Please try again later. "
                                "The current maximum concurrent requests "
                                "allowed is {}.",
                                max_active));
}

plan run_not_found_plan() {
  return error_plan(404, "not_found", "Workflow run not found.");
}

std::string format_id(std::string_view prefix, uint64_t n) {
  return fmt::format("{}-{:08x}-0000-4000-8000-{:012x}", prefix, n & 0xffffffff,
                     n);
}

std::string chunk(std::string_view data) {
  return fmt::format("{:x}\r\n{}\r\n", data.size(), data);
}

std::string stream_head(bool keep_alive) {
  return fmt::format("HTTP/1.1 200 OK\r\nServer: troupe-fake-dify\r\n"
                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
                     "Connection: {}\r\n\r\n",
                     keep_alive ? "keep-alive" : "close");
}

std::string cut_bytes(std::string_view body) {
  return fmt::format("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: {}\r\n\r\n{}",
                     body.size(), body.substr(0, body.size() / 2));
}

} // namespace troupe::fake_dify
