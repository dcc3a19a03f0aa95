#pragma once

// `troupe node`: hosts workers for supervisors in other processes, over
// CAF's middleman, until Ctrl+C (docs/distribution-plan.md).

#include "runtime/system.hpp"

#include <cstdint>
#include <string>

namespace troupe::runtime {

/// Options of `troupe node`.
struct node_options {
  /// HOST:PORT to listen on.
  std::string listen = "127.0.0.1:7100";
  /// Workers per run.
  uint32_t workers = 8;
  /// Listen on an address other than loopback without TLS.
  bool insecure = false;
  /// Mutual TLS: accept only supervisors whose certificate the CA signed
  /// (any address, then, without `insecure`).
  tls_files tls;
};

/// Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback(const std::string& host);

/// Test-only: a version the node reports in `hello` instead of its own,
/// read from this environment variable by `troupe node` alone, so that a
/// test can see a version mismatch refused (tests/e2e/nodes_version).
inline constexpr const char* test_node_version_env = "TROUPE_TEST_NODE_VERSION";

/// Serves until SIGINT or SIGTERM; returns the exit code.
int serve_node(const node_options& opts);

} // namespace troupe::runtime
