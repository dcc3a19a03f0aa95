#pragma once

// A node's relay: its workers' listener on the node, and where the
// supervisor sends the node's tasks, a batch per dispatch. Results go to the
// supervisor in batches, one network message for all the results that
// arrived together (it flushes once the results already in its mailbox are
// in, so nothing waits for a timer); everything else a worker says
// (backoff, permit, throttle, abort) is delegated at once, keeping the
// worker as its sender and the permit's answer going straight back.
//
// A task for a worker that holds one waits at the relay, one per worker,
// and goes to it as soon as its result is in: the worker does not wait a
// round trip to the supervisor between tasks (the supervisor's window,
// supervisor_nodes.cpp). A worker that goes into backoff gets its waiting
// task taken back (to the supervisor, for another worker), and so does a
// task for it that comes before the backoff ends: it would wait that out.
// `cancel` drops the tasks waiting, answers them, and passes the cancel on
// to the workers.
//
//   supervisor ─(run, [idx, task]...)─▶ relay ─run─▶ worker at idx
//              ─cancel─▶ relay ─▶ the queued tasks, dropped; cancel ─▶ workers
//   worker ─result─▶ relay ─(results, [idx, result]...)─▶ supervisor
//                          ─run (the task queued for it)─▶ worker
//   worker ─backoff / permit / throttle / abort─▶ relay ─delegate─▶ supervisor
//   worker ─backoff (entering)─▶ relay ─(take_back, [idx, task])─▶ supervisor

#include "actors/worker/worker.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <vector>

namespace troupe {

/// What the relay sends batches to (the supervisor), and the tasks it takes
/// back from workers gone into backoff.
using result_batch_listener
  = caf::typed_actor<caf::reacts_to<results_atom, std::vector<indexed_result>>,
                     caf::reacts_to<take_back_atom, indexed_task>>;

/// The relay as the supervisor sends it a node's tasks: each goes to the
/// worker at its index, or waits for it (at most one); `cancel` (abort the
/// calls in flight?, reason) drops the ones waiting, answers them, and
/// passes the cancel on to every worker of the node: after any `run` the
/// relay sent it, so no task handed over escapes the cancel.
using task_batch_listener
  = caf::typed_actor<caf::reacts_to<run_atom, std::vector<indexed_task>>,
                     caf::replies_to<cancel_atom, bool, std::string>::with<
                       std::vector<indexed_task>>>;

/// The relay's handle: a worker listener, its own flush, the node's word of
/// a worker at an index, and the supervisor's batches of tasks.
using result_relay_actor
  = worker_listener::extend<caf::reacts_to<flush_atom>,
                            caf::reacts_to<workers_atom, uint32_t, caf::actor>,
                            caf::reacts_to<run_atom, std::vector<indexed_task>>,
                            caf::replies_to<cancel_atom, bool, std::string>::
                              with<std::vector<indexed_task>>>;

/// Spawns a relay for `supervisor`, which must handle
/// (results_atom, std::vector<indexed_result>) and (take_back_atom,
/// indexed_task) besides the worker protocol.
result_relay_actor spawn_result_relay(caf::actor_system& sys,
                                      caf::actor supervisor);

} // namespace troupe
