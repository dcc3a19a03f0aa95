// The supervisor's shared handlers: results, backoff, throttles, worker
// supervision and the status snapshot.

#include "actors/supervisor/supervisor_state.hpp"

#include "actors/crash_reason.hpp"
#include "actors/worker/assertions.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>

namespace troupe {

uint64_t supervisor_state::running() const noexcept {
  auto started = in_flight - queued_ahead;
  return started - std::min<uint64_t>(started, in_backoff.size());
}

int64_t now_us(supervisor_pointer self) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           self->clock().now() - self->state.cfg.worker.run_start)
    .count();
}

namespace {

// Each succeeded turn's answer against its checks; the task's assertions
// list them all, each named after its turn, once the task SUCCEEDED.
void check_turns(const task_spec& task, task_result& r) {
  auto n = std::min(task.turns.size(), r.turns.size());
  for (size_t i = 0; i < n; ++i) {
    auto& t = r.turns[i];
    if (t.status != task_status::succeeded)
      continue;
    t.assertions
      = check_expectation(task.turns[i].expect, t.output_json, t.latency_us);
    if (r.status != task_status::succeeded)
      continue;
    for (auto& a : t.assertions) {
      r.assertions.push_back(a);
      r.assertions.back().check
        = "turn " + std::to_string(i + 1) + ": " + a.check;
    }
  }
}

} // namespace

bool next_task(supervisor_pointer self) {
  auto& st = self->state;
  if (!st.requeue.empty())
    return true;
  while (!st.held) {
    if (st.source_done)
      return false;
    source_item item;
    if (!st.cfg.source->next_item(item)) {
      st.source_done = true;
      return false;
    }
    if (!item.answer) {
      st.held = std::move(item.task);
      continue;
    }
    auto& r = *item.answer;
    r.started_us = r.finished_us = now_us(self);
    write_result(self, std::move(r), &item.task);
    // Answers go no further past the sink's backlog (or the callbacks'):
    // dispatch resumes with the sink's acknowledgement or their catching up.
    if (st.gate.sink_full())
      return false;
  }
  return true;
}

task_spec take_task(supervisor_state& st) {
  task_spec out;
  if (!st.requeue.empty()) {
    out = std::move(st.requeue.front());
    st.requeue.pop_front();
  } else {
    out = std::move(*st.held);
    st.held.reset();
  }
  return out;
}

void write_result(supervisor_pointer self, task_result&& r,
                  const task_spec* task) {
  auto& st = self->state;
  // A task that was on a lost node: its node_lost attempts come first.
  if (auto i = st.lost_attempts.find(r.seq); i != st.lost_attempts.end()) {
    auto& lost = i->second;
    if (r.started_us < 0 || lost.front().started_us < r.started_us)
      r.started_us = lost.front().started_us;
    r.attempt_log.insert(r.attempt_log.begin(), lost.begin(), lost.end());
    st.lost_attempts.erase(i);
  }
  if (task != nullptr && r.status == task_status::succeeded)
    r.assertions = check_expectation(task->expect, r.output_json, r.latency_us);
  if (task != nullptr && !task->turns.empty())
    check_turns(*task, r);
  st.stats.add(r);
  st.gate.on_sent();
  self->send(st.cfg.sink, write_atom::value, std::move(r));
}

namespace {

// The result of the worker at `idx`, checked to come from it.
void take_result(supervisor_pointer self, uint32_t idx, task_result& r) {
  auto& st = self->state;
  auto& slot = st.slots[idx];
  std::optional<task_spec> task;
  if (slot.task && slot.task->seq == r.seq)
    task.swap(slot.task);
  --st.in_flight;
  st.in_backoff.erase(r.seq);
  if (r.status == task_status::succeeded)
    st.gate.on_success();
  if (!st.cfg.nodes.empty())
    r.node = slot.node < 0 ? "local" : st.cfg.nodes[slot.node].name;
  write_result(self, std::move(r), task ? &*task : nullptr);
  if (!slot.next) {
    st.idle.push_back(idx);
    return;
  }
  // The relay gave it the task queued ahead on this result.
  slot.task = std::move(slot.next);
  slot.next.reset();
  slot.dispatched_us = now_us(self);
  --st.queued_ahead;
  st.ahead.push_back(idx);
}

} // namespace

void on_result(supervisor_pointer self, uint32_t idx, task_result& r) {
  auto& st = self->state;
  // Only the worker now at `idx` speaks for it (see supervisor.cpp).
  if (idx >= st.workers.size()
      || self->current_sender()
           != caf::actor_cast<caf::strong_actor_ptr>(st.workers[idx]))
    return;
  take_result(self, idx, r);
}

