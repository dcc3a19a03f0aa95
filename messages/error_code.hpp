#pragma once

// The error codes troupe itself gives an attempt or a task. The wire field
// (`error_code` in a result line) stays a string: Dify's own codes and the
// http_NNN family pass through it as the service gave them. Every code of
// troupe's own is named here once, with its text in error_code.cpp.

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

/// A code of troupe's own.
enum class error_code : uint8_t {
  // -- ended by troupe -------------------------------------------------------
  timeout,   ///< the attempt passed its deadline
  cancelled, ///< the run was cancelled before the task finished
  // -- broken on our side ----------------------------------------------------
  executor_exception, ///< the executor threw while serving the attempt
  executor,           ///< the executor died or failed the request
  internal,           ///< the worker's own code threw
  worker_crashed,     ///< the worker died holding the task
  // -- stub behaviours -------------------------------------------------------
  stub_failure,
  stub_fatal,
  stub_error,
  // -- transport and replies -------------------------------------------------
  connection,         ///< no answer: refused, reset, DNS
  tls,                ///< a certificate or handshake failure
  response_too_large, ///< the body passed target.max_response_bytes
  malformed_response, ///< not the JSON the protocol promises
  stream_cut,         ///< a stream ended before its final event
  template_value,     ///< a placeholder has no value in this task
  output_pointer,     ///< output_pointer matches nothing in the response
  // -- exec target -----------------------------------------------------------
  spawn_failed,     ///< the command could not be started
  killed_by_signal, ///< a signal troupe did not send ended the command
};

/// The code's text on the wire: "timeout", "stream_cut", "template", ...
std::string_view to_string(error_code x) noexcept;

/// The code of an HTTP error: "http_429", or with the service's own code
/// after a colon, "http_400:invalid_param".
std::string http_error_code(int status, std::string_view service_code = {});

/// The code of a command's exit status: "exit_75", "exit_1".
std::string exit_error_code(int status);

/// The code of a Dify workflow run that did not succeed:
/// "workflow_failed", "workflow_stopped", "workflow_unknown" (no status).
std::string workflow_error_code(std::string_view run_status);

} // namespace troupe
