#pragma once

// Scripted stub behaviours (product.md, "Scripted scenarios"): what one
// attempt of a stub task does.

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace troupe {

/// What a stub attempt does.
enum class stub_action : uint8_t {
  success,  ///< answers with an output
  failure,  ///< FAILED, retryable (as an HTTP 5xx)
  fatal,    ///< FAILED, never retried (as an HTTP 400)
  timeout,  ///< never answers, so the attempt's deadline fires
  error,    ///< ERROR (as a connection reset)
  throttle, ///< HTTP 429, with an optional Retry-After
  auth,     ///< HTTP 401: aborts the run
  crash,    ///< the executor throws while handling it: ERROR, retryable
};

/// One scripted attempt.
struct stub_behavior {
  stub_action action = stub_action::success;
  /// How long the stub takes to answer, -1 for the run's simulated delay.
  int64_t delay_us = -1;
  /// Retry-After of a "429:retry-after=S", -1 when absent.
  int64_t retry_after_us = -1;

  friend bool operator==(const stub_behavior& x, const stub_behavior& y) {
    return x.action == y.action && x.delay_us == y.delay_us
           && x.retry_after_us == y.retry_after_us;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stub_behavior& x) {
  return f(caf::meta::type_name("troupe::stub_behavior"), x.action, x.delay_us,
           x.retry_after_us);
}

/// The text form config::parse_stub_behavior accepts.
std::string to_string(const stub_behavior& x);

/// The stub executor's answer to `status`: the attempts it ran, and the
/// most it ran at once.
struct stub_executor_status {
  uint64_t executed = 0;
  uint64_t max_in_flight = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stub_executor_status& x) {
  return f(caf::meta::type_name("troupe::stub_executor_status"), x.executed,
           x.max_in_flight);
}

} // namespace troupe
