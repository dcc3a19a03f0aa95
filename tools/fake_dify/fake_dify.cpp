// troupe fake-dify: the Dify Service API on Boost.Beast, with faults.
//
//   client ──HTTP/1.1 keep-alive──▶ acceptor ──▶ session (one per connection)
//                                                 read ▶ route ▶ [fault]
//                                                 [latency timer] ▶ write
//
// Faults come from flags (for every request) and from reserved input fields
// (per request), so one run can mix them: "_fault", "_fault_times",
// "_fault_key" and "_latency_ms". See `troupe fake-dify --help`.

#include "tools/fake_dify/fake_dify.hpp"

#include "tools/fake_dify/hold_barrier.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace troupe::fake_dify {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;

constexpr const char* help_text
  = R"(Usage: troupe fake-dify --listen HOST:PORT [options]

A local HTTP server that speaks the Dify Service API: /v1/workflows/run,
/v1/chat-messages, /v1/completion-messages (blocking and streaming), their
stop calls, /v1/workflows/run/{id}, /v1/parameters, /v1/info and /v1/. It
prints "fake-dify listening on URL" once ready (port 0 picks a free port).

Options:
  --listen HOST:PORT     address to serve on (required)
  --api-key KEY          the bearer key to require (default: the variable
                         FAKE_DIFY_API_KEY; without either, any key is taken)
  --latency-ms N|MIN-MAX fixed or random latency of every run call
  --failure-rate P       this share of run calls answers 500
  --rate-429 P           this share answers 429 too_many_requests
  --retry-after S        429s carry "Retry-After: S"
  --max-active N         over N calls at once, answer 400 "Too many requests"
                         (Dify's APP_MAX_ACTIVE_REQUESTS)
  --hold-until-active N  a barrier: hold every run call, unanswered, until N
                         are open at once; then the held calls and all later
                         ones go on as usual (their latency starts then)
  --hold-timeout-ms T    if N calls are not open within T ms of the first
                         held call (default 60000), the held calls answer
                         503 "hold-until-active: only K of N calls arrived
                         within T ms", and the next call starts a new wait
  --tls-cert FILE        serve HTTPS with this certificate (PEM) ...
  --tls-key FILE         ... and this key
  --threads N            event-loop threads (default 1)
  --seed N               seeds the random faults and latencies
  -h, --help             show this help

Per request, reserved input fields choose a fault for that call only:
  "_fault": "500" | "502" | "503" | "504" | "429" | "429:retry-after=S" |
            "429-date:S" | "daily" | "too_many" | "400" | "401" | "403" |
            "404" | "quota" | "failed" | "stopped" | "reset" | "malformed" |
            "cut" | "stream_error" | "hang" | "large" | "echo_key" |
            "echo_key_error"
                         echo_key: a success whose output (workflow outputs,
                         or the answer) is "you sent " and the request's
                         whole Authorization header; echo_key_error: a 400
                         invalid_param "you sent Bearer <key>" (a server that
                         leaks the key, for redaction tests)
  "_fault_times": N      only the first N calls with the same "_fault_key"
                         (default: the same inputs) get the fault
  "_latency_ms": N       this call's latency
GET /_fake/stats reports the calls, statuses and stop calls seen, the most
calls open at once ("max_active"), and the barrier's state ("held",
"hold_released", "hold_timeouts").
)";

// -- options
// --------------------------------------------------------------------

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string api_key;
  int64_t latency_min_ms = 0;
  int64_t latency_max_ms = 0;
  double failure_rate = 0;
  double rate_429 = 0;
  int64_t retry_after_s = -1;
  int64_t max_active = 0;
  int64_t hold_until_active = 0;
  int64_t hold_timeout_ms = 60000;
  std::string tls_cert;
  std::string tls_key;
  int threads = 1;
  uint64_t seed = 1;
};

bool parse_number(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && end != nullptr && *end == '\0';
}

bool parse_int(const std::string& s, int64_t& out) {
  char* end = nullptr;
  out = std::strtoll(s.c_str(), &end, 10);
  return !s.empty() && end != nullptr && *end == '\0';
}

