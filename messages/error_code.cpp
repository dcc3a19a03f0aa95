// The text of troupe's error codes, as result lines carry them.

#include "messages/error_code.hpp"

namespace troupe {

std::string_view to_string(error_code x) noexcept {
  switch (x) {
    case error_code::timeout:
      return "timeout";
    case error_code::cancelled:
      return "cancelled";
    case error_code::executor_exception:
      return "executor_exception";
    case error_code::executor:
      return "executor";
    case error_code::internal:
      return "internal";
    case error_code::worker_crashed:
      return "worker_crashed";
    case error_code::stub_failure:
      return "stub_failure";
    case error_code::stub_fatal:
      return "stub_fatal";
    case error_code::stub_error:
      return "stub_error";
    case error_code::connection:
      return "connection";
    case error_code::tls:
      return "tls";
    case error_code::response_too_large:
      return "response_too_large";
    case error_code::malformed_response:
      return "malformed_response";
    case error_code::stream_cut:
      return "stream_cut";
    case error_code::template_value:
      return "template";
    case error_code::output_pointer:
      return "output_pointer";
    case error_code::spawn_failed:
      return "spawn_failed";
    case error_code::killed_by_signal:
      return "killed_by_signal";
  }
  return "unknown";
}

std::string http_error_code(int status, std::string_view service_code) {
  auto out = "http_" + std::to_string(status);
  if (!service_code.empty()) {
    out += ':';
    out += service_code;
  }
  return out;
}

std::string exit_error_code(int status) {
  return "exit_" + std::to_string(status);
}

std::string workflow_error_code(std::string_view run_status) {
  std::string out = "workflow_";
  out += run_status.empty() ? std::string_view{"unknown"} : run_status;
  return out;
}

} // namespace troupe
