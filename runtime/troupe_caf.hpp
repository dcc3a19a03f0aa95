#pragma once

// For programs that know CAF: any actor that speaks executor_actor
// (actors/executor.hpp) as a run's executor. Kept apart from troupe.hpp so
// that the plain API needs no CAF header.
//
//   troupe::run_options opts;
//   troupe::use_actor_executor(opts, [](caf::actor_system& sys) {
//     return troupe::executor_actor{sys.spawn(my_executor)};
//   });
//
// The factory is called once per run, on the run's thread, with the run's
// own actor system. The actor gets `execute` (reply with an attempt_reply),
// `abort` (the attempt's deadline passed or the run aborted: drop it, no
// reply) and `cancel` (a graceful cancel: stop early if it can, still
// reply). At the end of the run it gets an exit message (user_shutdown);
// actors it spawned must end with it (link them), or the run never ends.
// Only troupe's message types are registered with the run's system.

#include "actors/executor.hpp"
#include "runtime/troupe.hpp"

#include <caf/fwd.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace troupe {

/// Makes a run's executor in the run's actor system.
struct actor_executor_factory {
  std::function<executor_actor(caf::actor_system&)> make;
};

/// Makes `opts` run its attempts on the actor that `make` spawns (over
/// execute and the manifest's target).
inline void
use_actor_executor(run_options& opts,
                   std::function<executor_actor(caf::actor_system&)> make) {
  opts.actor_executor = std::make_shared<const actor_executor_factory>(
    actor_executor_factory{std::move(make)});
}

} // namespace troupe