// Parses the flags; returns an error text, empty on success.
std::string parse_options(const std::vector<std::string>& args, options& o,
                          bool& help) {
  bool listen = false;
  if (auto* key = std::getenv("FAKE_DIFY_API_KEY"))
    o.api_key = key;
  for (size_t i = 0; i < args.size(); ++i) {
    auto arg = args[i];
    std::string value;
    auto eq = arg.find('=');
    bool has_value = arg.compare(0, 2, "--") == 0 && eq != std::string::npos;
    if (has_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "-h" || arg == "--help") {
      help = true;
      return {};
    }
    if (!has_value) {
      if (i + 1 >= args.size())
        return arg + " needs a value";
      value = args[++i];
    }
    double d = 0;
    int64_t n = 0;
    if (arg == "--listen") {
      auto colon = value.rfind(':');
      if (colon == std::string::npos || !parse_int(value.substr(colon + 1), n)
          || n < 0 || n > 65535)
        return "--listen: expected HOST:PORT, got \"" + value + "\"";
      o.host = value.substr(0, colon);
      if (o.host.size() > 1 && o.host.front() == '[' && o.host.back() == ']')
        o.host = o.host.substr(1, o.host.size() - 2);
      o.port = static_cast<uint16_t>(n);
      listen = true;
    } else if (arg == "--api-key") {
      o.api_key = value;
    } else if (arg == "--latency-ms") {
      auto dash = value.find('-');
      int64_t lo = 0;
      int64_t hi = 0;
      if (dash == std::string::npos
            ? !parse_int(value, lo)
            : !parse_int(value.substr(0, dash), lo)
                || !parse_int(value.substr(dash + 1), hi))
        return "--latency-ms: expected N or MIN-MAX, got \"" + value + "\"";
      if (dash == std::string::npos)
        hi = lo;
      if (lo < 0 || hi < lo)
        return "--latency-ms: expected 0 <= MIN <= MAX";
      o.latency_min_ms = lo;
      o.latency_max_ms = hi;
    } else if (arg == "--failure-rate" || arg == "--rate-429") {
      if (!parse_number(value, d) || d < 0 || d > 1)
        return arg + ": expected a number from 0 to 1, got \"" + value + "\"";
      (arg == "--failure-rate" ? o.failure_rate : o.rate_429) = d;
    } else if (arg == "--retry-after") {
      if (!parse_int(value, n) || n < 0)
        return "--retry-after: expected seconds >= 0";
      o.retry_after_s = n;
    } else if (arg == "--max-active") {
      if (!parse_int(value, n) || n < 1)
        return "--max-active: expected an integer >= 1";
      o.max_active = n;
    } else if (arg == "--hold-until-active") {
      if (!parse_int(value, n) || n < 1)
        return "--hold-until-active: expected an integer >= 1";
      o.hold_until_active = n;
    } else if (arg == "--hold-timeout-ms") {
      if (!parse_int(value, n) || n < 1)
        return "--hold-timeout-ms: expected milliseconds >= 1";
      o.hold_timeout_ms = n;
    } else if (arg == "--tls-cert") {
      o.tls_cert = value;
    } else if (arg == "--tls-key") {
      o.tls_key = value;
    } else if (arg == "--threads") {
      if (!parse_int(value, n) || n < 1 || n > 64)
        return "--threads: expected 1 to 64";
      o.threads = static_cast<int>(n);
    } else if (arg == "--seed") {
      if (!parse_int(value, n) || n < 0)
        return "--seed: expected an integer >= 0";
      o.seed = static_cast<uint64_t>(n);
    } else {
      return "unknown option " + arg;
    }
  }
  if (!listen)
    return "missing --listen HOST:PORT";
  if (o.tls_cert.empty() != o.tls_key.empty())
    return "--tls-cert and --tls-key go together";
  return {};
}

// -- shared state
// ---------------------------------------------------------------

struct server_state {
  options opts;
  std::atomic<int64_t> active{0};
  std::atomic<int64_t> max_active_seen{0};
  std::atomic<uint64_t> next_id{1};
  std::mutex mtx;
  std::mt19937_64 rng;
  uint64_t requests = 0;
  uint64_t rejected_active = 0;
  std::map<std::string, uint64_t> by_path;
  std::map<int, uint64_t> by_status;
  std::unordered_map<std::string, int64_t> fault_counts;
  std::unordered_set<std::string> stopped;
  std::vector<std::string> stops;
  std::unordered_map<std::string, std::string> runs; // run id -> JSON
  std::deque<std::string> run_order;
  hold_barrier* barrier = nullptr; // with --hold-until-active

  double draw() {
    std::lock_guard<std::mutex> guard{mtx};
    return std::uniform_real_distribution<double>{0, 1}(rng);
  }

  int64_t latency_ms() {
    if (opts.latency_max_ms == opts.latency_min_ms)
      return opts.latency_min_ms;
    std::lock_guard<std::mutex> guard{mtx};
    return std::uniform_int_distribution<int64_t>{opts.latency_min_ms,
                                                  opts.latency_max_ms}(rng);
  }

  std::string new_id(const char* prefix) {
    auto n = next_id.fetch_add(1);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%s-%08llx-0000-4000-8000-%012llx", prefix,
                  static_cast<unsigned long long>(n & 0xffffffff),
                  static_cast<unsigned long long>(n));
    return buf;
  }

  void count(const std::string& path, int status) {
    std::lock_guard<std::mutex> guard{mtx};
    ++requests;
    ++by_path[path];
    ++by_status[status];
  }

  void remember_run(const std::string& id, std::string run) {
    std::lock_guard<std::mutex> guard{mtx};
    if (runs.emplace(id, std::move(run)).second) {
      run_order.push_back(id);
      if (run_order.size() > 10000) {
        runs.erase(run_order.front());
        run_order.pop_front();
      }
    }
  }

  std::string stats_json() {
    std::lock_guard<std::mutex> guard{mtx};
    json::object o;
    o["requests"] = requests;
    o["max_active"] = max_active_seen.load();
    o["rejected_active"] = rejected_active;
    json::object paths;
    for (auto& [p, n] : by_path)
      paths[p] = n;
    o["by_path"] = std::move(paths);
    json::object statuses;
    for (auto& [s, n] : by_status)
      statuses[std::to_string(s)] = n;
    o["by_status"] = std::move(statuses);
    json::array st;
    for (auto& s : stops)
      st.emplace_back(s);
    o["stops"] = std::move(st);
    if (barrier) {
      auto b = barrier->snapshot();
      o["held"] = b.held;
      o["hold_released"] = b.released;
      o["hold_timeouts"] = b.timeouts;
    }
    return json::serialize(o);
  }
};

