#pragma once

// The addresses of `troupe node`s: "HOST:PORT", as --nodes, --listen and
// execution_policy.nodes give them, and as result lines name a node.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
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

/// The first entry of `nodes` that repeats an earlier one, as {earlier,
/// later}: the same port and host, the host's letters in either case. Two
/// names of one host (localhost, 127.0.0.1) are told apart only once
/// connected, where the nodes' identities show it (runtime/nodes.cpp).
std::optional<std::pair<size_t, size_t>>
repeated_node(const std::vector<node_address>& nodes);

/// Parses "HOST:PORT[,HOST:PORT...]"; the error names the bad entry, or the
/// one given twice.
std::variant<std::vector<node_address>, std::string>
parse_node_addresses(const std::string& list);

} // namespace troupe::config
