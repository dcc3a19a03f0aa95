#pragma once

// A node's relay: its workers' listener on the node. Results go to the
// supervisor in batches, one network message for all the results that
// arrived together (it flushes once the results already in its mailbox are
// in, so nothing waits for a timer); everything else a worker says
// (backoff, permit, throttle, abort) is delegated at once, keeping the
// worker as its sender and the permit's answer going straight back.
//
//   worker ─result─▶ relay ─(results, [idx, result]...)─▶ supervisor
//   worker ─backoff / permit / throttle / abort─▶ relay ─delegate─▶ supervisor

#include "actors/worker/worker.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <vector>

namespace troupe {

/// What the relay sends batches to (the supervisor).
using result_batch_listener
  = caf::typed_actor<caf::reacts_to<results_atom, std::vector<indexed_result>>>;

/// The relay's handle: a worker listener, and its own flush.
using result_relay_actor = worker_listener::extend<caf::reacts_to<flush_atom>>;

/// Spawns a relay for `supervisor`, which must handle
/// (results_atom, std::vector<indexed_result>) besides the worker protocol.
result_relay_actor spawn_result_relay(caf::actor_system& sys,
                                      caf::actor supervisor);

} // namespace troupe
