// A run on CAF's threads: the nodes joined first (when there are any), the
// run driven to its end, and the HTTP client stopped after the actors.
// Progress, Ctrl+C and callbacks belong to the caller (run_core).

#include "runtime/node_rejoin.hpp"
#include "runtime/run_actors.hpp"
#include "runtime/system.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <cstdio>
#include <thread>

namespace troupe::runtime {

run_outcome run_threaded(const run_parts& p) {
  auto& opts = p.opts;
  run_outcome out;
  // Owned here unless the process ends right after the run (quick_exit):
  // then the system is left standing, idle, for the process's end to stop.
  // Tearing it down cost 5 to 15 ms a run (its actors to end, the
  // scheduler's threads, the middleman's connections); the system keeps a
  // reference to its config, which stays too.
  auto owned_cfg = std::make_unique<caf::actor_system_config>();
  auto& cfg = *owned_cfg;
  register_message_types(cfg);
  cfg.set("scheduler.max-threads", scheduler_threads());
  // An idle CAF worker polls 100 times, then by default 500 more times
  // with 50 us sleeps before it waits on a condition variable. Under an
  // HTTP load, where work arrives from the client's thread, the workers go
  // idle thousands of times a second and those sleeps cost a syscall and a
  // context switch each (220,000 on B4): wait on the condition variable
  // almost at once instead. So with nodes and no local workers, whose
  // results arrive from the middleman's thread (B6: a fifth less CPU, runs
  // 1 to 2 % shorter). Work that actors hand each other stays on the
  // thread that made it until another one wakes, so stub runs with workers
  // here keep CAF's default, faster for them (B1).
  if (p.client
      || (!p.nodes.empty() && p.m.execution.local_workers.value_or(0) == 0))
    idle_on_condition(cfg);
  if (!p.nodes.empty())
    enable_network(cfg, opts.tls);
  {
    auto owned_sys = std::make_unique<caf::actor_system>(cfg);
    auto& sys = *owned_sys;
    std::vector<node_link> nodes;
    if (!p.nodes.empty()) {
      auto linked = connect_nodes(sys, p.nodes, p.manifest_text,
                                  opts.tls.enabled(), p.sent_key);
      if (p.await_datasets)
        if (auto code = p.await_datasets(out.error); code != exit_ok) {
          out.exit = code;
          return out;
        }
      if (auto* err = std::get_if<std::string>(&linked)) {
        out.exit = exit_usage;
        out.error = std::move(*err);
        return out;
      }
      nodes = std::move(std::get<std::vector<node_link>>(linked));
      if (auto code = p.begin(out.error); code != exit_ok) {
        out.exit = code;
        return out;
      }
    }
    {
      caf::scoped_actor self{sys};
      rejoin_config rc;
      for (size_t k = 0; k < nodes.size(); ++k)
        rc.nodes.emplace_back(p.nodes[k],
                              caf::actor_cast<caf::actor>(nodes[k].node));
      auto a = spawn_run(sys, p, caf::actor_cast<caf::actor>(self),
                         std::move(nodes));
      auto sup = a.supervisor;
      caf::actor rejoiner;
      if (!rc.nodes.empty()) {
        rc.supervisor = caf::actor_cast<caf::actor>(sup);
        rc.manifest_text = p.manifest_text;
        rc.sent_key = p.sent_key;
        rc.tls = opts.tls.enabled();
        rejoiner = spawn_rejoiner(sys, std::move(rc));
      }
      caf::anon_send(sup, start_atom::value);
      // After start: a cancel asked for earlier reaches a started run.
      if (p.started)
        p.started(sys, sup);
      self->receive([&](done_atom, run_summary& s, bool ok) {
        out.summary = std::move(s);
        out.results_ok = ok;
      });
      // Nothing may reach the supervisor once the system shuts down.
      if (p.stopping)
        p.stopping(out.summary);
      if (rejoiner)
        self->send_exit(rejoiner, caf::exit_reason::user_shutdown);
      self->send_exit(a.executor, caf::exit_reason::user_shutdown);
      self->wait_for(a.executor);
    }
    if (opts.quick_exit) {
      (void)owned_sys.release();
      (void)owned_cfg.release();
    }
    // The client's thread sends into the actor system: stop it first. A
    // Dify stop call sent as an attempt ended (a deadline, a cancel) is let
    // finish first, briefly: dropped here, it would never reach the server,
    // which would run the workflow to its end.
    if (p.client) {
      p.client->drain(std::chrono::seconds{2});
      p.client->stop();
    }
  }
  return out;
}

} // namespace troupe::runtime
