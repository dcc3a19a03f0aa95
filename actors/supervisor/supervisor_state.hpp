#pragma once

// The supervisor's state and the handlers its stages share (bookkeeping
// only: what comes next is up to the stage; see supervisor.cpp). Internal to
// the supervisor.

#include "actors/supervisor/supervisor.hpp"

#include <caf/actor_addr.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace troupe {

/// A retry waiting for the gate.
struct permit_request {
  uint64_t seq;
  caf::typed_response_promise<bool> promise;
};

/// The task a worker holds, kept to check its output and to end it if the
/// worker dies.
struct worker_slot {
  std::optional<task_spec> task;
  /// A node's worker: the task queued ahead of it at its relay, which it
  /// starts once `task` is done, and when it was sent.
  std::optional<task_spec> next;
  int64_t next_dispatched_us = -1;
  int64_t dispatched_us = -1;
  /// The node it is on (an index into cfg.nodes), -1 for this process.
  int32_t node = -1;
};

/// Where a node stands: asked for its workers, its workers joined, lost.
enum class node_phase : uint8_t { joining, joined, lost };

struct supervisor_state {
  supervisor_config cfg;
  /// Per node (as cfg.nodes).
  std::vector<node_phase> node_phases;
  /// Tasks taken back from lost nodes, to run again ahead of new ones (in
  /// the order lost; one node's in seq order).
  std::deque<task_spec> requeue;
  /// Their node_lost attempts, by seq, until their final result.
  std::unordered_map<uint64_t, std::vector<attempt_record>> lost_attempts;
  /// The workers of lost nodes: what they still send is dropped.
  std::unordered_set<caf::actor_addr> lost_workers;
  /// With no worker left: the grace timer pending, and its number (a
  /// node back makes an earlier timer stale).
  bool grace_pending = false;
  uint64_t grace_gen = 0;
  /// Per node: tasks dispatched in this turn, sent to its relay together
  /// at the end of the turn.
  std::vector<std::vector<indexed_task>> outbox;
  std::vector<worker_actor> workers;
  std::vector<worker_slot> slots;
  std::vector<uint32_t> idle;
  /// The window: whether a node's busy worker gets a task queued ahead of
  /// it (not with a rate limit, adaptive concurrency or batches, which
  /// decide when each task starts), and the slots that may take one.
  bool window = false;
  std::vector<uint32_t> ahead;
  /// Tasks handed to workers and not finished, queued ahead included.
  uint64_t in_flight = 0;
  /// Those of them queued ahead (not started).
  uint64_t queued_ahead = 0;
  /// Tasks queued ahead of a worker that crashed, put back once: a second
  /// time they end worker_crashed.
  std::unordered_set<uint64_t> crash_requeued;
  /// Those of them waiting in backoff, by seq.
  std::unordered_set<uint64_t> in_backoff;
  std::deque<permit_request> permits;
  /// A task read from the source that the gate held back.
  std::optional<task_spec> held;
  bool source_done = false;
  dispatch_gate gate;
  /// The times of the `wake`s pending.
  std::multiset<int64_t> wakes;
  uint64_t throttled = 0;
  /// While stopping: the drain waits for the sink to catch up.
  bool drain_waiting = false;
  run_end end = run_end::completed;
  std::string reason;
  run_stats stats;
  static inline const char* name = "supervisor";

