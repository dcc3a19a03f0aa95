// A run on CAF's deterministic scheduler (--virtual-time): nothing runs in
// parallel, and when nothing is runnable the clock jumps straight to the
// next timer, so minutes of backoff take no time and reruns are identical.

#include "runtime/run_actors.hpp"
#include "runtime/system.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include <cstdio>
#include <memory>

namespace troupe::runtime {

namespace {

/// Receives the supervisor's (done, summary, ok) under virtual time.
struct done_state {
  bool done = false;
  run_summary summary;
  bool ok = false;
};

caf::behavior done_catcher(caf::event_based_actor* self,
                           std::shared_ptr<done_state> out) {
  return {
    [=](done_atom, run_summary& s, bool ok) {
      out->done = true;
      out->summary = std::move(s);
      out->ok = ok;
      self->quit();
    },
  };
}

} // namespace

run_outcome run_virtual(const run_parts& p) {
  run_outcome out;
  caf::actor_system_config cfg;
  register_message_types(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  {
    caf::actor_system sys{cfg};
    auto& sched
      = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    auto state = std::make_shared<done_state>();
    auto catcher = sys.spawn(done_catcher, state);
    auto a = spawn_run(sys, p, catcher);
    caf::anon_send(a.supervisor, start_atom::value);
    bool cancel_sent = false;
    for (;;) {
      sched.run();
      if (state->done)
        break;
      // A cancel only sets a flag: the coordinator is not thread-safe.
      std::string why;
      if (!cancel_sent && p.cancel_asked && p.cancel_asked(why)) {
        caf::anon_send(a.supervisor, cancel_atom::value, std::move(why));
        cancel_sent = true;
        continue;
      }
      if (!sched.trigger_timeout()) {
        std::fprintf(stderr, "troupe: virtual time: the run stalled with "
                             "nothing left to wait for\n");
        break;
      }
    }
    out.summary = state->summary;
    out.results_ok = state->ok;
    // Stop what is left and let every pending timer go, or the actor
    // system would wait for them forever.
    caf::anon_send_exit(a.executor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(a.supervisor, caf::exit_reason::user_shutdown);
    do {
      sched.run();
    } while (sched.trigger_timeouts() > 0);
  }
  return out;
}

} // namespace troupe::runtime
