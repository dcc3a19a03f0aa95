// The supervisor's nodes (docs/distribution-plan.md, section 4): their
// workers join as slots, and a lost node gives its tasks back.
//
//   join: workers(listener, first index, elapsed) ─▶ handles ─▶ slots, idle
//          └─ fails or times out ─────────────────────────────▶ node lost
//   down(node), or down(its worker, connection gone or node stopping)
//     ─▶ node lost: its slots retire, their addresses go to lost_workers,
//        each task in flight goes to `requeue` with a node_lost attempt
//   result / backoff / permit / throttle / abort from a lost worker: dropped
//
// No worker left at all: the node grace starts; a node back (node_up,
// from runtime/'s rejoiner) joins as a new node with new indexes, and the
// grace ends with it; a grace that runs out stops the run "no nodes".
//
// The window: a node's busy worker gets one task queued ahead of it at the
// node's relay (`next`), which the relay starts the moment the worker's
// result is in; the result moves it to `task` here. The relay may have
// started a queued task before that result reaches us: a loss takes it
// back with a node_lost attempt (from when it was sent), a worker's crash
// puts it back once (then ends it worker_crashed with the worker), and a
// stop has the relays drop the ones not started, which end CANCELLED.
//
// A task taken back runs again from attempt 1 (a lost attempt does not
// count against max_attempts); its final line lists the node_lost attempts
// first. Late messages cannot reach the task's new bookkeeping: a result
// needs the sender to be `workers[idx]` (a retired slot has no handle), the
// rest is filtered by sender.

#include "actors/crash_reason.hpp"
#include "actors/supervisor/supervisor_state.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>

