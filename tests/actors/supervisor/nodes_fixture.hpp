#pragma once

// Fake nodes for the supervisor's node tests, on virtual time: in the same
// system, they spawn real workers on the stub executor, with a real relay
// (actors/node/result_relay.hpp) or none. A node is lost by
// an exit with remote_link_unreachable, as the middleman does. Its workers
// are not linked to it, so they live on and send late results, backoffs
// and permits, which the supervisor must drop.

#include "actors/node/result_relay.hpp"

#include "tests/actors/supervisor/supervisor_fixture.hpp"

#include <set>

namespace troupe::test {

struct fake_node_state {
  uint32_t workers = 0;
  worker_config worker;
  /// Every worker it spawned, kept by the test (they outlive a lost node).
  std::shared_ptr<std::vector<worker_actor>> spawned;
  /// A mute node never answers `workers`.
  std::vector<caf::typed_response_promise<std::vector<caf::actor>, caf::actor>>
    unanswered;
  /// Its relay, when it has one: spawned with its first workers.
  result_relay_actor relay;
};

inline node_actor::behavior_type
fake_node(node_actor::stateful_pointer<fake_node_state> self, uint32_t workers,
          worker_config base, bool mute, bool with_relay,
          std::shared_ptr<std::vector<worker_actor>> spawned) {
  self->state.spawned = std::move(spawned);
  self->state.workers = workers;
  self->state.worker = std::move(base);
  return {
    [=](hello_atom, const std::string&, uint64_t) {
      return std::make_tuple(std::string{"test"}, uint64_t{0},
                             self->state.workers);
    },
    [=](prepare_atom, const std::string&, const std::string&) {
      return std::string{};
    },
    [=](workers_atom, caf::actor& listener, uint32_t first, uint32_t count,
        int64_t) {
      // Without a relay the supervisor sends each worker its own tasks.
      auto rp
        = self->make_response_promise<std::vector<caf::actor>, caf::actor>();
      if (mute) {
        self->state.unanswered.push_back(rp);
        return rp;
      }
      auto& relay = self->state.relay;
      if (with_relay && !relay) {
        relay = spawn_result_relay(self->system(), listener);
        self->link_to(relay);
      }
      std::vector<caf::actor> out;
      for (uint32_t i = 0; i < std::min(count, self->state.workers); ++i) {
        auto wc = self->state.worker;
        wc.index = first + i;
        wc.listener = relay ? caf::actor_cast<worker_listener>(relay)
                            : caf::actor_cast<worker_listener>(listener);
        auto w = spawn_worker(self->system(), std::move(wc));
        out.push_back(caf::actor_cast<caf::actor>(w));
        if (relay)
          self->send(relay, workers_atom::value, first + i, out.back());
        self->state.spawned->push_back(std::move(w));
      }
      rp.deliver(std::move(out), caf::actor_cast<caf::actor>(relay));
      return rp;
    },
  };
}

struct nodes_fixture : supervisor_fixture {
  std::vector<node_actor> nodes;
  /// Workers in the supervisor's process.
  uint32_t local_workers = 1;
  /// Nodes (by index) that never give their workers.
  std::set<size_t> mute;
  /// Whether the nodes batch through a relay, as real ones do (and so get
  /// the window: a task queued ahead of each busy worker). A relay goes
  /// with its node, as in a node's process.
  bool relays = false;
  /// How long a run with no worker left waits for a node.
  int64_t node_grace_us = 30'000'000;
  /// The workers' parameters, for nodes that come later.
  worker_config base_worker;

  /// The fake nodes' workers, stopped at the end.
  std::shared_ptr<std::vector<worker_actor>> node_workers
    = std::make_shared<std::vector<worker_actor>>();

  ~nodes_fixture() {
    for (auto& n : nodes)
      caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
    for (auto& w : *node_workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  }

  /// A run of `tasks` with `local_workers` and one node per entry of
  /// `sizes` (named n0, n1, ...).
  void start_nodes(size_t tasks, uint32_t concurrency,
                   std::vector<uint32_t> sizes, stub_settings s) {
    exec = spawn_stub_executor(sys, std::move(s));
    source = std::make_shared<vector_source>(tasks);
    listener = std::make_unique<caf::scoped_actor>(sys);
    supervisor_config sc;
    sc.dispatch = dispatch;
    sc.concurrency = concurrency;
    sc.local_workers = local_workers;
    sc.worker.executor = exec;
    sc.worker.retry = retry;
    sc.worker.timeout_us = timeout_us;
    sc.worker.run_start = t0;
    sc.worker.fault = fault;
    sc.node_grace_us = node_grace_us;
    base_worker = sc.worker;
    base_worker.gated = dispatch.gates_retries();
    for (size_t k = 0; k < sizes.size(); ++k) {
      auto wc = sc.worker;
      wc.gated = dispatch.gates_retries();
      nodes.push_back(sys.spawn(fake_node, sizes[k], std::move(wc),
                                mute.count(k) > 0, relays, node_workers));
      sc.nodes.push_back(
        node_link{"n" + std::to_string(k), nodes.back(), sizes[k], {}});
    }
    sc.source = source;
    sc.total = tasks;
    sc.sink = spawn_recording_sink(sink_rec);
    sc.listener = caf::actor_cast<caf::actor>(*listener);
    sup = spawn_supervisor(sys, std::move(sc));
    caf::anon_send(sup, start_atom::value);
  }

  /// A node of `workers` that comes back, as the rejoiner announces it:
  /// node `nodes.size()`, named `name`.
  void come_back(const std::string& name, uint32_t workers) {
    nodes.push_back(
      sys.spawn(fake_node, workers, base_worker, false, relays, node_workers));
    caf::anon_send(sup, node_up_atom::value, name,
                   caf::actor_cast<caf::actor>(nodes.back()), workers);
    run();
  }

  void lose(size_t k) {
    caf::anon_send_exit(nodes.at(k), caf::exit_reason::remote_link_unreachable);
    run();
  }

  std::string lost_text(size_t k) {
    return "node n" + std::to_string(k) + " lost: "
           + crash_text(
             sys, caf::make_error(caf::exit_reason::remote_link_unreachable));
  }

  /// Every task has exactly one line.
  void check_one_line_each(size_t tasks) {
    BOOST_CHECK_EQUAL(sink_rec->results.size(), tasks);
    std::set<std::string> ids;
    for (auto& r : sink_rec->results)
      ids.insert(r.task_id);
    BOOST_CHECK_EQUAL(ids.size(), tasks);
  }
};

} // namespace troupe::test
