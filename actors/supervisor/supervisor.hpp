#pragma once

// The supervisor spawns exactly `concurrency` workers, hands each a task as
// soon as it is free (work pulling), keeps the run's statistics, forwards
// results to the sink and, on cancel, stops the run cooperatively: no new
// dispatch, in-flight tasks finish or time out, every unstarted task ends
// CANCELLED, then the workers stop.
//
//   start ─▶ dispatch ─▶ worker ×N ─▶ result ─▶ sink (one line)
//               ▲                        │
//               └──── next task ◀────────┘
//   cancel ─▶ workers finish ─▶ drain: unstarted tasks CANCELLED ─▶ close
//             sink (summary line) ─▶ (done, summary) to the listener

#include "actors/node/node.hpp"
#include "actors/node/result_relay.hpp"
#include "actors/results/result_sink.hpp"
#include "actors/supervisor/dispatch_gate.hpp"
#include "actors/supervisor/run_stats.hpp"
#include "actors/supervisor/task_source.hpp"
#include "actors/worker/worker.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

/// The supervisor's handle: a worker listener plus run control. `cancel`
/// carries the reason written to cancelled tasks. `written` is the sink's
/// acknowledgement of lines written, and `write_failed` its word that the
/// results file refused a write: the run stops as on a cancel; `drain`,
/// `wake` (a rate-limit token or the end of a batch pause, at the time it
/// carries) and `deadline` (the run's) are internal. `node_up` adds a node
/// that came back; `node_grace` (internal) ends the wait for one. `results`
/// is a node's relay handing in its workers' results together, and
/// `take_back` a task it gives back (its worker went into backoff). `hold`
/// holds new tasks while a program's callbacks are behind (library runs).
using supervisor_actor = worker_listener::extend<
  caf::reacts_to<start_atom>, caf::reacts_to<cancel_atom, std::string>,
  caf::replies_to<status_atom>::with<run_status>, caf::reacts_to<drain_atom>,
  caf::reacts_to<written_atom, uint64_t>,
  caf::reacts_to<write_failed_atom, std::string>,
  caf::reacts_to<wake_atom, int64_t>, caf::reacts_to<deadline_atom>,
  caf::reacts_to<node_up_atom, std::string, caf::actor, uint32_t>,
  caf::reacts_to<node_grace_atom, uint64_t>,
  caf::reacts_to<results_atom, std::vector<indexed_result>>,
  caf::reacts_to<take_back_atom, indexed_task>,
  caf::reacts_to<hold_atom, bool>>;

/// A node whose workers join the run (docs/distribution-plan.md).
struct node_link {
  /// "host:port", as results name it.
  std::string name;
  /// Prepared for this run (hello and prepare done).
  node_actor node;
  /// The workers it hosts.
  uint32_t workers = 0;
  /// Once its workers joined: where their tasks go in batches (null: to
  /// each worker).
  task_batch_listener relay;
};

/// The supervisor's parameters.
struct supervisor_config {
  /// Tasks in flight at most, over local and node workers; without nodes,
  /// also the number of workers.
  uint32_t concurrency = 8;
  /// Workers in this process, when the run has nodes (without nodes there
  /// are `concurrency`).
  uint32_t local_workers = 0;
  /// Nodes whose workers join the run; their results name them. More join
  /// later with (node_up, name, node, workers): a lost node back.
  std::vector<node_link> nodes;
  /// With nodes: how long the run waits, once no worker is left, for a node
  /// to come back before it ends the rest CANCELLED "no nodes".
  int64_t node_grace_us = 30'000'000;
  /// The workers' parameters; index and listener are filled in per worker.
  worker_config worker;
  std::shared_ptr<task_source> source;
  /// Number of tasks the source will give.
  uint64_t total = 0;
  result_sink_actor sink;
  /// Receives (done_atom, run_summary, bool results_ok) when the run is over
  /// and the results file is closed; results_ok is false if a write failed.
  caf::actor listener;
  /// The tasks an earlier run of a resumed results file finished, and that
  /// this run does not run again: they count in the summary.
  std::shared_ptr<run_stats> baseline;
  dispatch_settings dispatch;
};

/// Spawns the supervisor; it starts on `start`.
supervisor_actor spawn_supervisor(caf::actor_system& sys,
                                  supervisor_config cfg);

} // namespace troupe
