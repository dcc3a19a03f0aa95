// The supervisor actor: three named behaviours, one per stage of a run.
//
//          start: spawn the workers
//   ──▶ dispatching ◀──┐ result, wake, written, backoff:
//        │    │        │ let out what the dispatch gate allows
//        │    └────────┘
//        │ cancel, abort, write failed, deadline
//        │    (no new task, no retry; the workers finish what they hold)
//        │
//        │                 ──▶ stopping ◀──┐ drain: unstarted tasks
//        │                       │     └───┘ CANCELLED, a chunk at a time
//        │ source empty,         │ drained, nothing in flight
//        │ nothing in flight     ▼
//        └─────────────────▶ closing: the sink writes the summary; then
//                            (done, summary) to the listener, and quit
//
// Dispatch asks the gate (dispatch_gate.hpp) "may one more start now?":
// retries waiting for a permit first, then new tasks to idle workers. A
// gate that names a time gets a `wake` at that time; one that waits for a
// call or a write is asked again when it ends.
//
// Supervision: a worker that dies ends the task it held ERROR
// "worker_crashed" (with the exit reason), exactly once; a new worker takes
// its index. A local worker's result comes before its down message; a node
// worker's result, batched by its relay, may come after it and is dropped
// (only the worker now at a slot counts), so its task ends worker_crashed.
// A task handed to a worker already dead also ends worker_crashed.
//
// Nodes (supervisor_nodes.cpp): a lost node's tasks in flight come back in
// `requeue`, which dispatch takes ahead of new tasks and the drain ends
// CANCELLED like them. With no worker left at all, the run waits out the
// node grace for a node to come back (node_up), then ends them "no nodes".

#include "actors/supervisor/supervisor.hpp"

#include "actors/supervisor/supervisor_state.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace troupe {

