#pragma once

// The supervisor's side of the nodes of a run (`troupe run --nodes`): the
// address list, and the start-up that connects to each node, compares
// versions and has it prepare the manifest. Any refusal ends the run before
// it starts (exit 2), naming the node.

#include "actors/supervisor/supervisor.hpp"
#include "config/manifest.hpp"
#include "config/node_address.hpp"
#include "runtime/run.hpp"

#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

struct addrinfo;

namespace troupe::runtime {

using config::node_address;
using config::parse_node_address;
using config::parse_node_addresses;

/// Resolves `addr` (`passive`: as an address to listen on) and hands each
/// address it gives a new TCP socket (with `socket_flags`, such as
/// SOCK_NONBLOCK) until `f(fd, address)` returns true; each socket is
/// closed after its try. "" or the resolver's error.
std::string
each_tcp_socket(const node_address& addr, bool passive, int socket_flags,
                const std::function<bool(int, const ::addrinfo&)>& f);

/// "" when a node's `hello` answer matches this troupe, else the refusal
/// naming both versions.
std::string version_mismatch(const std::string& name,
                             const std::string& their_version,
                             uint64_t their_protocol);

/// The nodes of a run: --nodes, --local-workers and --node-grace go over
/// the manifest's execution_policy.nodes, local_workers and
/// node_grace_seconds; then the flags that need nodes or TLS are checked,
/// and the TLS files. "" or the error (exit 2).
std::string settle_nodes(const run_options& opts, config::manifest& m);

/// Connects to every node (the system must have the middleman, and with
/// `tls` CAF's OpenSSL manager), checks its version and has it prepare
/// `manifest_text` (with `sent_key`, or "" for the node's own): the links,
/// or the error to print (the first failing node's, in the order given).
/// Up to 16 nodes at once, a thread each.
std::variant<std::vector<node_link>, std::string>
connect_nodes(caf::actor_system& sys, const std::vector<node_address>& nodes,
              const std::string& manifest_text, bool tls = false,
              const std::string& sent_key = {});

} // namespace troupe::runtime
