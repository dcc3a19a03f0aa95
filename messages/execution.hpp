#pragma once

// What a worker asks an executor (stub, Dify, HTTP) for one attempt, and the
// classified answer it gets back. Classification happens in the executor; the
// worker only decides what to do next.

#include "messages/task.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace troupe {

/// How an attempt ended, from the retry policy's point of view.
enum class outcome : uint8_t {
  success,   ///< SUCCEEDED
  failure,   ///< FAILED, retryable (5xx, stub "failure")
  rejected,  ///< FAILED, never retried (other 4xx, failed Dify run, "fatal")
  throttled, ///< FAILED, retryable, the service asked us to slow down
  timeout,   ///< TIMEOUT, retryable
  error,     ///< ERROR, retryable
  abort_run, ///< FAILED, and the whole run must stop (401, 403, quota)
  cancelled, ///< CANCELLED: stopped at our request (a Dify stop call)
  /// ERROR, never retried: a retry would only repeat it, at a cost (a stream
  /// over max_response_bytes reruns the whole workflow)
  error_final,
};

/// Used by CAF's deep_to_string.
std::string to_string(outcome x);

/// The status an attempt with this outcome gets.
task_status status_of(outcome x) noexcept;

/// One attempt of one task, sent to an executor.
struct attempt_request {
  /// Unique per worker and attempt; an abort names it.
  uint64_t request_id = 0;
  /// 1 for the first attempt.
  uint32_t attempt = 1;
  task_spec task;
  /// Steady-clock microseconds when the worker sent it, 0 when unknown: the
  /// start of the attempt's queue time (the HTTP executor's queue_us).
  int64_t sent_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attempt_request& x) {
  return f(caf::meta::type_name("troupe::attempt_request"), x.request_id,
           x.attempt, x.task, x.sent_us);
}

/// The classified answer to an `attempt_request`.
struct attempt_reply {
  outcome result = outcome::success;
  int32_t http_status = 0;
  std::string error;
  std::string error_code;
  /// The output as JSON text (an object, or a JSON string), empty for none.
  std::string output_json;
  int64_t tokens = -1;
  /// A stream: from the wire's start (as latency_us) to the chunk with its
  /// first event; -1 for none.
  int64_t first_event_us = -1;
  /// The server's Retry-After, -1 when absent.
  int64_t retry_after_us = -1;
  dify_info dify;
  /// HTTP targets: the wire time (request out to the answer's last byte),
  /// the wait before it, and a new connection's set-up; -1 where unknown
  /// (the stub, a call that never reached the wire). See attempt_times.hpp.
  int64_t latency_us = -1;
  int64_t queue_us = -1;
  int64_t connect_us = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attempt_reply& x) {
  return f(caf::meta::type_name("troupe::attempt_reply"), x.result,
           x.http_status, x.error, x.error_code, x.output_json, x.tokens,
           x.first_event_us, x.retry_after_us, x.dify, x.latency_us, x.queue_us,
           x.connect_us);
}

/// One finished attempt, as the library's on_attempt callback sees it
/// (runtime/troupe.hpp). Not a message: a worker hands it to a function.
struct attempt_event {
  std::string task_id;
  /// 1 for the task's first attempt.
  uint32_t attempt = 1;
  /// SUCCEEDED, FAILED, TIMEOUT, ERROR or CANCELLED.
  task_status status = task_status::running;
  /// Microseconds since the run started, and how long the attempt took.
  int64_t started_us = 0;
  int64_t duration_us = 0;
  std::string error;
  int32_t http_status = 0;
  /// HTTP attempts that reached the wire, as in the attempt_log: the wire
  /// time, the wait before it and a new connection's set-up (0 on a reused
  /// one); -1 otherwise.
  int64_t latency_us = -1;
  int64_t queue_us = -1;
  int64_t connect_us = -1;
  /// Whether another attempt follows, and after how long (-1 when none).
  bool will_retry = false;
  int64_t retry_delay_us = -1;
};

/// The HTTP executor's answer to `status`: the calls it made, and the Dify
/// stop calls among them.
struct http_executor_status {
  uint64_t calls = 0;
  uint64_t stop_calls = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_executor_status& x) {
  return f(caf::meta::type_name("troupe::http_executor_status"), x.calls,
           x.stop_calls);
}

} // namespace troupe
