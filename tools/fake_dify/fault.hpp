#pragma once

// The faults a run call can ask for by name, in its "_fault" input field or
// through the flags (--failure-rate plays "500", --rate-429 plays "429").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe::fake_dify {

/// One fault of the list in `troupe fake-dify --help`.
enum class fault {
  none,            // "": the normal answer
  server_error,    // "500"
  bad_gateway,     // "502"
  unavailable,     // "503"
  gateway_timeout, // "504"
  rate_limited,    // "429", "429:retry-after=S", "429-date:S"
  daily_limit,     // "daily": 429 rate_limit_error
  too_many,        // "too_many": 400 "Too many requests"
  invalid_param,   // "400"
  unauthorized,    // "401"
  forbidden,       // "403"
  not_found,       // "404"
  quota,           // "quota": 400 provider_quota_exceeded
  failed,          // a run that ends "failed"
  stopped,         // a run that ends "stopped"
  reset,           // headers, part of a body, a TCP reset
  malformed,       // half a JSON body
  cut,             // the body or stream ends early
  stream_error,    // an error event mid-stream (a 400 when blocking)
  hang,            // no answer at all
  large,           // a 4 MiB body
  echo_key,        // a success whose text repeats the Authorization header
  echo_key_error,  // a 400 whose message repeats it
  chatflow,        // a chatflow (advanced chat) run: node events,
                   // workflow_finished, then message_end
  chatflow_failed, // a chatflow whose run fails: workflow_finished(failed),
                   // then an error event
  linger,          // a stream that stays open after its final event
  long_run,        // "long": a stream of many large node events
};

/// A fault with the arguments its name carries.
struct fault_spec {
  fault kind = fault::none;
  /// rate_limited: "429:retry-after=S" sends "Retry-After: S".
  std::optional<int64_t> retry_after_s;
  /// rate_limited: "429-date:S" sends Retry-After as the HTTP date S s ahead.
  std::optional<int64_t> retry_date_in_s;
};

/// Parses a fault's name; nothing when no fault has that name.
std::optional<fault_spec> parse_fault(std::string_view name);

/// The names parse_fault knows, for the help: "\"500\" | \"502\" | ...",
/// in lines of about 66 characters, each after the first indented.
std::string fault_names(std::string_view indent);

} // namespace troupe::fake_dify
