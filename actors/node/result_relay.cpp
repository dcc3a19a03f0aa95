// The relay: batches results, hands each worker the task queued ahead of
// it, delegates the rest.
//
//   run(idx, task): worker idx free ─▶ run to it (busy)
//                   worker idx busy ─▶ queued ahead of it (at most one)
//   result from idx ─▶ batched; its queued task, if any, goes to it now
//   cancel ─▶ the queued tasks dropped, and named in the answer; the
//             cancel passed on to every worker
//   workers(idx, new worker) ─▶ a replacement: idx free, its queue dropped
//   backoff (entering) from idx ─▶ its queued task back to the supervisor,
//                                  and any task for idx until it leaves

#include "actors/node/result_relay.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace troupe {

namespace {

/// A batch goes out at this size even if more results are queued.
constexpr size_t max_batch = 256;

struct relay_state {
  result_batch_listener supervisor;
  worker_listener listener;
  std::vector<indexed_result> batch;
  /// The node's workers by index, and each one's index by its actor id.
  std::unordered_map<uint32_t, worker_actor> workers;
  std::unordered_map<caf::actor_id, uint32_t> index_of;
  /// The indexes whose workers hold a task, and the task queued ahead of
  /// each (sent once its result is in).
  std::unordered_set<uint32_t> busy;
  std::unordered_map<uint32_t, task_spec> ahead;
  /// The indexes whose workers are in backoff: a task for one goes back.
  std::unordered_set<uint32_t> backing_off;
  static inline const char* name = "result_relay";
};

using relay_pointer = result_relay_actor::stateful_pointer<relay_state>;

// Gives `task`, meant for the worker at `idx` (in backoff), back to the
// supervisor for another worker.
void give_back(relay_pointer self, uint32_t idx, task_spec&& task) {
  self->send(self->state.supervisor, take_back_atom::value,
             indexed_task{idx, std::move(task)});
}

// Sends `task` to the worker at `idx`, or queues it there if that worker
// holds one, or gives it back if that one is in backoff (it sent the
// supervisor that, which crossed this task on its way here).
void hand_to(relay_pointer self, uint32_t idx, task_spec&& task) {
  auto& st = self->state;
  auto w = st.workers.find(idx);
  if (w == st.workers.end())
    return; // the supervisor's bookkeeping ends it when the worker is down
  if (!st.busy.insert(idx).second) {
    if (st.backing_off.count(idx) > 0)
      give_back(self, idx, std::move(task));
    else
      st.ahead[idx] = std::move(task);
    return;
  }
  self->send(w->second, run_atom::value, std::move(task));
}

// The worker that sent this went into backoff (or out of it): the task
// queued ahead of it, if any, goes back to the supervisor rather than wait
// the backoff out, and so will one that comes meanwhile. After the
// backoff's delegation, so that the supervisor knows of the backoff first
// and does not queue the task behind that worker again.
void on_backoff(relay_pointer self, const caf::actor_addr& sender,
                bool entering) {
  auto& st = self->state;
  auto seat = st.index_of.find(sender.id());
  if (seat == st.index_of.end())
    return;
  auto idx = seat->second;
  if (auto w = st.workers.find(idx);
      w == st.workers.end() || w->second.address() != sender)
    return;
  if (!entering) {
    st.backing_off.erase(idx);
    return;
  }
  st.backing_off.insert(idx);
  if (auto i = st.ahead.find(idx); i != st.ahead.end()) {
    give_back(self, idx, std::move(i->second));
    st.ahead.erase(i);
  }
}

void flush(relay_pointer self) {
  auto& st = self->state;
  if (st.batch.empty())
    return;
  self->send(st.supervisor, results_atom::value, std::move(st.batch));
  st.batch = {};
}

result_relay_actor::behavior_type relay(relay_pointer self,
                                        caf::actor supervisor) {
  self->state.listener = caf::actor_cast<worker_listener>(supervisor);
  self->state.supervisor
    = caf::actor_cast<result_batch_listener>(std::move(supervisor));
  return {
    [=](result_atom, uint32_t idx, task_result& r) {
      auto& batch = self->state.batch;
      // Behind the results already queued: they join this batch.
      if (batch.empty())
        self->send(self, flush_atom::value);
      const auto& sender = self->current_sender();
      batch.push_back(
        indexed_result{idx, sender ? sender->id() : 0, std::move(r)});
      if (batch.size() >= max_batch)
        flush(self);
      auto& st = self->state;
      st.busy.erase(idx);
      st.backing_off.erase(idx);
      if (auto i = st.ahead.find(idx); i != st.ahead.end()) {
        auto task = std::move(i->second);
        st.ahead.erase(i);
        hand_to(self, idx, std::move(task));
      }
    },
    [=](flush_atom) { flush(self); },
    [=](workers_atom, uint32_t idx, caf::actor& w) {
      auto& st = self->state;
      // A replacement: the supervisor took back what the old one held.
      st.busy.erase(idx);
      st.ahead.erase(idx);
      st.backing_off.erase(idx);
      auto& seat = st.workers[idx];
      if (seat)
        st.index_of.erase(seat.id());
      seat = caf::actor_cast<worker_actor>(std::move(w));
      st.index_of[seat.id()] = idx;
    },
    [=](run_atom, std::vector<indexed_task>& tasks) {
      for (auto& x : tasks)
        hand_to(self, x.idx, std::move(x.task));
    },
    [=](cancel_atom a, bool abort, const std::string& why) {
      auto& st = self->state;
      std::vector<indexed_task> dropped;
      for (auto& [idx, task] : st.ahead)
        dropped.push_back(indexed_task{idx, std::move(task)});
      st.ahead.clear();
      // After every run this relay sent: each worker sees its task first.
      for (auto& [idx, w] : st.workers)
        self->send(w, a, abort, why);
      return dropped;
    },
    [=](backoff_atom a, bool entering, uint64_t seq) {
      // The promise behind delegate() takes the sender with it.
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      auto delegated = self->delegate(self->state.listener, a, entering, seq);
      on_backoff(self, sender, entering);
      return delegated;
    },
    [=](permit_atom a, uint64_t seq) {
      return self->delegate(self->state.listener, a, seq);
    },
    [=](throttle_atom a, int64_t started_us) {
      return self->delegate(self->state.listener, a, started_us);
    },
    [=](abort_atom a, std::string& why) {
      return self->delegate(self->state.listener, a, std::move(why));
    },
  };
}

} // namespace

result_relay_actor spawn_result_relay(caf::actor_system& sys,
                                      caf::actor supervisor) {
  return sys.spawn(relay, std::move(supervisor));
}

} // namespace troupe
