// The flags: CLI11 reads the command line, and each value is checked as the
// server always has (decimal integers, numbers, HOST:PORT, N or MIN-MAX),
// with an error that says what was expected.

#include "tools/fake_dify/options.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace troupe::fake_dify {

namespace {

constexpr const char* description
  = "A local HTTP server that speaks the Dify Service API: /v1/workflows/run,\n"
    "/v1/chat-messages, /v1/completion-messages (blocking and streaming),\n"
    "their stop calls, /v1/workflows/run/{id}, /v1/parameters, /v1/info and\n"
    "/v1/. It prints \"fake-dify listening on URL\" once ready (port 0 picks "
    "a\n"
    "free port).";

std::string footer() {
  return "Per request, reserved input fields choose a fault for that call "
         "only:\n"
         "  \"_fault\": "
         + fault_names("            ")
         + "\n"
           "                         echo_key: a success whose output "
           "(workflow outputs,\n"
           "                         or the answer) is \"you sent \" and the "
           "request's\n"
           "                         whole Authorization header; "
           "echo_key_error: a 400\n"
           "                         invalid_param \"you sent Bearer <key>\" "
           "(a server that\n"
           "                         leaks the key, for redaction tests)\n"
           "  \"_fault_times\": N      only the first N calls with the same "
           "\"_fault_key\"\n"
           "                         (default: the same inputs) get the "
           "fault\n"
           "                         chatflow, chatflow_failed: an "
           "advanced-chat run on\n"
           "                         /chat-messages; linger: the stream "
           "stays open after\n"
           "                         its final event; long: 48 node events "
           "of 40 KiB\n"
           "  \"_latency_ms\": N       this call's latency\n"
           "GET /_fake/stats reports the calls, statuses and stop calls seen, "
           "the most\n"
           "calls open at once (\"max_active\"), and the barrier's state "
           "(\"held\",\n"
           "\"hold_released\", \"hold_timeouts\").";
}

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

// A decimal integer from `min` to `max`, or the error `expected`.
int64_t int_in(const std::string& flag, const std::string& value, int64_t min,
               int64_t max, const std::string& expected) {
  int64_t n = 0;
  if (!parse_int(value, n) || n < min || n > max)
    throw CLI::ValidationError(flag, expected);
  return n;
}

void parse_listen(const std::string& value, options& o) {
  auto colon = value.rfind(':');
  int64_t n = 0;
  if (colon == std::string::npos || !parse_int(value.substr(colon + 1), n)
      || n < 0 || n > 65535)
    throw CLI::ValidationError("--listen",
                               "expected HOST:PORT, got \"" + value + "\"");
  o.host = value.substr(0, colon);
  if (o.host.size() > 1 && o.host.front() == '[' && o.host.back() == ']')
    o.host = o.host.substr(1, o.host.size() - 2);
  o.port = static_cast<uint16_t>(n);
}

void parse_latency(const std::string& value, fault_settings& f) {
  auto dash = value.find('-');
  int64_t lo = 0;
  int64_t hi = 0;
  if (dash == std::string::npos ? !parse_int(value, lo)
                                : !parse_int(value.substr(0, dash), lo)
                                    || !parse_int(value.substr(dash + 1), hi))
    throw CLI::ValidationError("--latency-ms",
                               "expected N or MIN-MAX, got \"" + value + "\"");
  if (dash == std::string::npos)
    hi = lo;
  if (lo < 0 || hi < lo)
    throw CLI::ValidationError("--latency-ms", "expected 0 <= MIN <= MAX");
  f.latency_min_ms = lo;
  f.latency_max_ms = hi;
}

double share(const std::string& flag, const std::string& value) {
  double d = 0;
  if (!parse_number(value, d) || d < 0 || d > 1)
    throw CLI::ValidationError(flag, "expected a number from 0 to 1, got \""
                                       + value + "\"");
  return d;
}

// Adds --NAME VALUE, handing the value to `set` once parsing is over.
template <class Set>
CLI::Option* add(CLI::App& app, const std::string& name,
                 const std::string& value_name, const std::string& help,
                 Set set) {
  return app.add_option_function<std::string>(name, set, help)
    ->type_name(value_name);
}

} // namespace

