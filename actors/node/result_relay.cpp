// The relay: batches results, delegates the rest.

#include "actors/node/result_relay.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unordered_map>
#include <vector>

namespace troupe {

namespace {

/// A batch goes out at this size even if more results are queued.
constexpr size_t max_batch = 256;

struct relay_state {
  result_batch_listener supervisor;
  worker_listener listener;
  std::vector<indexed_result> batch;
  /// The node's workers by index.
  std::unordered_map<uint32_t, worker_actor> workers;
  static inline const char* name = "result_relay";
};

using relay_pointer = result_relay_actor::stateful_pointer<relay_state>;

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
    },
    [=](flush_atom) { flush(self); },
    [=](workers_atom, uint32_t idx, caf::actor& w) {
      self->state.workers[idx] = caf::actor_cast<worker_actor>(std::move(w));
    },
    [=](run_atom, std::vector<indexed_task>& tasks) {
      auto& workers = self->state.workers;
      for (auto& x : tasks)
        if (auto i = workers.find(x.idx); i != workers.end())
          self->send(i->second, run_atom::value, std::move(x.task));
    },
    [=](backoff_atom a, bool entering, uint64_t seq) {
      return self->delegate(self->state.listener, a, entering, seq);
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
