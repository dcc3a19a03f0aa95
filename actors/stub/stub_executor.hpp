#pragma once

// The stub executor: answers attempts as its script says, after a simulated
// delay that holds no thread (a delayed self-message). The original design's
// runtime setters are messages to it.

#include "actors/executor.hpp"
#include "actors/stub/stub_script.hpp"

#include <caf/fwd.hpp>

#include <string>
#include <vector>

namespace troupe {

/// The stub executor's handle: an executor plus the setters. `reply` is
/// internal (the end of a simulated delay).
using stub_executor_actor = executor_actor::extend<
  caf::reacts_to<set_behavior_atom, std::string, std::vector<stub_behavior>>,
  caf::reacts_to<set_failure_rate_atom, double>,
  caf::reacts_to<set_delay_atom, int64_t>, caf::reacts_to<clear_behaviors_atom>,
  caf::replies_to<status_atom>::with<stub_executor_status>,
  caf::reacts_to<reply_atom, uint64_t>>;

/// Spawns a stub executor with its initial script.
stub_executor_actor spawn_stub_executor(caf::actor_system& sys,
                                        stub_settings settings);

} // namespace troupe