// Counts a run call as active while it lives.
class active_guard {
public:
  explicit active_guard(server_state& st) : st_(&st) {
    auto now = st.active.fetch_add(1) + 1;
    auto seen = st.max_active_seen.load();
    while (now > seen && !st.max_active_seen.compare_exchange_weak(seen, now)) {
    }
  }
  ~active_guard() {
    if (st_ != nullptr)
      st_->active.fetch_sub(1);
  }
  active_guard(const active_guard&) = delete;
  active_guard& operator=(const active_guard&) = delete;

private:
  server_state* st_;
};

// -- what a call answers
// --------------------------------------------------------

enum class app_kind { workflow, chat, completion };

/// A planned answer: a plain response, a stream, or a fault on the wire.
struct plan {
  enum kind_t { respond, stream, reset, cut, hang } kind = respond;
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> events; // stream: SSE frames, in order
  std::string task_id;
  app_kind app = app_kind::workflow;
  std::string final_event; // stream: the frame to send if stopped
  int64_t latency_ms = 0;
};

std::string error_body(int status, const std::string& code,
                       const std::string& message) {
  json::object o;
  o["code"] = code;
  o["message"] = message;
  o["status"] = status;
  return json::serialize(o);
}

plan error_plan(int status, const std::string& code,
                const std::string& message) {
  plan p;
  p.status = status;
  p.body = error_body(status, code, message);
  return p;
}

std::string frame(const json::object& o) {
  return "data: " + json::serialize(o) + "\n\n";
}

// The echo a fake app answers with.
std::string echo_text(const json::object& inputs, const std::string& query) {
  if (!query.empty())
    return "echo: " + query;
  if (auto* t = inputs.if_contains("text"); t != nullptr && t->is_string())
    return "echo: " + std::string{t->get_string()};
  json::object clean;
  for (auto& kv : inputs)
    if (!kv.key().starts_with("_"))
      clean[kv.key()] = kv.value();
  return "echo: " + json::serialize(clean);
}

struct call_facts {
  app_kind app;
  bool streaming = false;
  std::string user;
  json::object inputs;
  std::string query;
  std::string conversation_id;
  std::string authorization; // the whole header, for the echo_key faults
};