namespace {

/// Cancelled lines written per drain message, so that a huge remainder does
/// not block the supervisor's mailbox.
constexpr size_t drain_chunk = 4096;

supervisor_actor::behavior_type dispatching(supervisor_pointer self);
supervisor_actor::behavior_type stopping(supervisor_pointer self);
supervisor_actor::behavior_type closing(supervisor_pointer self);
void begin_stop(supervisor_pointer self, run_end end, std::string reason,
                bool abort_in_flight);

// Makes sure a `wake` comes at `at_us` or earlier.
void arm_wake(supervisor_pointer self, int64_t at_us) {
  auto& st = self->state;
  if (!st.wakes.empty() && *st.wakes.begin() <= at_us)
    return;
  st.wakes.insert(at_us);
  self->delayed_send(self, std::chrono::microseconds{at_us - now_us(self)},
                     wake_atom::value, at_us);
}

// Asks the gate; on yes, the start counts. Arms a wake if it names a time.
bool may_start(supervisor_pointer self, start_kind kind) {
  auto& st = self->state;
  auto now = now_us(self);
  auto v = st.gate.ask(kind, now, {st.running(), st.in_flight});
  switch (v.kind) {
    case gate_verdict::now:
      st.gate.started(kind, now);
      return true;
    case gate_verdict::at:
    case gate_verdict::paused_until:
      arm_wake(self, v.at_us);
      return false;
    default:
      return false; // whatever ends a call or a write asks again
  }
}

// The run is over once nothing is in flight and nothing is left to start.
void try_close(supervisor_pointer self) {
  auto& st = self->state;
  if (st.in_flight > 0 || !st.source_done || st.held || !st.requeue.empty())
    return;
  auto summary = st.stats.summary();
  summary.total = std::max(st.cfg.total, st.stats.finished());
  summary.wall_us = now_us(self);
  summary.end = st.end;
  summary.reason = st.reason;
  summary.concurrency_final = st.gate.limit();
  summary.concurrency_min = st.gate.min_seen();
  // The workers are stopped below; their down messages mean nothing now.
  self->set_down_handler([](caf::down_msg&) {});
  self->become(closing(self));
  auto done = [=](bool results_ok) {
    // The listener is an untyped (scoped) actor, hence anon_send.
    caf::anon_send(self->state.cfg.listener, done_atom::value, summary,
                   results_ok);
    // Workers may hold stale backoff timers; exit messages end them now.
    for (auto& w : self->state.workers)
      self->send_exit(w, caf::exit_reason::user_shutdown);
    self->quit();
  };
  self->request(st.cfg.sink, caf::infinite, close_atom::value, summary)
    .then(done, [=](caf::error&) { done(false); });
}

// Lets out what the gate allows: retries first (their tasks are under way
// already), then new tasks to idle workers.
void dispatch_turn(supervisor_pointer self) {
  auto& st = self->state;
  if (no_workers_left(self)) {
    try_close(self); // nothing left to run: no wait
    await_nodes(self);
    return;
  }
  workers_back(self);
  while (!st.permits.empty()) {
    if (!may_start(self, start_kind::retry))
      return;
    auto p = std::move(st.permits.front());
    st.permits.pop_front();
    st.in_backoff.erase(p.seq);
    p.promise.deliver(true);
  }
  // With nodes there may be more workers than calls allowed in flight.
  while (!st.idle.empty() && st.in_flight - st.queued_ahead < st.cfg.concurrency
         && !st.gate.holds_tasks(now_us(self), {st.running(), st.in_flight})
         && next_task(self)) {
    if (!may_start(self, start_kind::task))
      return;
    auto idx = st.idle.back();
    st.idle.pop_back();
    ++st.in_flight;
    auto task = take_task(st);
    st.slots[idx].task = task;
    st.slots[idx].dispatched_us = now_us(self);
    hand_over(self, idx, std::move(task));
    if (windowed(st, idx))
      st.ahead.push_back(idx);
  }
  try_close(self);
}

// Lets out what the gate allows, queues tasks ahead of busy node workers,
// then sends the nodes' batches.
void dispatch(supervisor_pointer self) {
  dispatch_turn(self);
  queue_ahead(self);
  flush_outbox(self);
}

// Writes CANCELLED lines for tasks that never started, a chunk at a time.
void on_drain(supervisor_pointer self) {
  auto& st = self->state;
  for (size_t n = 0; n < drain_chunk; ++n) {
    source_item item;
    if (!st.requeue.empty()) {
      item.task = std::move(st.requeue.front());
      st.requeue.pop_front();
    } else if (st.held) {
      item.task = std::move(*st.held);
      st.held.reset();
    } else if (st.source_done || !st.cfg.source->next_item(item)) {
      st.source_done = true;
      break;
    }
    auto r = result_for(std::move(item.task));
    r.status = task_status::cancelled;
    r.finished_us = now_us(self);
    r.error = st.reason;
    r.error_code = to_string(error_code::cancelled);
    write_result(self, std::move(r), nullptr);
  }
  if (st.source_done)
    try_close(self);
  else if (st.gate.sink_full())
    st.drain_waiting = true; // resumed by the sink's next acknowledgement
  else
    self->send(self, drain_atom::value);
}

// The sink wrote `n` lines, or the callbacks caught up (hold off); true if
// that is enough to go on.
bool may_go_on(supervisor_pointer self) {
  auto& st = self->state;
  if (st.gate.sink_full())
    return false;
  if (st.drain_waiting) {
    st.drain_waiting = false;
    self->send(self, drain_atom::value);
  }
  return true;
}

bool on_written(supervisor_pointer self, uint64_t n) {
  self->state.gate.on_written(n);
  return may_go_on(self);
}

void begin_stop(supervisor_pointer self, run_end end, std::string reason,
                bool abort_in_flight) {
  auto& st = self->state;
  st.end = end;
  st.reason = std::move(reason);
  cancel_workers(self, abort_in_flight);
  // No retry starts once the run stops.
  for (auto& p : st.permits)
    p.promise.deliver(false);
  st.permits.clear();
  self->set_down_handler([=](caf::down_msg& dm) {
    if (on_node_down(self, dm) || on_worker_down(self, dm)) {
      // Tasks taken back end CANCELLED with the unstarted ones.
      if (!self->state.requeue.empty())
        self->send(self, drain_atom::value);
      try_close(self);
    }
  });
  self->become(stopping(self));
  // Unstarted tasks end CANCELLED now, while the ones in flight finish.
  if (!st.source_done || st.held || !st.requeue.empty())
    self->send(self, drain_atom::value);
  else
    try_close(self);
}

void on_deadline(supervisor_pointer self) {
  auto secs
    = static_cast<double>(self->state.cfg.dispatch.run_deadline_us) / 1e6;
  begin_stop(self, run_end::deadline,
             fmt::format("run deadline of {:g} s passed", secs), false);
}

void on_start(supervisor_pointer self) {
  auto& st = self->state;
  if (!st.workers.empty())
    return;
  auto& d = st.cfg.dispatch;
  st.gate = dispatch_gate{d, st.cfg.concurrency};
  st.window = !st.cfg.nodes.empty() && !d.decides_each_start();
  if (d.run_deadline_us > 0)
    self->delayed_send(self, std::chrono::microseconds{d.run_deadline_us},
                       deadline_atom::value);
  auto local = st.cfg.nodes.empty() ? st.cfg.concurrency : st.cfg.local_workers;
  auto total = local;
  for (auto& n : st.cfg.nodes) {
    // No more calls than `concurrency` are ever in flight: a larger node
    // spawns only that many (--workers is what it offers, at most).
    n.workers = std::min(n.workers, st.cfg.concurrency);
    total += n.workers;
  }
  st.workers.resize(total);
  st.slots.resize(total);
  for (uint32_t i = 0; i < local; ++i) {
    spawn_slot(self, i);
    st.idle.push_back(local - 1 - i); // worker 0 goes first
  }
  // A node's workers join when it sends their handles.
  for (uint32_t k = 0, first = local; k < st.cfg.nodes.size(); ++k) {
    join_node(self, k, first);
    first += st.cfg.nodes[k].workers;
  }
  dispatch(self);
}

// A retry asks to start; the answer waits for the gate.
caf::typed_response_promise<bool> on_permit(supervisor_pointer self,
                                            uint64_t seq) {
  // Before the promise, which takes the request's sender.
  bool lost = from_lost_worker(self);
  auto rp = self->make_response_promise<bool>();
  if (lost) {
    rp.deliver(false); // its task runs elsewhere now
    return rp;
  }
  self->state.permits.push_back({seq, rp});
  dispatch(self);
  return rp;
}

supervisor_actor::behavior_type dispatching(supervisor_pointer self) {
  return {
    [=](start_atom) { on_start(self); },
    [=](result_atom, uint32_t idx, task_result& r) {
      on_result(self, idx, r);
      dispatch(self);
    },
    [=](results_atom, std::vector<indexed_result>& batch) {
      on_results(self, batch);
      dispatch(self);
    },
    [=](take_back_atom, indexed_task& x) {
      if (take_back(self->state, x))
        dispatch(self);
    },
    [=](hold_atom, bool on) {
      self->state.gate.hold(on);
      if (may_go_on(self))
        dispatch(self);
    },
    [=](throttle_atom, int64_t started_us) { on_throttle(self, started_us); },
    [=](backoff_atom, bool entering, uint64_t seq) {
      on_backoff(self, entering, seq);
      dispatch(self); // a call ended: the adaptive limit may let another out
    },
    [=](permit_atom, uint64_t seq) { return on_permit(self, seq); },
    [=](abort_atom, std::string& why) {
      if (!from_lost_worker(self))
        begin_stop(self, run_end::aborted, "run aborted: " + why, true);
    },
    [=](cancel_atom, std::string& why) {
      begin_stop(self, run_end::cancelled, std::move(why), false);
    },
    [=](write_failed_atom, std::string& why) {
      begin_stop(self, run_end::unwritable,
                 "results could not be written (" + why + ")", false);
    },
    [=](deadline_atom) { on_deadline(self); },
    [=](node_up_atom, std::string& name, caf::actor& node, uint32_t n) {
      on_node_up(self, std::move(name), std::move(node), n);
    },
    [=](node_grace_atom, uint64_t gen) {
      if (node_grace_over(self, gen))
        begin_stop(self, run_end::no_nodes, "no nodes", false);
    },
    [=](wake_atom, int64_t at) {
      auto& wakes = self->state.wakes;
      if (auto i = wakes.find(at); i != wakes.end())
        wakes.erase(i);
      dispatch(self);
    },
    [=](status_atom) { return on_status(self); },
    [=](drain_atom) {}, // only while stopping
    [=](written_atom, uint64_t n) {
      if (on_written(self, n))
        dispatch(self);
    },
  };
}

supervisor_actor::behavior_type stopping(supervisor_pointer self) {
  return {
    [=](start_atom) {},
    [=](result_atom, uint32_t idx, task_result& r) {
      on_result(self, idx, r);
      try_close(self);
    },
    [=](results_atom, std::vector<indexed_result>& batch) {
      on_results(self, batch);
      try_close(self);
    },
    [=](take_back_atom, indexed_task& x) {
      if (take_back(self->state, x))
        self->send(self, drain_atom::value); // it ends CANCELLED
    },
    [=](hold_atom, bool on) {
      self->state.gate.hold(on);
      may_go_on(self); // the CANCELLED lines wait for the callbacks too
    },
    [=](throttle_atom, int64_t started_us) { on_throttle(self, started_us); },
    [=](backoff_atom, bool entering, uint64_t seq) {
      on_backoff(self, entering, seq);
      try_close(self);
    },
    [=](permit_atom, uint64_t) { return false; },
    [=](abort_atom, std::string&) {},
    [=](cancel_atom, std::string&) {},
    [=](write_failed_atom, std::string&) {},
    [=](deadline_atom) {},
    [=](wake_atom, int64_t) {},
    [=](node_up_atom, std::string&, caf::actor&, uint32_t) {},
    [=](node_grace_atom, uint64_t) {},
    [=](status_atom) { return on_status(self); },
    [=](drain_atom) { on_drain(self); },
    [=](written_atom, uint64_t n) {
      if (on_written(self, n))
        try_close(self);
    },
  };
}

// Waiting for the sink to close the results file; nothing is in flight.
supervisor_actor::behavior_type closing(supervisor_pointer self) {
  return {
    [=](start_atom) {},
    [=](result_atom, uint32_t, task_result&) {},
    [=](results_atom, std::vector<indexed_result>&) {},
    [=](take_back_atom, indexed_task&) {},
    [=](hold_atom, bool) {},
    [=](throttle_atom, int64_t) {},
    [=](backoff_atom, bool, uint64_t) {},
    [=](permit_atom, uint64_t) { return false; },
    [=](abort_atom, std::string&) {},
    [=](cancel_atom, std::string&) {},
    [=](write_failed_atom, std::string&) {},
    [=](deadline_atom) {},
    [=](wake_atom, int64_t) {},
    [=](node_up_atom, std::string&, caf::actor&, uint32_t) {},
    [=](node_grace_atom, uint64_t) {},
    [=](status_atom) { return on_status(self); },
    [=](drain_atom) {},
    [=](written_atom, uint64_t) {},
  };
}

supervisor_actor::behavior_type supervisor(supervisor_pointer self,
                                           supervisor_config cfg) {
  self->state.cfg = std::move(cfg);
  if (self->state.cfg.baseline) {
    self->state.stats = *self->state.cfg.baseline;
    self->state.stats.mark_baseline();
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    if (on_node_down(self, dm) || on_worker_down(self, dm))
      dispatch(self);
  });
  return dispatching(self);
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys,
                                  supervisor_config cfg) {
  return sys.spawn(supervisor, std::move(cfg));
}

} // namespace troupe
