#pragma once

// What fake-dify answers, decided without I/O: the session reads a request,
// asks the plan, and carries the plan out on the wire.
//
//   request ─▶ route_of ─▶ endpoint ─▶ plan_run / plan_stop / fixed replies
//                                          │ ids, clock, dice, fault counts
//                                          ▼ from a plan_source
//                               plan: status + body, SSE events, latency,
//                                     or a wire fault (reset, cut, hang)

#include "tools/fake_dify/fault.hpp"

#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe::fake_dify {

class upload_store;

/// The three kinds of Dify app, one run endpoint each.
enum class app_kind { workflow, chat, completion };

/// The flags that shape every run call.
struct fault_settings {
  int64_t latency_min_ms = 0;
  int64_t latency_max_ms = 0;
  double failure_rate = 0; // this share answers 500
  double rate_429 = 0;     // this share answers 429
  int64_t retry_after_s = -1;
  /// A stop ends the run "failed" (Dify's graph engine aborted), not
  /// "stopped" (--stop-fails).
  bool stop_fails = false;
  /// Over --max-active, answer 429 too_many_requests with Retry-After
  /// (--throttle 429) instead of Dify's own 400 "Too many requests".
  bool throttle_429 = false;
  /// A streaming run's stream holds this many SSE events in all, its
  /// answer split over as many content events as that leaves
  /// (--stream-events); 0: the app's usual stream.
  int64_t stream_events = 0;
};

/// What a plan draws on besides the request; the server's is shared by its
/// threads, a test's is scripted.
class plan_source {
public:
  virtual ~plan_source() = default;
  /// The number of the next id (1, 2, ...).
  virtual uint64_t next_id() = 0;
  /// Seconds since the epoch.
  virtual int64_t now() = 0;
  /// A uniform draw from [0, 1).
  virtual double draw() = 0;
  /// A uniform draw from [lo, hi].
  virtual int64_t draw_between(int64_t lo, int64_t hi) = 0;
  /// Counts one more call under a "_fault_key"; returns the count with it.
  virtual int64_t count_fault(const std::string& key) = 0;
  /// The queries so far of `user`'s conversation `id`, oldest first;
  /// nothing when it has no such conversation.
  virtual std::optional<std::vector<std::string>>
  conversation(const std::string& user, const std::string& id) = 0;
  /// Adds `query` to `user`'s conversation `id` (starting it if new).
  virtual void remember_turn(const std::string& user, const std::string& id,
                             const std::string& query)
    = 0;
  /// The files uploaded so far (uploads.hpp), null where none can be.
  virtual const upload_store* uploads() {
    return nullptr;
  }
};

/// A planned answer: a plain response, a stream, or a fault on the wire.
struct plan {
  enum kind_t { respond, stream, reset, cut, hang } kind = respond;
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> events; // stream: SSE frames, in order
  std::string task_id;
  app_kind app = app_kind::workflow;
  std::string final_event; // stream: the frames to send if stopped
  /// stream: keep the connection open after the last event.
  bool linger = false;
  int64_t latency_ms = 0;
  std::string conversation_id; // a chat app's answer: its conversation
  std::string run_id;          // a workflow run, for GET /v1/workflows/run/{id}
  std::string run_json;        // ... and what that call answers
};

// -- routing --

/// What a request asks for.
enum class endpoint {
  stats,      // GET /_fake/stats, no key needed
  welcome,    // GET /v1/, no key needed
  parameters, // GET /v1/parameters
  info,       // GET /v1/info
  run_lookup, // GET /v1/workflows/run/{id}
  stop,       // POST .../{id}/stop
  run,        // POST a run endpoint
  upload,     // POST /v1/files/upload
  not_found,
};

/// An endpoint, with the app of a run and the id of a lookup or a stop.
struct route {
  endpoint to = endpoint::not_found;
  app_kind app = app_kind::workflow;
  std::string id;
};

/// Routes a request by method and path (without its query).
route route_of(boost::beast::http::verb method, std::string_view path);

/// Whether an Authorization header carries a bearer key the server takes
/// (any key when `api_key` is empty).
bool authorized(std::string_view authorization, std::string_view api_key);

// -- plans --

/// Plans a run call: checks the body as Dify does, then picks the fault
/// (its own "_fault", or a random one from the settings) and the latency.
plan plan_run(app_kind app, std::string_view body,
              std::string_view authorization, const fault_settings& settings,
              plan_source& source);

/// A stop call's answer, and the task it stops (empty when refused).
struct stop_plan {
  plan answer;
  std::string task_id;
};

/// Plans a stop call for the task `id`: it needs a "user".
stop_plan plan_stop(const std::string& id, std::string_view body);

/// A Dify error: {"code", "message", "status"} with that status.
plan error_plan(int status, std::string_view code, std::string_view message);

/// A 200 with this JSON body.
plan json_plan(std::string body);

/// The answer of an endpoint that needs no state: welcome, parameters,
/// info, not_found; and the 401 of a missing or wrong key.
plan fixed_plan(endpoint to);
plan unauthorized_plan();

/// The 400 Dify answers over APP_MAX_ACTIVE_REQUESTS (--max-active), or
/// with --throttle 429 a 429 too_many_requests with the settings'
/// Retry-After (1 s when none is set).
plan too_many_active_plan(int64_t max_active, const fault_settings& s = {});

/// The 404 of a workflow run lookup that finds nothing.
plan run_not_found_plan();

// -- raw bytes --

/// "task-0000002a-0000-4000-8000-00000000002a" for ("task", 42).
std::string format_id(std::string_view prefix, uint64_t n);

/// One chunk of a chunked body.
std::string chunk(std::string_view data);

/// The last chunk of a chunked body.
constexpr std::string_view last_chunk = "0\r\n\r\n";

/// The head of an SSE response.
std::string stream_head(bool keep_alive);

/// What a reset call sends before it resets.
constexpr std::string_view reset_bytes
  = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 500\r\n\r\n{\"task_id\": \"t\", \"da";

/// What a cut call sends before it closes: the head and half the body.
std::string cut_bytes(std::string_view body);

} // namespace troupe::fake_dify