plan success_plan(server_state& st, const call_facts& c, bool failed,
                  bool stopped, bool echo_key) {
  plan p;
  p.app = c.app;
  auto now = static_cast<int64_t>(std::time(nullptr));
  // A leaky app that repeats the caller's key, as some error pages do.
  auto text
    = echo_key ? "you sent " + c.authorization : echo_text(c.inputs, c.query);
  auto tokens = static_cast<int64_t>(10 + text.size() / 4);
  p.task_id = st.new_id("task");
  auto run_id = st.new_id("run");
  if (c.app == app_kind::workflow) {
    json::object data;
    data["id"] = run_id;
    data["workflow_id"] = "wf-fake";
    data["status"] = failed ? "failed" : stopped ? "stopped" : "succeeded";
    json::object outputs;
    outputs["text"] = text;
    data["outputs"] = failed ? json::value(nullptr) : json::value(outputs);
    data["error"] = failed    ? json::value("Node LLM run failed: model timed "
                                               "out (fake)")
                    : stopped ? json::value("Stopped by user.")
                              : json::value(nullptr);
    data["elapsed_time"] = 0.25;
    data["total_tokens"] = tokens;
    data["total_steps"] = 3;
    data["created_at"] = now;
    data["finished_at"] = now;
    st.remember_run(run_id, json::serialize(data));
    if (!c.streaming) {
      json::object o;
      o["task_id"] = p.task_id;
      o["workflow_run_id"] = run_id;
      o["data"] = data;
      p.body = json::serialize(o);
      return p;
    }
    p.kind = plan::stream;
    auto ev = [&](const char* name, json::object d) {
      json::object o;
      o["event"] = name;
      o["workflow_run_id"] = run_id;
      o["task_id"] = p.task_id;
      o["data"] = std::move(d);
      return frame(o);
    };
    p.events.push_back("event: ping\n\n");
    p.events.push_back(
      ev("workflow_started", json::object{{"id", run_id},
                                          {"workflow_id", "wf-fake"},
                                          {"created_at", now}}));
    p.events.push_back(
      ev("node_started", json::object{{"id", st.new_id("node")},
                                      {"node_id", "llm"},
                                      {"node_type", "llm"},
                                      {"title", "LLM"},
                                      {"index", 1}}));
    auto half = text.size() / 2;
    p.events.push_back(
      ev("text_chunk", json::object{{"text", text.substr(0, half)}}));
    p.events.push_back("event: ping\n\n");
    p.events.push_back(
      ev("text_chunk", json::object{{"text", text.substr(half)}}));
    p.events.push_back(
      ev("node_finished", json::object{{"node_id", "llm"},
                                       {"status", "succeeded"},
                                       {"elapsed_time", 0.2}}));
    p.events.push_back(ev("workflow_finished", data));
    auto stopped_data = data;
    stopped_data["status"] = "stopped";
    stopped_data["outputs"] = json::object{};
    stopped_data["error"] = "Stopped by user.";
    p.final_event = ev("workflow_finished", stopped_data);
    return p;
  }
  // Chat and completion apps answer with `answer`.
  auto message_id = st.new_id("msg");
  auto conversation
    = c.app == app_kind::chat
        ? (c.conversation_id.empty() ? st.new_id("conv") : c.conversation_id)
        : std::string{};
  json::object usage{{"prompt_tokens", 5},
                     {"completion_tokens", tokens - 5},
                     {"total_tokens", tokens}};
  auto base = [&](const char* event) {
    json::object o;
    o["event"] = event;
    o["task_id"] = p.task_id;
    o["id"] = message_id;
    o["message_id"] = message_id;
    if (c.app == app_kind::chat)
      o["conversation_id"] = conversation;
    o["created_at"] = now;
    return o;
  };
  if (!c.streaming) {
    auto o = base("message");
    o["mode"] = c.app == app_kind::chat ? "chat" : "completion";
    o["answer"] = text;
    o["metadata"] = json::object{{"usage", usage}};
    p.body = json::serialize(o);
    return p;
  }
  p.kind = plan::stream;
  p.events.push_back("event: ping\n\n");
  auto third = text.size() / 3;
  for (auto piece : {text.substr(0, third), text.substr(third, third),
                     text.substr(2 * third)}) {
    auto o = base("message");
    o["answer"] = piece;
    p.events.push_back(frame(o));
  }
  auto end = base("message_end");
  end["metadata"] = json::object{{"usage", usage}};
  p.events.push_back(frame(end));
  p.final_event = frame(end);
  return p;
}

