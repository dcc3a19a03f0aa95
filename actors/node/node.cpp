// The node actor: one run at a time, owned by the supervisor that asked for
// its workers.
//
//   (no run) ──prepare ok──▶ prepared ──workers──▶ running
//       ▲                                             │ down(supervisor),
//       └─────────── workers and executor exit ◀──────┘ exit(node)

#include "actors/node/node.hpp"

#include "actors/node/result_relay.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <tuple>

namespace troupe {

namespace {

struct node_state {
  node_config cfg;
  /// The prepared run, if any.
  std::optional<node_run> run;
  /// The supervisor its workers report to, once spawned, and the relay
  /// they report through.
  caf::actor listener;
  result_relay_actor relay;
  std::vector<worker_actor> workers;
  /// The run's start on this node's clock.
  caf::actor_clock::time_point start;
  static inline const char* name = "node";
};

using node_pointer = node_actor::stateful_pointer<node_state>;

// Ends the current run: its workers and its executor exit.
void end_run(node_pointer self) {
  auto& st = self->state;
  for (auto& w : st.workers)
    self->send_exit(w, caf::exit_reason::user_shutdown);
  st.workers.clear();
  if (st.run) {
    self->send_exit(st.run->executor, caf::exit_reason::user_shutdown);
    if (st.run->finish)
      st.run->finish();
  }
  st.run.reset();
  if (st.listener)
    self->demonitor(st.listener);
  st.listener = nullptr;
  if (st.relay)
    self->send_exit(st.relay, caf::exit_reason::user_shutdown);
  st.relay = result_relay_actor{};
}

std::string on_prepare(node_pointer self, const std::string& manifest,
                       const std::string& key) {
  auto& st = self->state;
  if (st.listener)
    return "the node is running another supervisor's tasks";
  end_run(self);
  auto made = st.cfg.prepare(self->system(), manifest, key);
  if (auto* why = std::get_if<std::string>(&made))
    return *why;
  st.run = std::move(std::get<node_run>(made));
  return {};
}

std::tuple<std::vector<caf::actor>, caf::actor>
on_workers(node_pointer self, caf::actor listener, uint32_t first,
           uint32_t count, int64_t elapsed_us) {
  auto& st = self->state;
  std::vector<caf::actor> out;
  if (!st.run || !listener || (st.listener && st.listener != listener))
    return {out, caf::actor{}};
  // A later call from the same supervisor replaces workers that crashed.
  bool again = static_cast<bool>(st.listener);
  if (!again) {
    st.listener = listener;
    self->monitor(listener);
    st.start = self->clock().now() - std::chrono::microseconds{elapsed_us};
    st.relay = spawn_result_relay(self->system(), listener);
  }
  count = std::min(count, st.cfg.workers);
  for (uint32_t i = 0; i < count; ++i) {
    auto wc = st.run->worker;
    wc.index = first + i;
    wc.listener = caf::actor_cast<worker_listener>(st.relay);
    wc.run_start = st.start;
    auto w = spawn_worker(self->system(), std::move(wc));
    out.push_back(caf::actor_cast<caf::actor>(w));
    // Before the reply: the supervisor's first batch finds it.
    self->send(st.relay, workers_atom::value, first + i, out.back());
    st.workers.push_back(std::move(w));
  }
  if (!again && st.run->start)
    st.run->start(elapsed_us);
  return {out, caf::actor_cast<caf::actor>(st.relay)};
}

node_actor::behavior_type node(node_pointer self, node_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_down_handler([=](caf::down_msg& dm) {
    if (dm.source == self->state.listener.address())
      end_run(self);
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    end_run(self);
    self->quit(msg.reason);
  });
  return {
    [=](hello_atom, const std::string&, uint64_t) {
      auto& c = self->state.cfg;
      return std::make_tuple(c.version, c.protocol, c.workers);
    },
    [=](prepare_atom, const std::string& manifest, const std::string& key) {
      return on_prepare(self, manifest, key);
    },
    [=](workers_atom, caf::actor& listener, uint32_t first, uint32_t count,
        int64_t elapsed_us) {
      return on_workers(self, std::move(listener), first, count, elapsed_us);
    },
  };
}

} // namespace

node_actor spawn_node(caf::actor_system& sys, node_config cfg) {
  return sys.spawn(node, std::move(cfg));
}

} // namespace troupe
