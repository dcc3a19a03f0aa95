// Start-up of a run's nodes: connect, hello (versions), prepare (manifest).

#include "runtime/nodes.hpp"

#include "runtime/run.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

namespace troupe::runtime {

namespace {

/// A node that does not answer within this is refused.
constexpr auto node_reply_limit = std::chrono::seconds{10};

// The node's reply to hello, or why there is none.
std::string check_versions(caf::scoped_actor& self, const node_actor& node,
                           const std::string& name, uint32_t& workers) {
  std::string error;
  self
    ->request(node, node_reply_limit, hello_atom::value, std::string{version()},
              node_protocol())
    .receive(
      [&](std::string& v, uint64_t protocol, uint32_t n) {
        if (v != version() || protocol != node_protocol())
          error = fmt::format(
            "node {} runs troupe {} (protocol {:016x}), this is troupe {} "
            "(protocol {:016x}); run the same troupe on every machine",
            name, v, protocol, version(), node_protocol());
        workers = n;
      },
      [&](caf::error& e) {
        error = fmt::format("node {} did not answer hello ({})", name,
                            self->system().render(e));
      });
  return error;
}

std::string prepare(caf::scoped_actor& self, const node_actor& node,
                    const std::string& name, const std::string& manifest) {
  std::string error;
  self->request(node, node_reply_limit, prepare_atom::value, manifest)
    .receive(
      [&](std::string& why) {
        if (!why.empty())
          error = fmt::format("node {} refuses the run: {}", name, why);
      },
      [&](caf::error& e) {
        error = fmt::format("node {} did not answer prepare ({})", name,
                            self->system().render(e));
      });
  return error;
}

} // namespace

std::string node_address::text() const {
  return host + ":" + std::to_string(port);
}

std::variant<node_address, std::string>
parse_node_address(const std::string& text, bool any_port) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return "\"" + text + "\" is not HOST:PORT (a port from 1 to 65535)";
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return bad();
  auto port_text = text.substr(colon + 1);
  char* end = nullptr;
  auto port = std::strtoul(port_text.c_str(), &end, 10);
  if (*end != '\0' || port < (any_port ? 0u : 1u) || port > 65535
      || port_text[0] == '-')
    return bad();
  node_address out;
  out.host = text.substr(0, colon);
  // [::1]:7100
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']')
    out.host = out.host.substr(1, out.host.size() - 2);
  out.port = static_cast<uint16_t>(port);
  return out;
}

std::variant<std::vector<node_address>, std::string>
parse_node_addresses(const std::string& list) {
  std::vector<node_address> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    auto comma = list.find(',', pos);
    auto item = list.substr(pos, comma == std::string::npos ? std::string::npos
                                                            : comma - pos);
    auto parsed = parse_node_address(item);
    if (auto* err = std::get_if<std::string>(&parsed))
      return *err;
    out.push_back(std::get<node_address>(parsed));
    if (comma == std::string::npos)
      break;
    pos = comma + 1;
  }
  return out;
}

std::variant<std::vector<node_link>, std::string>
connect_nodes(caf::actor_system& sys, const std::vector<node_address>& nodes,
              const std::string& manifest_text, bool tls) {
  std::vector<node_link> out;
  caf::scoped_actor self{sys};
  for (auto& addr : nodes) {
    node_link link;
    link.name = addr.text();
    // Untyped: a typed remote_actor compares interfaces first and fails
    // without telling the node's version (docs/distribution-plan.md).
    auto handle = tls ? caf::openssl::remote_actor(sys, addr.host, addr.port)
                      : sys.middleman().remote_actor(addr.host, addr.port);
    // A peer that refuses our certificate, or whose certificate our CA did
    // not sign, ends the connection in the handshake (caf-0.17.md §6), and
    // so does a TLS node to a plain connection.
    if (!handle && handle.error() == caf::sec::disconnect_during_handshake)
      return fmt::format(
        tls ? "node {}: the TLS handshake failed ({}): each side's "
              "certificate must be signed by the other side's --tls-ca"
            : "node {} closed the connection in the handshake ({}): a node "
              "with TLS needs --tls-cert, --tls-key and --tls-ca",
        link.name, sys.render(handle.error()));
    if (!handle)
      return fmt::format("node {} is unreachable ({})", link.name,
                         sys.render(handle.error()));
    link.node = caf::actor_cast<node_actor>(*handle);
    if (auto err = check_versions(self, link.node, link.name, link.workers);
        !err.empty())
      return err;
    if (auto err = prepare(self, link.node, link.name, manifest_text);
        !err.empty())
      return err;
    out.push_back(std::move(link));
  }
  return out;
}

} // namespace troupe::runtime