// Looks at a run call and decides what it gets.
plan plan_call(server_state& st, app_kind app, const std::string& body,
               const std::string& authorization) {
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
  int64_t latency = st.latency_ms();
  if (auto* l = c.inputs.if_contains("_latency_ms");
      l != nullptr && l->is_number())
    latency = l->to_number<int64_t>();
  // Which fault, if any.
  std::string fault;
  if (auto* f = c.inputs.if_contains("_fault"); f != nullptr && f->is_string())
    fault = f->get_string();
  if (!fault.empty()) {
    if (auto* times = c.inputs.if_contains("_fault_times");
        times != nullptr && times->is_number()) {
      std::string key;
      if (auto* k = c.inputs.if_contains("_fault_key");
          k != nullptr && k->is_string())
        key = k->get_string();
      else
        key = json::serialize(c.inputs);
      std::lock_guard<std::mutex> guard{st.mtx};
      if (++st.fault_counts[key] > times->to_number<int64_t>())
        fault.clear();
    }
  } else if (st.opts.failure_rate > 0 && st.draw() < st.opts.failure_rate) {
    fault = "500";
  } else if (st.opts.rate_429 > 0 && st.draw() < st.opts.rate_429) {
    fault = "429";
  }
  plan p;
  if (fault.empty() || fault == "failed" || fault == "stopped" || fault == "cut"
      || fault == "stream_error" || fault == "reset" || fault == "malformed"
      || fault == "hang" || fault == "large" || fault == "echo_key") {
    p = success_plan(st, c, fault == "failed", fault == "stopped",
                     fault == "echo_key");
  }
  if (fault.empty() || fault == "failed" || fault == "stopped"
      || fault == "echo_key") {
  } else if (fault == "500") {
    p = error_plan(500, "internal_server_error",
                   "The server encountered an internal error and was unable "
                   "to complete your request. Either the server is "
                   "overloaded or there is an error in the application.");
  } else if (fault == "502" || fault == "503" || fault == "504") {
    p = plan{};
    p.status = std::stoi(fault);
    p.body = "<html><body><h1>" + fault + " Bad Gateway</h1></body></html>";
    p.headers.emplace_back("Content-Type", "text/html");
  } else if (fault.compare(0, 3, "429") == 0) {
    p = error_plan(429, "too_many_requests",
                   "Too Many Requests: rate limit exceeded (fake)");
    int64_t after = st.opts.retry_after_s;
    if (fault.compare(0, 16, "429:retry-after=") == 0)
      parse_int(fault.substr(16), after);
    if (fault.compare(0, 9, "429-date:") == 0) {
      int64_t secs = 0;
      parse_int(fault.substr(9), secs);
      auto at = std::time(nullptr) + secs;
      std::tm tm{};
      ::gmtime_r(&at, &tm);
      char buf[64];
      std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
      p.headers.emplace_back("Retry-After", buf);
    } else if (after >= 0) {
      p.headers.emplace_back("Retry-After", std::to_string(after));
    }
  } else if (fault == "daily") {
    p = error_plan(429, "rate_limit_error",
                   "Rate limit exceeded, please upgrade your plan or your RPD "
                   "was 5000 requests/day");
  } else if (fault == "too_many") {
    p = error_plan(400, "invalid_param",
                   "Too many requests. Please try again later. The current "
                   "maximum concurrent requests allowed is 1.");
  } else if (fault == "400") {
    p = error_plan(400, "invalid_param", "text is required in input form");
  } else if (fault == "echo_key_error") {
    p = error_plan(400, "invalid_param", "you sent " + c.authorization);
  } else if (fault == "401") {
    p = error_plan(401, "unauthorized", "Access token is invalid");
  } else if (fault == "403") {
    p = error_plan(403, "forbidden",
                   "The app's API service has been disabled.");
  } else if (fault == "404") {
    p = error_plan(404, "not_found", "Conversation Not Exists.");
  } else if (fault == "quota") {
    p = error_plan(400, "provider_quota_exceeded",
                   "Your quota for Dify Hosted Model Provider has been "
                   "exhausted.");
  } else if (fault == "reset") {
    p.kind = plan::reset;
  } else if (fault == "malformed") {
    p.kind = plan::respond;
    p.body = p.kind == plan::stream ? "" : p.body.substr(0, p.body.size() / 2);
    if (p.body.empty())
      p.body = "{\"task_id\": \"x\", \"data\": {";
  } else if (fault == "cut") {
    if (p.kind == plan::stream) {
      p.events.resize(std::min<size_t>(p.events.size(), 3)); // no final event
      p.final_event.clear();
    } else {
      p.kind = plan::cut;
    }
  } else if (fault == "stream_error") {
    if (p.kind == plan::stream) {
      json::object err{{"event", "error"},
                       {"workflow_run_id", nullptr},
                       {"code", "completion_request_error"},
                       {"status", 400},
                       {"message", "[fake] Error: model returned an error"}};
      p.events.resize(std::min<size_t>(p.events.size(), 3));
      p.events.push_back(frame(err));
      p.final_event.clear();
    } else {
      p = error_plan(400, "completion_request_error",
                     "[fake] Error: model returned an error");
    }
  } else if (fault == "hang") {
    p.kind = plan::hang;
  } else if (fault == "large") {
    p.kind = plan::respond;
    p.body = "{\"task_id\":\"big\",\"data\":{\"status\":\"succeeded\","
             "\"outputs\":{\"text\":\""
             + std::string(4 * 1024 * 1024, 'x') + "\"}}}";
  } else {
    p = error_plan(400, "invalid_param", "[fake] unknown _fault " + fault);
  }
  p.latency_ms = latency;
  return p;
}

// -- the connection
// --------------------------------------------------------------

template <class Stream>
class session : public std::enable_shared_from_this<session<Stream>> {
public:
  session(Stream stream, server_state& st)
    : stream_(std::move(stream)), st_(st), timer_(stream_.get_executor()) {}

  void start_plain() {
    do_read();
  }

  void start_tls() {
    stream_.async_handshake(
      ssl::stream_base::server,
      [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec)
          self->do_read();
      });
  }

