#pragma once

// The addresses of `troupe node`s: "HOST:PORT", as --nodes, --listen and
// execution_policy.nodes give them, and as result lines name a node.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace troupe::config {

/// One `HOST:PORT`.
struct node_address {
  std::string host;
  uint16_t port = 0;

  /// "host:port", as results name the node.
  std::string text() const;
};

/// Parses one "HOST:PORT" or "[IPv6]:PORT" (a port from 1 to 65535; 0 too
/// with `any_port`, for a listener that lets the system choose); the error
/// quotes the text.
std::variant<node_address, std::string>
parse_node_address(const std::string& text, bool any_port = false);

/// Parses "HOST:PORT[,HOST:PORT...]"; the error names the bad entry.
std::variant<std::vector<node_address>, std::string>
parse_node_addresses(const std::string& list);

} // namespace troupe::config