void on_results(supervisor_pointer self, std::vector<indexed_result>& batch) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  if (sender == nullptr)
    return;
  for (auto& x : batch) {
    // The relay speaks for the workers of its own process only; a retired
    // slot (a lost node's) has no worker.
    // The worker must be the one now at the slot: a result batched before
    // its worker crashed may come after the crash and a replacement.
    if (x.idx >= st.workers.size() || !st.workers[x.idx]
        || st.workers[x.idx].node() != sender->node()
        || st.workers[x.idx]->id() != x.worker || st.slots[x.idx].node < 0)
      continue;
    take_result(self, x.idx, x.result);
  }
}

void on_throttle(supervisor_pointer self, int64_t started_us) {
  auto& st = self->state;
  if (from_lost_worker(self))
    return;
  ++st.throttled;
  st.gate.on_throttle(started_us, now_us(self));
}

void on_backoff(supervisor_pointer self, bool entering, uint64_t seq) {
  // A lost worker's task runs elsewhere now, under the same seq.
  if (from_lost_worker(self))
    return;
  if (entering)
    self->state.in_backoff.insert(seq);
  else
    self->state.in_backoff.erase(seq);
}

void spawn_slot(supervisor_pointer self, uint32_t idx) {
  auto& st = self->state;
  auto wc = st.cfg.worker;
  wc.index = idx;
  wc.listener = caf::actor_cast<worker_listener>(self);
  wc.gated = st.cfg.dispatch.gates_retries();
  auto w = spawn_worker(self->system(), std::move(wc));
  self->monitor(w);
  st.workers[idx] = std::move(w);
}

bool on_worker_down(supervisor_pointer self, caf::down_msg& dm) {
  auto& st = self->state;
  auto i = std::find_if(st.workers.begin(), st.workers.end(),
                        [&](auto& w) { return w.address() == dm.source; });
  if (i == st.workers.end())
    return false;
  auto idx = static_cast<uint32_t>(i - st.workers.begin());
  auto& slot = st.slots[idx];
  bool remote = slot.node >= 0;
  if (remote) {
    // Its node spawns a new one; until it comes, the slot is empty. What
    // it sent through the relay may still come: dropped as a lost
    // worker's.
    st.lost_workers.insert(dm.source);
    st.workers[idx] = worker_actor{};
    st.idle.erase(std::remove(st.idle.begin(), st.idle.end(), idx),
                  st.idle.end());
    replace_node_worker(self, idx);
  } else {
    spawn_slot(self, idx);
  }
  auto why = "worker " + std::to_string(idx) + " crashed: "
             + (dm.reason ? crash_text(self->system(), dm.reason)
                          : std::string{"it stopped"});
  // Its task ends worker_crashed. The one queued ahead of it goes back
  // once (the relay drops its copy when the replacement registers); the
  // relay may have handed it over already and it may be what crashed the
  // worker, so a second time it ends worker_crashed too.
  auto end_crashed = [&](std::optional<task_spec>& held, int64_t since) {
    if (!held)
      return;
    auto seq = held->seq;
    auto r = result_for(std::move(*held));
    held.reset();
    r.status = task_status::error;
    r.error_code = to_string(error_code::worker_crashed);
    r.error = why;
    r.started_us = since;
    r.finished_us = now_us(self);
    --st.in_flight;
    // Whatever the dead worker held with us goes: its backoff, its permit.
    st.in_backoff.erase(seq);
    st.permits.erase(std::remove_if(st.permits.begin(), st.permits.end(),
                                    [&](auto& p) { return p.seq == seq; }),
                     st.permits.end());
    write_result(self, std::move(r), nullptr);
  };
  if (!slot.task)
    return true; // it was idle: its index stays in `idle`
  end_crashed(slot.task, slot.dispatched_us);
  if (slot.next) {
    if (st.crash_requeued.insert(slot.next->seq).second) {
      requeue_queued(st, idx);
    } else {
      --st.queued_ahead;
      end_crashed(slot.next, slot.next_dispatched_us);
    }
  }
  if (!remote)
    st.idle.push_back(idx);
  return true;
}

run_status on_status(supervisor_pointer self) {
  auto& st = self->state;
  run_status s;
  s.total = st.cfg.total;
  s.counts = st.stats.counts();
  auto finished = st.stats.finished();
  auto known = finished + st.in_flight - st.queued_ahead;
  s.counts[static_cast<size_t>(task_status::pending)]
    = s.total > known ? s.total - known : 0;
  s.counts[static_cast<size_t>(task_status::queued)] = st.in_backoff.size();
  s.counts[static_cast<size_t>(task_status::running)] = st.running();
  s.backoff = st.in_backoff.size();
  s.throttled = st.throttled;
  s.done_before = st.stats.baseline();
  s.attempts = st.stats.attempts();
  s.elapsed_us = now_us(self);
  s.stopping = st.end != run_end::completed;
  s.concurrency = st.cfg.concurrency;
  s.effective_concurrency = st.gate.limit();
  return s;
}

} // namespace troupe