private:
  auto& socket() {
    return beast::get_lowest_layer(stream_).socket();
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    http::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) {
        if (ec)
          return self->close();
        self->handle(self->parser_->release());
      });
  }

  void close() {
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  // Closes with a TCP reset: the peer sees "connection reset by peer".
  void reset() {
    beast::error_code ec;
    socket().set_option(net::socket_base::linger(true, 0), ec);
    socket().close(ec);
  }

  bool authorized(const http::request<http::string_body>& req) {
    auto h = req[http::field::authorization];
    if (h.size() < 7 || !beast::iequals(h.substr(0, 7), "Bearer "))
      return false;
    return st_.opts.api_key.empty() || h.substr(7) == st_.opts.api_key;
  }

  void handle(http::request<http::string_body> req) {
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    std::string target{req.target()};
    auto q = target.find('?');
    if (q != std::string::npos)
      target.resize(q);
    path_ = target;
    auto method = req.method();
    if (method == http::verb::get && path_ == "/_fake/stats")
      return respond(200, st_.stats_json(), {}, false);
    if (method == http::verb::get && (path_ == "/v1/" || path_ == "/v1"))
      return respond(200,
                     "{\"welcome\":\"Dify OpenAPI\",\"api_version\":\"v1\","
                     "\"server_version\":\"fake-1.0.0\"}",
                     {}, true);
    if (!authorized(req))
      return respond(401,
                     error_body(401, "unauthorized", "Access token is invalid"),
                     {{"WWW-Authenticate", "Bearer realm=\"api\""}}, true);
    if (method == http::verb::get && path_ == "/v1/parameters")
      return respond(200, parameters_json(), {}, true);
    if (method == http::verb::get && path_ == "/v1/info")
      return respond(200,
                     "{\"name\":\"fake app\",\"description\":\"troupe "
                     "fake-dify\",\"tags\":[],\"mode\":\"workflow\","
                     "\"author_name\":\"troupe\"}",
                     {}, true);
    if (method == http::verb::get
        && path_.compare(0, 18, "/v1/workflows/run/") == 0) {
      auto id = path_.substr(18);
      std::string run;
      {
        std::lock_guard<std::mutex> guard{st_.mtx};
        if (auto i = st_.runs.find(id); i != st_.runs.end())
          run = i->second;
      }
      if (run.empty())
        return respond(404,
                       error_body(404, "not_found", "Workflow run not found."),
                       {}, true);
      return respond(200, run, {}, true);
    }
    if (method == http::verb::post && path_.size() > 5
        && path_.compare(path_.size() - 5, 5, "/stop") == 0)
      return on_stop(req);
    if (method == http::verb::post) {
      if (path_ == "/v1/workflows/run")
        return on_run(app_kind::workflow, req);
      if (path_ == "/v1/chat-messages")
        return on_run(app_kind::chat, req);
      if (path_ == "/v1/completion-messages")
        return on_run(app_kind::completion, req);
    }
    respond(404,
            error_body(404, "not_found", "The requested URL was not found."),
            {}, true);
  }

  static std::string parameters_json() {
    return R"({"opening_statement":"","suggested_questions":[],)"
           R"("suggested_questions_after_answer":{"enabled":false},)"
           R"("speech_to_text":{"enabled":false},"text_to_speech":{"enabled":false},)"
           R"("retriever_resource":{"enabled":false},"annotation_reply":{"enabled":false},)"
           R"("more_like_this":{"enabled":false},"user_input_form":[)"
           R"({"text-input":{"label":"Text","variable":"text","required":true,"default":""}}],)"
           R"("sensitive_word_avoidance":{"enabled":false},"file_upload":{},)"
           R"("system_parameters":{"file_size_limit":15,"image_file_size_limit":10,)"
           R"("audio_file_size_limit":50,"video_file_size_limit":100}})";
  }

  void on_stop(const http::request<http::string_body>& req) {
    // /v1/workflows/tasks/{id}/stop, /v1/chat-messages/{id}/stop,
    // /v1/completion-messages/{id}/stop
    auto trimmed = path_.substr(0, path_.size() - 5);
    auto id = trimmed.substr(trimmed.rfind('/') + 1);
    json::error_code ec;
    auto v = json::parse(req.body(), ec);
    auto* user
      = (!ec && v.is_object()) ? v.get_object().if_contains("user") : nullptr;
    if (user == nullptr || !user->is_string())
      return respond(
        400, error_body(400, "invalid_param", "Arg user must be provided."), {},
        true);
    {
      std::lock_guard<std::mutex> guard{st_.mtx};
      st_.stopped.insert(id);
      st_.stops.push_back(id);
    }
    respond(200, "{\"result\":\"success\"}", {}, true);
  }

  void on_run(app_kind app, const http::request<http::string_body>& req) {
    if (st_.opts.max_active > 0 && st_.active.load() >= st_.opts.max_active) {
      {
        std::lock_guard<std::mutex> guard{st_.mtx};
        ++st_.rejected_active;
      }
      return respond(400,
                     error_body(400, "invalid_param",
                                "Too many requests. Please try again later. "
                                "The current maximum concurrent requests "
                                "allowed is "
                                  + std::to_string(st_.opts.max_active) + "."),
                     {}, true);
    }
    active_.emplace(st_);
    plan_ = plan_call(st_, app, req.body(),
                      std::string{req[http::field::authorization]});
    if (st_.barrier)
      return hold();
    go_on();
  }

  // The planned answer, after its latency.
  void go_on() {
    if (plan_.kind == plan::hang) {
      st_.count(path_, 0);
      return hang();
    }
    if (plan_.latency_ms > 0 && plan_.kind != plan::stream) {
      timer_.expires_after(std::chrono::milliseconds{plan_.latency_ms});
      timer_.async_wait([self = this->shared_from_this()](beast::error_code) {
        self->execute();
      });
      return;
    }
    execute();
  }

  // -- the barrier (--hold-until-active)
  // -------------------------------------------------------------------
  //
  //  hold ─▶ holding ──wake──▶ released ─▶ go_on
  //            │  (a read watches   ├────▶ failed ─▶ 503
  //            │   the socket)      └─ the client left meanwhile ─▶ close
  //            └─ the client leaves ─▶ gone: close

  enum class hold_state { holding, released, failed, gone };

  void hold() {
    hold_state_ = hold_state::holding;
    auto self = this->shared_from_this();
    auto wake = [self](hold_barrier::outcome o, const std::string& message) {
      net::post(self->stream_.get_executor(),
                [self, o, message] { self->on_wake(o, message); });
    };
    hold_id_ = st_.barrier->enter(st_.active.load(), wake);
    if (hold_id_ == 0)
      return go_on();
    watch_held();
  }

  // While held, a pending read notices a client that gives up; bytes that
  // arrive (a pipelined request) stay in the buffer for the next parse.
  void watch_held() {
    watching_ = true;
    stream_.async_read_some(
      buffer_.prepare(512),
      [self = this->shared_from_this()](beast::error_code ec, size_t n) {
        self->watching_ = false;
        self->buffer_.commit(n);
        if (self->hold_state_ != hold_state::holding)
          return self->finish_hold(); // on_wake cancelled this read
        if (!ec)
          return self->watch_held();
        if (self->st_.barrier->leave(self->hold_id_)) {
          self->hold_state_ = hold_state::gone;
          return self->drop_held();
        }
        // Its wake is already posted; on_wake finishes.
        self->client_left_ = true;
      });
  }

  void on_wake(hold_barrier::outcome o, const std::string& message) {
    hold_state_ = o == hold_barrier::outcome::release ? hold_state::released
                                                      : hold_state::failed;
    hold_message_ = message;
    if (watching_) {
      // The read's handler goes on from here.
      beast::error_code ec;
      beast::get_lowest_layer(stream_).socket().cancel(ec);
      return;
    }
    finish_hold();
  }

  void finish_hold() {
    if (client_left_)
      return drop_held();
    if (hold_state_ == hold_state::failed)
      return respond(503, error_body(503, "service_unavailable", hold_message_),
                     {}, true);
    go_on();
  }

  // A held call whose client left still counts as a call received, as a
  // hung one does, so the server's count matches the client's attempts.
  void drop_held() {
    st_.count(path_, 0);
    active_.reset();
    close();
  }

  void execute() {
    switch (plan_.kind) {
      case plan::respond:
        return respond(plan_.status, std::move(plan_.body), plan_.headers,
                       true);
      case plan::stream:
        return start_stream();
      case plan::reset:
        st_.count(path_, 0);
        // Headers and part of a body, then a reset.
        return write_raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: 500\r\n\r\n{\"task_id\": \"t\", \"da",
                         [](session& self) {
                           self.active_.reset();
                           self.reset();
                         });
      case plan::cut:
        st_.count(path_, 200);
        // Headers and half the body, then a clean close.
        return write_raw("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Content-Length: "
                           + std::to_string(plan_.body.size()) + "\r\n\r\n"
                           + plan_.body.substr(0, plan_.body.size() / 2),
                         [](session& self) {
                           self.active_.reset();
                           self.close();
                         });
      case plan::hang:
        return hang();
    }
  }

  // Never answers; waits for the client to go away.
  void hang() {
    auto byte = std::make_shared<char>();
    stream_.async_read_some(
      net::buffer(byte.get(), 1),
      [self = this->shared_from_this(), byte](beast::error_code ec, size_t) {
        if (ec) {
          self->active_.reset();
          self->close();
        } else {
          self->hang();
        }
      });
  }

  void respond(int status, std::string body,
               const std::vector<std::pair<std::string, std::string>>& headers,
               bool counted) {
    if (counted)
      st_.count(path_, status);
    res_ = {};
    res_.result(static_cast<http::status>(status));
    res_.version(version_);
    res_.set(http::field::server, "troupe-fake-dify");
    bool content_type = false;
    for (auto& [name, value] : headers) {
      res_.set(name, value);
      content_type = content_type || beast::iequals(name, "content-type");
    }
    if (!content_type)
      res_.set(http::field::content_type, "application/json");
    res_.keep_alive(keep_alive_);
    res_.body() = std::move(body);
    res_.prepare_payload();
    http::async_write(
      stream_, res_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) {
        self->active_.reset();
        if (ec || !self->keep_alive_)
          return self->close();
        self->do_read();
      });
  }

  // -- streams
  // -------------------------------------------------------------------

  void start_stream() {
    st_.count(path_, 200);
    next_event_ = 0;
    auto gaps = std::max<size_t>(plan_.events.size(), 1);
    event_gap_ms_ = plan_.latency_ms / static_cast<int64_t>(gaps);
    write_raw("HTTP/1.1 200 OK\r\nServer: troupe-fake-dify\r\n"
              "Content-Type: text/event-stream; charset=utf-8\r\n"
              "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
              "Connection: "
                + std::string{keep_alive_ ? "keep-alive" : "close"}
                + "\r\n\r\n",
              [](session& self) { self.next_frame(); });
  }

  void next_frame() {
    bool stopped = false;
    if (!plan_.task_id.empty()) {
      std::lock_guard<std::mutex> guard{st_.mtx};
      stopped = st_.stopped.count(plan_.task_id) > 0;
    }
    if (stopped && !plan_.final_event.empty()) {
      // Dify ends a stopped run with its final event, status "stopped".
      auto last = std::move(plan_.final_event);
      plan_.final_event.clear();
      plan_.events.clear();
      return write_raw(chunk(last), [](session& self) { self.end_stream(); });
    }
    if (next_event_ >= plan_.events.size())
      return end_stream();
    auto send = [self = this->shared_from_this()] {
      auto& e = self->plan_.events[self->next_event_++];
      self->write_raw(self->chunk(e), [](session& s) { s.next_frame(); });
    };
    if (event_gap_ms_ > 0 && next_event_ > 0) {
      timer_.expires_after(std::chrono::milliseconds{event_gap_ms_});
      timer_.async_wait([send](beast::error_code ec) {
        if (!ec)
          send();
      });
    } else {
      send();
    }
  }

  void end_stream() {
    write_raw("0\r\n\r\n", [](session& self) {
      self.active_.reset();
      if (!self.keep_alive_)
        return self.close();
      self.do_read();
    });
  }

  static std::string chunk(const std::string& data) {
    char size[32];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    return size + data + "\r\n";
  }

  template <class Next>
  void write_raw(std::string data, Next next) {
    auto buf = std::make_shared<std::string>(std::move(data));
    net::async_write(stream_, net::buffer(*buf),
                     [self = this->shared_from_this(), buf,
                      next](beast::error_code ec, size_t) {
                       if (ec) {
                         self->active_.reset();
                         return self->close();
                       }
                       next(*self);
                     });
  }

  Stream stream_;
  server_state& st_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  std::optional<active_guard> active_;
  plan plan_;
  std::string path_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  size_t next_event_ = 0;
  int64_t event_gap_ms_ = 0;
  hold_state hold_state_ = hold_state::holding;
  uint64_t hold_id_ = 0;
  std::string hold_message_;
  bool watching_ = false;
  bool client_left_ = false;
};

