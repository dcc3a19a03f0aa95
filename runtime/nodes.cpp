// Start-up of a run's nodes: connect, hello (versions), prepare (manifest).

#include "runtime/nodes.hpp"

#include "runtime/run.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>

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
        error = version_mismatch(name, v, protocol);
        workers = n;
      },
      [&](caf::error& e) {
        error = fmt::format("node {} did not answer hello ({})", name,
                            self->system().render(e));
      });
  return error;
}

std::string prepare(caf::scoped_actor& self, const node_actor& node,
                    const std::string& name, const std::string& manifest,
                    const std::string& key) {
  std::string error;
  self->request(node, node_reply_limit, prepare_atom::value, manifest, key)
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

std::string version_mismatch(const std::string& name,
                             const std::string& their_version,
                             uint64_t their_protocol) {
  if (their_version == version() && their_protocol == node_protocol())
    return {};
  return fmt::format(
    "node {} runs troupe {} (protocol {:016x}), this is troupe {} "
    "(protocol {:016x}); run the same troupe on every machine",
    name, their_version, their_protocol, version(), node_protocol());
}

std::string settle_nodes(const run_options& opts, config::manifest& m) {
  auto& e = m.execution;
  if (!opts.nodes.empty()) {
    auto parsed = parse_node_addresses(opts.nodes);
    if (auto* err = std::get_if<std::string>(&parsed))
      return "run: --nodes: " + *err;
    e.nodes = std::get<std::vector<node_address>>(parsed);
  }
  if (opts.local_workers)
    e.local_workers = opts.local_workers;
  if (opts.node_grace_seconds)
    e.node_grace_seconds = opts.node_grace_seconds;
  auto needs_nodes = [&](const std::string& what) {
    return "run: " + what + " (--nodes, or execution_policy.nodes in "
           + opts.manifest + ")";
  };
  if (e.nodes.empty()) {
    if (opts.tls.enabled())
      return needs_nodes("--tls-cert, --tls-key and --tls-ca need nodes");
    if (opts.local_workers)
      return needs_nodes("--local-workers needs nodes");
    if (opts.node_grace_seconds)
      return needs_nodes("--node-grace needs nodes");
    if (opts.send_keys)
      return needs_nodes("--send-keys needs nodes");
    return {};
  }
  if (opts.virtual_time)
    return needs_nodes("--virtual-time runs in this process only, not on "
                       "nodes");
  if (opts.send_keys && !opts.tls.enabled())
    return "run: --send-keys sends the API key to the nodes, so it needs "
           "TLS (--tls-cert, --tls-key and --tls-ca)";
  if (opts.tls.enabled())
    if (auto err = check_tls_files(opts.tls); !err.empty())
      return "run: " + err;
  return {};
}

std::string
each_tcp_socket(const node_address& addr, bool passive, int socket_flags,
                const std::function<bool(int, const addrinfo&)>& f) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* found = nullptr;
  auto port = std::to_string(addr.port);
  if (int rc = ::getaddrinfo(addr.host.c_str(), port.c_str(), &hints, &found);
      rc != 0)
    return ::gai_strerror(rc);
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    int fd
      = ::socket(a->ai_family, a->ai_socktype | socket_flags, a->ai_protocol);
    if (fd < 0)
      continue;
    bool done = f(fd, *a);
    ::close(fd);
    if (done)
      break;
  }
  ::freeaddrinfo(found);
  return {};
}

namespace {

// Whether a plain TCP connection to the node opens within a second: after a
// failed TLS connect, it tells a refused handshake from a node that is not
// there (CAF reports a handshake that the peer cut early as
// cannot_connect_to_node too, depending on timing).
bool tcp_reachable(const node_address& addr) {
  bool ok = false;
  each_tcp_socket(addr, false, SOCK_NONBLOCK, [&](int fd, const addrinfo& a) {
    if (::connect(fd, a.ai_addr, a.ai_addrlen) == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      ok = ::poll(&p, 1, 1000) == 1
           && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0
           && err == 0;
    }
    return ok;
  });
  return ok;
}

// Connects to one node, checks its version and has it prepare the run: its
// link, or the error to print.
std::variant<node_link, std::string>
connect_node(caf::actor_system& sys, const node_address& addr,
             const std::string& manifest_text, bool tls,
             const std::string& sent_key) {
  caf::scoped_actor self{sys};
  node_link link;
  link.name = addr.text();
  // Untyped: a typed remote_actor compares interfaces first and fails
  // without telling the node's version (docs/distribution-plan.md).
  auto handle = tls ? caf::openssl::remote_actor(sys, addr.host, addr.port)
                    : sys.middleman().remote_actor(addr.host, addr.port);
  // A peer that refuses our certificate, or whose certificate our CA did
  // not sign, ends the connection in the handshake (caf-0.17.md §6), and
  // so does a TLS node to a plain connection.
  if (!handle && tls
      && (handle.error() == caf::sec::disconnect_during_handshake
          || tcp_reachable(addr)))
    return fmt::format("node {}: the TLS handshake failed: each side's "
                       "certificate must be signed by the other side's "
                       "--tls-ca",
                       link.name);
  if (!handle && handle.error() == caf::sec::disconnect_during_handshake)
    return fmt::format("node {} closed the connection in the handshake "
                       "({}): a node with TLS needs --tls-cert, --tls-key "
                       "and --tls-ca",
                       link.name, sys.render(handle.error()));
  if (!handle)
    return fmt::format("node {} is unreachable ({})", link.name,
                       sys.render(handle.error()));
  link.node = caf::actor_cast<node_actor>(*handle);
  if (auto err = check_versions(self, link.node, link.name, link.workers);
      !err.empty())
    return err;
  if (auto err = prepare(self, link.node, link.name, manifest_text, sent_key);
      !err.empty())
    return err;
  return link;
}

/// Nodes connected to at once, each on a thread of its own: with many
/// nodes far away, one after the other would take the round trips of all.
constexpr size_t connect_threads = 16;

} // namespace

std::variant<std::vector<node_link>, std::string>
connect_nodes(caf::actor_system& sys, const std::vector<node_address>& nodes,
              const std::string& manifest_text, bool tls,
              const std::string& sent_key) {
  std::vector<std::variant<node_link, std::string>> got(nodes.size());
  std::atomic<size_t> next{0};
  auto connect_some = [&] {
    for (auto i = next++; i < nodes.size(); i = next++)
      got[i] = connect_node(sys, nodes[i], manifest_text, tls, sent_key);
  };
  std::vector<std::thread> threads;
  for (size_t i = 1; i < std::min(nodes.size(), connect_threads); ++i)
    threads.emplace_back(connect_some);
  connect_some();
  for (auto& t : threads)
    t.join();
  // The first node's error in the order given, whichever failed first.
  std::vector<node_link> out;
  for (auto& g : got) {
    if (auto* err = std::get_if<std::string>(&g))
      return std::move(*err);
    out.push_back(std::move(std::get<node_link>(g)));
  }
  // Two names of one node (localhost and 127.0.0.1): it would host twice
  // its --workers, and its loss would count as two.
  for (size_t j = 1; j < out.size(); ++j)
    for (size_t i = 0; i < j; ++i)
      if (out[i].node.node() == out[j].node.node())
        return fmt::format("nodes {} and {} are the same troupe node (a node "
                           "runs one supervisor's tasks; list it once)",
                           out[i].name, out[j].name);
  return out;
}

} // namespace troupe::runtime
