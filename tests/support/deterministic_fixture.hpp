#pragma once

// An actor system on CAF's deterministic scheduler (test_coordinator): no
// threads, virtual time that moves only when a test says so. Plus small
// actors that stand where the supervisor or the sink would be and record
// what they get.

#include "actors/results/result_sink.hpp"
#include "actors/worker/worker.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "tests/support/printing.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace troupe::test {

/// A stub behaviour from its text form ("failure", "delay:300ms"); fails
/// the test if the text does not parse.
stub_behavior scripted(const char* text);

/// What a recording listener saw.
struct recorded {
  std::vector<task_result> results;
  std::vector<std::string> aborts;
  /// Tasks in backoff now, and the most ever.
  int backoff = 0;
  int max_backoff = 0;
  int throttled = 0;
  /// For a recording sink: the summary it was closed with.
  std::vector<run_summary> summaries;

  /// The result of `task_id`; fails the test if there is none.
  const task_result& of(const std::string& task_id) const;
};

struct deterministic_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  caf::actor_clock::time_point t0;

  deterministic_fixture();
  ~deterministic_fixture();

  /// Runs every runnable actor until none is left; time stands still.
  void run();

  /// Runs, jumping virtual time from timer to timer, until nothing is left
  /// or `limit` of virtual time has passed.
  void run_until_idle(std::chrono::milliseconds limit = std::chrono::hours{24});

  /// Moves virtual time by `d` (firing due timers) and runs.
  void advance(std::chrono::microseconds d);

  /// Virtual milliseconds since the fixture started.
  double now_ms() const;

  /// A worker listener that records into `out`.
  worker_listener spawn_recorder(std::shared_ptr<recorded> out);

  /// A result sink that records into `out`.
  result_sink_actor spawn_recording_sink(std::shared_ptr<recorded> out);
};

/// Milliseconds as the results file writes them.
inline double ms(int64_t us) {
  return static_cast<double>(us) / 1000.0;
}

} // namespace troupe::test
