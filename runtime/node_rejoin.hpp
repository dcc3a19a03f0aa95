#pragma once

// Lost nodes coming back (docs/distribution-plan.md, section 4): the
// rejoiner watches a run's nodes, and while one is lost it connects to its
// address again every second. A node that answers, runs the same troupe and
// prepares the manifest again joins the run: (node_up, name, node, workers)
// to the supervisor, which gives it new worker indexes.
//
//   down(node) ─▶ every 1 s: connect ─▶ hello ─▶ prepare ─▶ node_up
//                   └─ any step fails: said once on stderr, tried again

#include "config/node_address.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <string>
#include <utility>
#include <vector>

namespace troupe::runtime {

/// What the rejoiner needs.
struct rejoin_config {
  /// Gets node_up.
  caf::actor supervisor;
  /// The run's nodes as they joined at start: address and handle.
  std::vector<std::pair<config::node_address, caf::actor>> nodes;
  std::string manifest_text;
  /// The key sent with prepare (--send-keys), else "".
  std::string sent_key;
  /// Connect through CAF's OpenSSL manager (mutual TLS).
  bool tls = false;
};

/// Spawns the rejoiner; it runs until it is sent an exit.
caf::actor spawn_rejoiner(caf::actor_system& sys, rejoin_config cfg);

} // namespace troupe::runtime
