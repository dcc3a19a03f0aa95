#pragma once

// The supervisor's side of the nodes of a run (`troupe run --nodes`): the
// address list, and the start-up that connects to each node, compares
// versions and has it prepare the manifest. Any refusal ends the run before
// it starts (exit 2), naming the node.

#include "actors/supervisor/supervisor.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace troupe::runtime {

/// One `HOST:PORT` of --nodes.
struct node_address {
  std::string host;
  uint16_t port = 0;

  /// "host:port", as results name the node.
  std::string text() const;
};

/// Parses "HOST:PORT[,HOST:PORT...]"; the error names the bad entry.
std::variant<std::vector<node_address>, std::string>
parse_node_addresses(const std::string& list);

/// Parses one "HOST:PORT" (a port from 1 to 65535; 0 too with
/// `any_port`, for a listener that lets the system choose).
std::variant<node_address, std::string>
parse_node_address(const std::string& text, bool any_port = false);

/// Connects to every node (the system must have the middleman, and with
/// `tls` CAF's OpenSSL manager), checks its version and has it prepare
/// `manifest_text`: the links, or the error to print.
std::variant<std::vector<node_link>, std::string>
connect_nodes(caf::actor_system& sys, const std::vector<node_address>& nodes,
              const std::string& manifest_text, bool tls = false);

} // namespace troupe::runtime