// -- the acceptor
// ------------------------------------------------------------------

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(net::io_context& ioc, tcp::endpoint ep, server_state& st,
           ssl::context* tls)
    : ioc_(ioc), acceptor_(ioc), st_(st), tls_(tls) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  uint16_t port() const {
    return acceptor_.local_endpoint().port();
  }

  void accept() {
    acceptor_.async_accept(
      net::make_strand(ioc_),
      [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
        if (!ec)
          self->start(std::move(socket));
        else if (ec == net::error::no_descriptors)
          std::this_thread::sleep_for(std::chrono::milliseconds{10});
        if (self->acceptor_.is_open())
          self->accept();
      });
  }

  void close() {
    beast::error_code ec;
    acceptor_.close(ec);
  }

private:
  void start(tcp::socket socket) {
    socket.set_option(tcp::no_delay(true));
    if (tls_ != nullptr) {
      using stream = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<session<stream>>(stream{std::move(socket), *tls_}, st_)
        ->start_tls();
    } else {
      std::make_shared<session<beast::tcp_stream>>(
        beast::tcp_stream{std::move(socket)}, st_)
        ->start_plain();
    }
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  server_state& st_;
  ssl::context* tls_;
};

} // namespace

int main(const std::vector<std::string>& args) {
  options opts;
  bool help = false;
  auto err = parse_options(args, opts, help);
  if (help) {
    std::fputs(help_text, stdout);
    return 0;
  }
  if (!err.empty()) {
    std::fprintf(stderr,
                 "troupe fake-dify: %s\nRun `troupe fake-dify --help` for "
                 "usage.\n",
                 err.c_str());
    return 2;
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  server_state st;
  st.opts = opts;
  st.rng.seed(opts.seed);
  try {
    net::io_context ioc{opts.threads};
    // Declared after the io_context, so its timer goes first.
    std::optional<hold_barrier> barrier;
    if (opts.hold_until_active > 0)
      st.barrier
        = &barrier.emplace(ioc, opts.hold_until_active,
                           std::chrono::milliseconds{opts.hold_timeout_ms});
    std::optional<ssl::context> tls;
    if (!opts.tls_cert.empty()) {
      tls.emplace(ssl::context::tls_server);
      tls->use_certificate_chain_file(opts.tls_cert);
      tls->use_private_key_file(opts.tls_key, ssl::context::pem);
    }
    auto address = net::ip::make_address(opts.host);
    auto l = std::make_shared<listener>(ioc, tcp::endpoint{address, opts.port},
                                        st, tls ? &*tls : nullptr);
    l->accept();
    net::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&](beast::error_code, int) {
      l->close();
      ioc.stop();
    });
    auto host = opts.host.find(':') != std::string::npos ? "[" + opts.host + "]"
                                                         : opts.host;
    std::printf("fake-dify listening on %s://%s:%u\n", tls ? "https" : "http",
                host.c_str(), static_cast<unsigned>(l->port()));
    std::fflush(stdout);
    std::vector<std::thread> threads;
    for (int i = 1; i < opts.threads; ++i)
      threads.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : threads)
      t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "troupe fake-dify: %s\n", e.what());
    return 2;
  }
  return 0;
}

} // namespace troupe::fake_dify
