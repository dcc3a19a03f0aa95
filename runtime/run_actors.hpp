#pragma once

// The actors of one run, spawned and wired, and the two drivers that run
// them to the end: on CAF's threads, or on its deterministic scheduler in
// virtual time (--virtual-time).
//
//   run_core ─▶ run_parts ─▶ run_threaded | run_virtual ─▶ spawn_run
//                                       ─▶ (done, summary, results_ok)

#include "actors/executor.hpp"
#include "actors/http/http_client.hpp"
#include "actors/results/result_sink.hpp"
#include "actors/stub/stub_executor.hpp"
#include "actors/supervisor/run_stats.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "actors/supervisor/task_source.hpp"
#include "config/manifest.hpp"
#include "runtime/nodes.hpp"
#include "runtime/result_cache.hpp"
#include "runtime/results_target.hpp"
#include "runtime/run.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace troupe::runtime {

/// What the actor system needs for one run.
struct run_parts {
  const config::manifest& m;
  results_target& target;
  std::shared_ptr<task_source> source;
  std::shared_ptr<http_client> client;
  std::string api_key;
  std::shared_ptr<cached_source> cache;
  int64_t epoch_us;
  const run_options& opts;
  /// The sink's write lock, taken by a second Ctrl+C before it exits.
  std::shared_ptr<std::mutex> write_lock;
  /// Nodes whose workers join the run, and the manifest's text for them.
  std::vector<node_address> nodes = {};
  std::string manifest_text = {};
  /// The key sent to the nodes (--send-keys, over TLS), else "".
  std::string sent_key = {};
  /// With nodes: starts the results file once every node said yes (so
  /// that a refused node leaves no run behind); an exit code, 0 to go on,
  /// and why not.
  std::function<int(std::string&)> begin = nullptr;
  /// With nodes: waits for the datasets' pass, which ran while they
  /// connected; called first once they did or failed to (a broken dataset
  /// is the first error to tell). An exit code, 0 to go on, and why not.
  std::function<int(std::string&)> await_datasets = nullptr;
  /// A program's executor, over the target's (library API).
  /// Called first, before any other actor is spawned; a throw or a null
  /// handle becomes troupe::error (bad_input, "executor factory: ...").
  std::function<executor_actor(caf::actor_system&)> make_executor = nullptr;
  /// Caps the workers of make_executor's run (a function's pool), 0: none.
  uint32_t executor_slots = 0;
  /// Told every finished attempt, on a worker's thread; empty for none.
  std::function<void(const attempt_event&)> on_attempt = nullptr;
  /// Shown every result the sink gets, in the order it writes them.
  std::function<void(const task_result&)> on_result = nullptr;
  /// Threaded: the run is under way (its start sent), and it is over (the
  /// supervisor is done; the system is about to go).
  std::function<void(caf::actor_system&, const supervisor_actor&)> started
    = nullptr;
  /// `stopping` gets the run's summary.
  std::function<void(const run_summary&)> stopping = nullptr;
  /// Virtual time: whether a cancel was asked for, and why (polled).
  std::function<bool(std::string&)> cancel_asked = nullptr;
};

struct run_outcome {
  run_summary summary;
  bool results_ok = false;
  /// Set when the run did not start: the exit code, and why.
  int exit = -1;
  std::string error;
};

/// The actors of a run, spawned and wired.
struct run_actors {
  result_sink_actor sink;
  executor_actor executor;
  stub_executor_actor stub;
  supervisor_actor supervisor;
};

/// Spawns the sink, the executor and the supervisor, which reports to
/// `listener` and runs on `nodes` too, and schedules the stub script's
/// events.
run_actors spawn_run(caf::actor_system& sys, const run_parts& p,
                     caf::actor listener, std::vector<node_link> nodes = {});

/// The cancel reason for a signal.
const char* cancel_reason(int sig);

/// Runs on CAF's threads.
run_outcome run_threaded(const run_parts& p);

/// Runs on CAF's deterministic scheduler: nothing runs in parallel, and when
/// nothing is runnable the clock jumps straight to the next timer.
run_outcome run_virtual(const run_parts& p);

} // namespace troupe::runtime
