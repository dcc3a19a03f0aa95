// A run on CAF's threads: progress on stderr, Ctrl+C to cancel, and the
// HTTP client stopped after the actors.

#include "actors/exec/child_spawn.hpp"
#include "actors/results/progress.hpp"
#include "runtime/node_rejoin.hpp"
#include "runtime/run_actors.hpp"
#include "runtime/signals.hpp"
#include "runtime/system.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace troupe::runtime {

namespace {

// Columns of the terminal on stderr, 0 when unknown.
size_t terminal_width() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 0;
}

} // namespace

run_outcome run_threaded(const run_parts& p) {
  // Block SIGINT/SIGTERM before CAF starts its threads.
  signal_watcher signals;
  auto& opts = p.opts;
  // auto: a live line on a terminal, a plain line every 5 s elsewhere;
  // always: the live line even when stderr is not a terminal.
  bool show_progress = opts.progress != progress_mode::never;
  bool live
    = opts.progress == progress_mode::always || ::isatty(STDERR_FILENO) == 1;
  run_outcome out;
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.set("scheduler.max-threads", scheduler_threads());
  // An idle CAF worker polls 100 times, then by default 500 more times
  // with 50 us sleeps before it waits on a condition variable. Under an
  // HTTP load, where work arrives from the client's thread, the workers go
  // idle thousands of times a second and those sleeps cost a syscall and a
  // context switch each (220,000 on B4): wait on the condition variable
  // almost at once instead. Stub runs keep CAF's default, which is faster
  // for them (B1).
  if (p.client)
    cfg.set("work-stealing.moderate-poll-attempts", size_t{1});
  if (!p.nodes.empty())
    enable_network(cfg, opts.tls);
  {
    caf::actor_system sys{cfg};
    std::vector<node_link> nodes;
    if (!p.nodes.empty()) {
      auto linked = connect_nodes(sys, p.nodes, p.manifest_text,
                                  opts.tls.enabled(), p.sent_key);
      if (auto* err = std::get_if<std::string>(&linked)) {
        std::fprintf(stderr, "troupe: %s\n", err->c_str());
        out.exit = exit_usage;
        return out;
      }
      nodes = std::move(std::get<std::vector<node_link>>(linked));
      if (auto code = p.begin(); code != exit_ok) {
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
      progress_actor progress;
      if (show_progress) {
        progress_config pc;
        pc.source = sup;
        pc.out = stderr;
        pc.live = live;
        pc.interval_us = live ? 250'000 : 5'000'000;
        pc.width = terminal_width();
        progress = spawn_progress(sys, pc);
      }
      // A second Ctrl+C exits at once: no exec command may outlive it.
      signals.on_second(kill_all_commands);
      signals.start(p.write_lock, [sup](int sig) {
        std::fprintf(stderr,
                     "\ntroupe: %s: cancelling; in-flight tasks finish, the "
                     "rest end CANCELLED (press Ctrl+C again to quit now)\n",
                     sig == SIGINT ? "interrupt" : "terminate");
        caf::anon_send(sup, cancel_atom::value,
                       std::string{cancel_reason(sig)});
      });
      caf::anon_send(sup, start_atom::value);
      self->receive([&](done_atom, run_summary& s, bool ok) {
        out.summary = std::move(s);
        out.results_ok = ok;
      });
      // No signal may reach the system once it starts shutting down.
      signals.stop();
      if (rejoiner)
        self->send_exit(rejoiner, caf::exit_reason::user_shutdown);
      if (progress) {
        self->send_exit(progress, caf::exit_reason::user_shutdown);
        self->wait_for(progress);
        if (live)
          clear_progress_line(stderr);
      }
      self->send_exit(a.executor, caf::exit_reason::user_shutdown);
      self->wait_for(a.executor);
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