std::optional<int> parse_options(const std::vector<std::string>& args,
                                 options& o) {
  constexpr auto max = std::numeric_limits<int64_t>::max();
  CLI::App app{description, "troupe fake-dify"};
  app.footer(footer());
  // The last of a repeated flag wins, as it always has.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  auto& f = o.faults;
  auto* listen
    = add(app, "--listen", "HOST:PORT", "address to serve on (required)",
          [&](const std::string& v) { parse_listen(v, o); });
  app
    .add_option("--api-key", o.api_key,
                "the bearer key to require; without it, any key is taken")
    ->type_name("KEY")
    ->envname("FAKE_DIFY_API_KEY");
  add(app, "--latency-ms", "N|MIN-MAX",
      "fixed or random latency of every run call",
      [&](const std::string& v) { parse_latency(v, f); });
  add(
    app, "--failure-rate", "P", "this share of run calls answers 500",
    [&](const std::string& v) { f.failure_rate = share("--failure-rate", v); });
  add(app, "--rate-429", "P", "this share answers 429 too_many_requests",
      [&](const std::string& v) { f.rate_429 = share("--rate-429", v); });
  add(app, "--retry-after", "S", "429s carry \"Retry-After: S\"",
      [&](const std::string& v) {
        f.retry_after_s
          = int_in("--retry-after", v, 0, max, "expected seconds >= 0");
      });
  add(app, "--max-active", "N",
      "over N calls at once, answer 400 \"Too many requests\" (Dify's "
      "APP_MAX_ACTIVE_REQUESTS)",
      [&](const std::string& v) {
        o.max_active
          = int_in("--max-active", v, 1, max, "expected an integer >= 1");
      });
  add(app, "--throttle", "400|429",
      "how --max-active refuses: 400 invalid_param \"Too many requests...\" "
      "without Retry-After, as Dify's /v1 does (default), or 429 "
      "too_many_requests with Retry-After (--retry-after, else 1)",
      [&](const std::string& v) {
        if (v != "400" && v != "429")
          throw CLI::ValidationError("--throttle",
                                     "expected 400 or 429, got \"" + v + "\"");
        f.throttle_429 = v == "429";
      });
  add(app, "--max-upload-bytes", "N",
      "uploads over N bytes answer 413 file_too_large (default 15 MiB, "
      "Dify's UPLOAD_FILE_SIZE_LIMIT)",
      [&](const std::string& v) {
        o.max_upload_bytes = static_cast<uint64_t>(
          int_in("--max-upload-bytes", v, 1, max, "expected an integer >= 1"));
      });
  add(app, "--stream-events", "N",
      "a streaming run call sends N SSE events in all (6 to 100000): its "
      "app's framing events (a ping first) and, between them, text_chunk "
      "events (a workflow) or message events (chat, completion) that split "
      "the answer; the latency is spread evenly between the events",
      [&](const std::string& v) {
        f.stream_events = int_in("--stream-events", v, 6, 100000,
                                 "expected an integer from 6 to 100000");
      });
  app.add_flag_callback(
    "--stop-fails", [&] { f.stop_fails = true; },
    "a stop ends the run \"failed\" (as when Dify's graph engine is "
    "aborted), not \"stopped\"");
  add(app, "--hold-until-active", "N",
      "a barrier: hold every run call, unanswered, until N are open at once; "
      "then the held calls and all later ones go on as usual (their latency "
      "starts then)",
      [&](const std::string& v) {
        o.hold_until_active = int_in("--hold-until-active", v, 1, max,
                                     "expected an integer >= 1");
      });
  add(app, "--hold-timeout-ms", "T",
      "if N calls are not open within T ms of the first held call (default "
      "60000), the held calls answer 503 \"hold-until-active: only K of N "
      "calls arrived within T ms\", and the next call starts a new wait",
      [&](const std::string& v) {
        o.hold_timeout_ms = int_in("--hold-timeout-ms", v, 1, max,
                                   "expected milliseconds >= 1");
      });
  app
    .add_option("--tls-cert", o.tls_cert,
                "serve HTTPS with this certificate (PEM) ...")
    ->type_name("FILE");
  app.add_option("--tls-key", o.tls_key, "... and this key")->type_name("FILE");
  add(app, "--threads", "N", "event-loop threads (default 1)",
      [&](const std::string& v) {
        o.threads
          = static_cast<int>(int_in("--threads", v, 1, 64, "expected 1 to 64"));
      });
  app
    .add_option("--timing-log", o.timing_log,
                "append one JSON line per run call answered: its \"inputs\", "
                "and \"received_us\" (request read), \"answered_us\" (last "
                "byte written) and \"hold_us\" (the two apart), on a steady "
                "clock in microseconds; and \"first_event_us\" (a stream's "
                "first data event written, not a ping; null for a blocking "
                "answer) and \"events\" (the SSE events written, pings "
                "too; 0 for a blocking answer)")
    ->type_name("FILE");
  add(app, "--seed", "N", "seeds the random faults and latencies",
      [&](const std::string& v) {
        o.seed = static_cast<uint64_t>(
          int_in("--seed", v, 0, max, "expected an integer >= 0"));
      });
  try {
    // CLI11 takes its arguments last first.
    std::vector<std::string> reversed{args.rbegin(), args.rend()};
    app.parse(reversed);
    if (listen->count() == 0)
      throw CLI::ValidationError("missing --listen HOST:PORT");
    if (o.tls_cert.empty() != o.tls_key.empty())
      throw CLI::ValidationError("--tls-cert and --tls-key go together");
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr,
               "troupe fake-dify: {}\nRun `troupe fake-dify --help` for "
               "usage.\n",
               e.what());
    return 2;
  }
  return std::nullopt;
}

} // namespace troupe::fake_dify
