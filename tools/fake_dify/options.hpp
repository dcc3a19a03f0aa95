#pragma once

// `troupe fake-dify`'s flags, parsed with CLI11.

#include "tools/fake_dify/plan.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace troupe::fake_dify {

/// What the flags set.
struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string api_key;
  fault_settings faults;
  int64_t max_active = 0;
  /// Larger uploads answer 413 file_too_large (Dify's 15 MB default).
  uint64_t max_upload_bytes = 15 * 1024 * 1024;
  int64_t hold_until_active = 0;
  int64_t hold_timeout_ms = 60000;
  std::string tls_cert;
  std::string tls_key;
  int threads = 1;
  uint64_t seed = 1;
  /// --timing-log: one JSON line per run call answered, empty for none.
  std::string timing_log;
};

/// Parses the flags (without the program and subcommand names) into `o`.
/// Returns the exit code when the command ends here: 0 after the help, 2
/// after a usage error (both printed); nothing when the server is to start.
std::optional<int> parse_options(const std::vector<std::string>& args,
                                 options& o);

} // namespace troupe::fake_dify