  /// Calls in flight (tasks dispatched, not queued ahead, not waiting in
  /// backoff).
  uint64_t running() const noexcept;
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

/// Microseconds since the run started, on the actor clock.
int64_t now_us(supervisor_pointer self);

/// Counts `r` and sends it to the sink. The one place where checks run: a
/// SUCCEEDED result's output against its task's `expect`, and each
/// succeeded turn's answer against that turn's, if the task is given.
void write_result(supervisor_pointer self, task_result&& r,
                  const task_spec* task);

/// Whether there is a task that needs a call: a task taken back from a
/// lost node, or the next from the source (those it answered are written
/// on the way); false when both are exhausted, or when the answers filled
/// the sink's backlog (dispatch_gate::sink_full) for now.
bool next_task(supervisor_pointer self);

/// Takes the task next_task found.
task_spec take_task(supervisor_state& st);

/// Whether slot `idx` is a node worker's that takes a task queued ahead.
bool windowed(const supervisor_state& st, uint32_t idx);

/// Whether the current message comes from a worker of a lost node.
bool from_lost_worker(supervisor_pointer self);

/// Node `k` is lost (`why`): its slots retire, its tasks in flight go to
/// `requeue` with a node_lost attempt each. Once per node.
void on_node_lost(supervisor_pointer self, uint32_t k, const std::string& why);

/// A node, or a node's worker whose connection went, is down: true if that
/// was a node's loss (handled by on_node_lost).
bool on_node_down(supervisor_pointer self, caf::down_msg& dm);

/// True when the run has nodes, none is still giving its workers, and no
/// worker is left at all.
bool no_workers_left(supervisor_pointer self);

/// With no worker left, starts the node grace once: after it, the grace
/// message ends the run unless a node came back.
void await_nodes(supervisor_pointer self);

/// Workers are there again: a pending grace no longer counts.
void workers_back(supervisor_pointer self);

/// The grace numbered `gen` is over: true if the run ends now (no worker
/// came back since), its rest CANCELLED "no nodes".
bool node_grace_over(supervisor_pointer self, uint64_t gen);

/// A lost node is back (hello and prepare passed again): its workers join
/// at new indexes.
void on_node_up(supervisor_pointer self, std::string name, caf::actor node,
                uint32_t workers);

/// A worker's result: frees its slot and writes the result.
void on_result(supervisor_pointer self, uint32_t idx, task_result& r);

/// Results a node's relay batched: each counts if the worker now at its
/// index lives on the relay's node (a lost node's have none).
void on_results(supervisor_pointer self, std::vector<indexed_result>& batch);

/// A throttled answer to a call started at `started_us`.
void on_throttle(supervisor_pointer self, int64_t started_us);

/// A task entered or left backoff.
void on_backoff(supervisor_pointer self, bool entering, uint64_t seq);

/// Spawns the worker at `idx` and monitors it.
void spawn_slot(supervisor_pointer self, uint32_t idx);

/// Hands `task` to the worker at `idx`: straight to it, or into its
/// node's outbox when the node has a relay.
void hand_over(supervisor_pointer self, uint32_t idx, task_spec task);

/// Sends every node's outbox to its relay.
void flush_outbox(supervisor_pointer self);

/// The window: queues a task ahead of each busy node worker that has none,
/// as far as the source and the sink's backlog allow.
void queue_ahead(supervisor_pointer self);

/// Puts the task queued ahead at slot `idx` back at the head of `requeue`,
/// as never started.
void requeue_queued(supervisor_state& st, uint32_t idx);

/// A relay gave back the task queued ahead of the worker at `x.idx` (that
/// worker went into backoff, or the stop's cancel dropped it): requeued as
/// never started, unless a loss, a crash or the other way took it back
/// first. True if it was requeued.
bool take_back(supervisor_state& st, const indexed_task& x);

/// The run stops: every worker hears `cancel` (a node's through its
/// relay, after any task the relay handed it); each relay drops the tasks
/// queued ahead and names them, and they go to `requeue` (never started)
/// to end CANCELLED.
void cancel_workers(supervisor_pointer self, bool abort_in_flight);

/// Asks node `k` for its workers, which take the indexes from `first` on.
void join_node(supervisor_pointer self, uint32_t k, uint32_t first);

/// Asks the node of slot `idx` for a worker in place of one that crashed;
/// the slot stays empty until it comes.
void replace_node_worker(supervisor_pointer self, uint32_t idx);

/// A worker died: its task ends ERROR, a new worker takes its place. False
/// if it was none of ours.
bool on_worker_down(supervisor_pointer self, caf::down_msg& dm);

/// The live snapshot for `status`.
run_status on_status(supervisor_pointer self);

} // namespace troupe
