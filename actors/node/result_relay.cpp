// The relay: batches results, delegates the rest.

#include "actors/node/result_relay.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <vector>

namespace troupe {

namespace {

/// A batch goes out at this size even if more results are queued.
constexpr size_t max_batch = 256;
/// How long the first result of a batch waits for others.
constexpr auto flush_after = std::chrono::milliseconds{1};

struct relay_state {
  result_batch_listener supervisor;
  worker_listener listener;
  std::vector<indexed_result> batch;
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
      // Results that come within the next millisecond join this batch.
      if (batch.empty())
        self->delayed_send(self, flush_after, flush_atom::value);
      batch.push_back(indexed_result{idx, std::move(r)});
      if (batch.size() >= max_batch)
        flush(self);
    },
    [=](flush_atom) { flush(self); },
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