namespace troupe {

namespace {

// The task at slot `idx` (or the one queued ahead of it: `queued`) back:
// a node_lost attempt, out of the bookkeeping of tasks in flight. A queued
// task may have started already (the relay hands it over as the result
// before it comes in, which the loss may have cut off): it gets one too.
task_spec take_back(supervisor_pointer self, uint32_t idx,
                    const std::string& why, bool queued = false) {
  auto& st = self->state;
  auto& slot = st.slots[idx];
  auto& held = queued ? slot.next : slot.task;
  auto since = queued ? slot.next_dispatched_us : slot.dispatched_us;
  auto task = std::move(*held);
  held.reset();
  attempt_record lost;
  lost.lost = true;
  lost.started_us = since;
  lost.duration_us = now_us(self) - since;
  lost.error = why;
  lost.node = st.cfg.nodes[slot.node].name;
  st.lost_attempts[task.seq].push_back(std::move(lost));
  --st.in_flight;
  if (queued)
    --st.queued_ahead;
  st.in_backoff.erase(task.seq);
  auto seq = task.seq;
  auto i = std::remove_if(st.permits.begin(), st.permits.end(),
                          [&](auto& p) { return p.seq == seq; });
  for (auto j = i; j != st.permits.end(); ++j)
    j->promise.deliver(false);
  st.permits.erase(i, st.permits.end());
  return task;
}

// A node's worker that comes too late (its node lost, its slot taken): it
// never joins, and what it still sends is dropped.
void refuse_worker(supervisor_pointer self, const caf::actor& worker) {
  self->state.lost_workers.insert(worker.address());
  self->send_exit(worker, caf::exit_reason::user_shutdown);
}

// A node's worker takes slot `idx`.
void seat_worker(supervisor_pointer self, uint32_t idx,
                 const caf::actor& worker) {
  auto& st = self->state;
  st.workers[idx] = caf::actor_cast<worker_actor>(worker);
  self->monitor(st.workers[idx]);
  st.idle.push_back(idx);
}

} // namespace

bool from_lost_worker(supervisor_pointer self) {
  auto& lost = self->state.lost_workers;
  const auto& sender = self->current_sender();
  return !lost.empty() && sender != nullptr
         && lost.count(sender->address()) > 0;
}

void join_node(supervisor_pointer self, uint32_t k, uint32_t first) {
  auto& st = self->state;
  auto& link = st.cfg.nodes[k];
  st.node_phases.resize(st.cfg.nodes.size(), node_phase::joining);
  for (uint32_t i = 0; i < link.workers; ++i)
    st.slots[first + i].node = static_cast<int32_t>(k);
  self->monitor(link.node);
  self
    ->request(link.node, std::chrono::seconds{10}, workers_atom::value,
              caf::actor_cast<caf::actor>(self), first, link.workers,
              now_us(self))
    .then(
      [=](std::vector<caf::actor>& handles, caf::actor& relay) {
        auto& s = self->state;
        if (s.node_phases[k] == node_phase::lost) {
          // Lost before its answer came: these workers never join.
          for (auto& h : handles)
            refuse_worker(self, h);
          return;
        }
        s.node_phases[k] = node_phase::joined;
        s.cfg.nodes[k].relay = caf::actor_cast<task_batch_listener>(relay);
        auto n = std::min<size_t>(handles.size(), link.workers);
        for (size_t i = 0; i < n; ++i)
          seat_worker(self, first + static_cast<uint32_t>(i), handles[i]);
        // Dispatch, through the mailbox: a wake for no time in particular.
        self->send(self, wake_atom::value, int64_t{-1});
      },
      [=](caf::error& err) {
        on_node_lost(self, k,
                     "it gave no workers: " + crash_text(self->system(), err));
        self->send(self, wake_atom::value, int64_t{-1});
      });
}

void on_node_lost(supervisor_pointer self, uint32_t k, const std::string& why) {
  auto& st = self->state;
  if (st.node_phases[k] == node_phase::lost)
    return;
  st.node_phases[k] = node_phase::lost;
  auto text = "node " + st.cfg.nodes[k].name + " lost: " + why;
  std::vector<task_spec> back;
  for (uint32_t idx = 0; idx < st.slots.size(); ++idx) {
    if (st.slots[idx].node != static_cast<int32_t>(k))
      continue;
    if (auto& w = st.workers[idx]) {
      st.lost_workers.insert(w.address());
      self->demonitor(w.address());
      w = worker_actor{};
    }
    if (st.slots[idx].task)
      back.push_back(take_back(self, idx, text));
    if (st.slots[idx].next)
      back.push_back(take_back(self, idx, text, true));
  }
  st.idle.erase(std::remove_if(st.idle.begin(), st.idle.end(),
                               [&](uint32_t idx) {
                                 return st.slots[idx].node
                                        == static_cast<int32_t>(k);
                               }),
                st.idle.end());
  std::sort(back.begin(), back.end(),
            [](auto& x, auto& y) { return x.seq < y.seq; });
  for (auto& t : back)
    st.requeue.push_back(std::move(t));
}

bool on_node_down(supervisor_pointer self, caf::down_msg& dm) {
  auto& st = self->state;
  auto why = dm.reason ? crash_text(self->system(), dm.reason)
                       : std::string{"it stopped"};
  // A node back from the same process has the same address as its lost
  // entry: match the live one.
  for (uint32_t k = 0; k < st.cfg.nodes.size(); ++k)
    if (st.node_phases[k] != node_phase::lost
        && dm.source == st.cfg.nodes[k].node.address()) {
      on_node_lost(self, k, why);
      return true;
    }
  // A node's worker goes with its connection, or when its node stops.
  if (dm.reason != caf::exit_reason::remote_link_unreachable
      && dm.reason != caf::exit_reason::user_shutdown)
    return false;
  for (uint32_t idx = 0; idx < st.workers.size(); ++idx)
    if (st.slots[idx].node >= 0 && st.workers[idx]
        && st.workers[idx].address() == dm.source) {
      on_node_lost(self, static_cast<uint32_t>(st.slots[idx].node), why);
      return true;
    }
  return false;
}

bool no_workers_left(supervisor_pointer self) {
  auto& st = self->state;
  if (st.cfg.nodes.empty())
    return false;
  for (auto phase : st.node_phases)
    if (phase == node_phase::joining)
      return false;
  return std::none_of(st.workers.begin(), st.workers.end(),
                      [](auto& w) { return static_cast<bool>(w); });
}

void await_nodes(supervisor_pointer self) {
  auto& st = self->state;
  if (st.grace_pending)
    return;
  st.grace_pending = true;
  self->delayed_send(self, std::chrono::microseconds{st.cfg.node_grace_us},
                     node_grace_atom::value, ++st.grace_gen);
}

void replace_node_worker(supervisor_pointer self, uint32_t idx) {
  auto& st = self->state;
  auto k = static_cast<uint32_t>(st.slots[idx].node);
  self
    ->request(st.cfg.nodes[k].node, std::chrono::seconds{10},
              workers_atom::value, caf::actor_cast<caf::actor>(self), idx,
              uint32_t{1}, now_us(self))
    .then(
      [=](std::vector<caf::actor>& handles, caf::actor&) {
        auto& s = self->state;
        if (handles.empty())
          return;
        if (s.node_phases[k] == node_phase::lost || s.workers[idx]) {
          refuse_worker(self, handles[0]);
          return;
        }
        seat_worker(self, idx, handles[0]);
        self->send(self, wake_atom::value, int64_t{-1});
      },
      // The node is gone or mute: its loss is handled by its monitor.
      [](caf::error&) {});
}

void hand_over(supervisor_pointer self, uint32_t idx, task_spec task) {
  auto& st = self->state;
  auto k = st.slots[idx].node;
  if (k < 0 || !st.cfg.nodes[k].relay) {
    self->send(st.workers[idx], run_atom::value, std::move(task));
    return;
  }
  st.outbox.resize(st.cfg.nodes.size());
  st.outbox[k].push_back(indexed_task{idx, std::move(task)});
}

void flush_outbox(supervisor_pointer self) {
  auto& st = self->state;
  for (size_t k = 0; k < st.outbox.size(); ++k)
    if (!st.outbox[k].empty()) {
      self->send(st.cfg.nodes[k].relay, run_atom::value,
                 std::move(st.outbox[k]));
      st.outbox[k] = {};
    }
}

bool windowed(const supervisor_state& st, uint32_t idx) {
  auto k = st.slots[idx].node;
  return st.window && k >= 0 && st.cfg.nodes[k].relay;
}

void queue_ahead(supervisor_pointer self) {
  auto& st = self->state;
  // Not past the sink's backlog, as new tasks; a worker in backoff gets
  // none (its task would wait out the backoff).
  while (!st.ahead.empty()
         && !st.gate.holds_tasks(now_us(self), {st.running(), st.in_flight})
         && next_task(self)) {
    auto idx = st.ahead.back();
    st.ahead.pop_back();
    auto& slot = st.slots[idx];
    if (!slot.task || slot.next || !st.workers[idx]
        || st.in_backoff.count(slot.task->seq) > 0)
      continue; // done, lost or crashed since
    ++st.in_flight;
    ++st.queued_ahead;
    slot.next = take_task(st);
    slot.next_dispatched_us = now_us(self);
    hand_over(self, idx, *slot.next);
  }
}

void requeue_queued(supervisor_state& st, uint32_t idx) {
  auto& next = st.slots[idx].next;
  st.requeue.push_front(std::move(*next));
  next.reset();
  --st.in_flight;
  --st.queued_ahead;
}

bool take_back(supervisor_state& st, const indexed_task& x) {
  if (x.idx >= st.slots.size())
    return false;
  auto& next = st.slots[x.idx].next;
  if (!next || next->seq != x.task.seq)
    return false; // its node or worker was lost, or it was given back
  requeue_queued(st, x.idx);
  return true;
}

namespace {

// Tells the worker at `idx`, if there is one, that the run stops.
void cancel_worker(supervisor_pointer self, uint32_t idx,
                   bool abort_in_flight) {
  auto& st = self->state;
  if (st.workers[idx])
    self->send(st.workers[idx], cancel_atom::value, abort_in_flight, st.reason);
}

} // namespace

void cancel_workers(supervisor_pointer self, bool abort_in_flight) {
  auto& st = self->state;
  st.ahead.clear();
  auto relayed = [&](int32_t k) {
    return k >= 0 && st.node_phases[k] != node_phase::lost
           && st.cfg.nodes[k].relay;
  };
  for (uint32_t idx = 0; idx < st.workers.size(); ++idx)
    if (!relayed(st.slots[idx].node))
      cancel_worker(self, idx, abort_in_flight);
  // A relay drops the tasks still queued, names them, and passes the
  // cancel on. One it handed over already (its worker's result was in)
  // stays `next` here and runs to its end like the others: the result
  // that promotes it may come before or after this answer.
  for (uint32_t k = 0; k < st.cfg.nodes.size(); ++k) {
    if (!relayed(static_cast<int32_t>(k)))
      continue;
    self
      ->request(st.cfg.nodes[k].relay, caf::infinite, cancel_atom::value,
                abort_in_flight, st.reason)
      .then(
        [=](std::vector<indexed_task>& dropped) {
          auto& s = self->state;
          std::sort(dropped.begin(), dropped.end(),
                    [](auto& x, auto& y) { return x.task.seq > y.task.seq; });
          // One whose node or worker was lost was taken back already.
          bool any = false;
          for (auto& x : dropped)
            any = take_back(s, x) || any;
          // They end CANCELLED with the unstarted ones.
          if (any)
            self->send(self, drain_atom::value);
        },
        // A lost node's queued tasks are taken back with its loss; a
        // relay that cannot answer (not lost) leaves its workers to us.
        [=](caf::error&) {
          auto& s = self->state;
          if (s.node_phases[k] == node_phase::lost)
            return;
          for (uint32_t idx = 0; idx < s.workers.size(); ++idx)
            if (s.slots[idx].node == static_cast<int32_t>(k))
              cancel_worker(self, idx, abort_in_flight);
        });
  }
}

void workers_back(supervisor_pointer self) {
  auto& st = self->state;
  if (!st.grace_pending)
    return;
  // A worker is back (a replacement, a node joining): the grace pending
  // is over; a later loss gets a whole one.
  st.grace_pending = false;
  ++st.grace_gen;
}

bool node_grace_over(supervisor_pointer self, uint64_t gen) {
  auto& st = self->state;
  if (gen != st.grace_gen || !st.grace_pending)
    return false; // a node came back since
  st.grace_pending = false;
  return no_workers_left(self);
}

void on_node_up(supervisor_pointer self, std::string name, caf::actor node,
                uint32_t workers) {
  auto& st = self->state;
  if (!node || workers == 0)
    return;
  workers = std::min(workers, st.cfg.concurrency); // as at start
  st.grace_pending = false;
  ++st.grace_gen;
  auto k = static_cast<uint32_t>(st.cfg.nodes.size());
  st.cfg.nodes.push_back(
    node_link{std::move(name), caf::actor_cast<node_actor>(node), workers, {}});
  auto first = static_cast<uint32_t>(st.workers.size());
  st.workers.resize(first + workers);
  st.slots.resize(first + workers);
  join_node(self, k, first);
}

} // namespace troupe
