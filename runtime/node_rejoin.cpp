// The rejoiner: reconnects to lost nodes, without blocking (every step is a
// request with a deadline), and hands the ones back to the supervisor.

#include "runtime/node_rejoin.hpp"

#include "actors/node/node.hpp"
#include "runtime/nodes.hpp"
#include "runtime/run.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <set>

namespace troupe::runtime {

namespace {

/// Between two tries to reach a lost node.
constexpr auto retry_every = std::chrono::seconds{1};
/// A connect, hello or prepare that does not answer within this failed.
constexpr auto step_limit = std::chrono::seconds{5};

struct watched_node {
  config::node_address addr;
  /// Null while lost.
  caf::actor node;
  /// A try is under way.
  bool trying = false;
  /// What the last try said, so that a node down for long is reported once
  /// per reason rather than every second.
  std::string last_error;
};

struct rejoin_state {
  rejoin_config cfg;
  std::vector<watched_node> nodes;
  static inline const char* name = "rejoiner";
};

using rejoin_pointer = caf::stateful_actor<rejoin_state>*;

void try_again(rejoin_pointer self, size_t i, const std::string& why) {
  auto& w = self->state.nodes[i];
  w.trying = false;
  if (why != w.last_error) {
    std::fprintf(stderr,
                 "troupe: node %s is lost; trying to reach it every second "
                 "(%s)\n",
                 w.addr.text().c_str(), why.c_str());
    w.last_error = why;
  }
  self->delayed_send(self, retry_every, wake_atom::value,
                     static_cast<int64_t>(i));
}

// Once connected: the same checks as at start, then the supervisor takes
// the node's workers.
void on_connected(rejoin_pointer self, size_t i, caf::actor node) {
  auto name = self->state.nodes[i].addr.text();
  auto fail = [=](const std::string& why) { try_again(self, i, why); };
  auto failed = [=](caf::error& e) { fail(self->system().render(e)); };
  self
    ->request(node, step_limit, hello_atom::value, std::string{version()},
              node_protocol())
    .then(
      [=](std::string& v, uint64_t protocol, uint32_t workers) {
        if (auto err = version_mismatch(name, v, protocol); !err.empty())
          return fail(err);
        auto& cfg = self->state.cfg;
        self
          ->request(node, step_limit, prepare_atom::value, cfg.manifest_text,
                    cfg.sent_key)
          .then(
            [=](std::string& why) {
              if (!why.empty())
                return fail("it refuses the run: " + why);
              auto& w = self->state.nodes[i];
              w.trying = false;
              w.last_error.clear();
              w.node = node;
              self->monitor(node);
              std::fprintf(stderr, "troupe: node %s is back with %u workers\n",
                           name.c_str(), static_cast<unsigned>(workers));
              self->send(self->state.cfg.supervisor, node_up_atom::value, name,
                         node, workers);
            },
            failed);
      },
      failed);
}

void on_retry(rejoin_pointer self, size_t i) {
  auto& w = self->state.nodes[i];
  if (w.node || w.trying)
    return;
  w.trying = true;
  auto& sys = self->system();
  auto connector = self->state.cfg.tls ? sys.openssl_manager().actor_handle()
                                       : sys.middleman().actor_handle();
  self
    ->request(connector, step_limit, caf::connect_atom::value, w.addr.host,
              w.addr.port)
    .then(
      [=](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
        if (!ptr)
          return try_again(self, i, "no troupe node listens there");
        on_connected(self, i, caf::actor_cast<caf::actor>(ptr));
      },
      [=](caf::error& e) { try_again(self, i, self->system().render(e)); });
}

caf::behavior rejoiner(rejoin_pointer self, rejoin_config cfg) {
  auto& st = self->state;
  for (auto& [addr, node] : cfg.nodes) {
    st.nodes.push_back(watched_node{addr, node, false, {}});
    self->monitor(node);
  }
  st.cfg = std::move(cfg);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& nodes = self->state.nodes;
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].node && nodes[i].node.address() == dm.source) {
        nodes[i].node = nullptr;
        self->delayed_send(self, retry_every, wake_atom::value,
                           static_cast<int64_t>(i));
      }
  });
  return {
    [=](wake_atom, int64_t i) { on_retry(self, static_cast<size_t>(i)); },
  };
}

} // namespace

caf::actor spawn_rejoiner(caf::actor_system& sys, rejoin_config cfg) {
  return sys.spawn(rejoiner, std::move(cfg));
}

} // namespace troupe::runtime
