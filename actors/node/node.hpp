#pragma once

// A node (`troupe node`) hosts workers for a supervisor in another process,
// over CAF's middleman. It tells its version, prepares a run from the
// manifest's text (its executor, the workers' parameters), and spawns that
// run's workers, which then speak the worker protocol with the supervisor
// directly. When the supervisor goes (run over, connection lost), the run's
// workers and executor go too.
//
//   supervisor ─hello(version, protocol)─▶ node ─▶ (version, protocol, N)
//              ─prepare(manifest text, key)─▶  ─▶ "" or why not
//              ─workers(listener, first index, count, elapsed us)─▶ handles
//   down(supervisor) ─▶ the run's workers and executor exit

#include "actors/executor.hpp"
#include "actors/worker/worker.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace troupe {

/// A node's handle. Only built-in types cross, so that any two versions can
/// still compare theirs: `hello` answers (version, protocol, workers);
/// `prepare` (the manifest's text, and the API key when the supervisor sends
/// it over TLS, else "" for the node's own environment) answers "" or the
/// reason the node cannot run the manifest;
/// `workers` (listener, first index, count, the supervisor's elapsed time in
/// us) answers the run's worker handles: the first call spawns up to the
/// node's workers, later ones from the same listener replace crashed ones;
/// with them comes the run's relay, which takes the workers' tasks in
/// batches (or a null actor: send each worker its own).
using node_actor = caf::typed_actor<
  caf::replies_to<hello_atom, std::string, uint64_t>::with<std::string,
                                                           uint64_t, uint32_t>,
  caf::replies_to<prepare_atom, std::string, std::string>::with<std::string>,
  caf::replies_to<workers_atom, caf::actor, uint32_t, uint32_t,
                  int64_t>::with<std::vector<caf::actor>, caf::actor>>;

/// What a node runs one supervisor's tasks with, made from its manifest.
struct node_run {
  executor_actor executor;
  /// The workers' parameters but index, listener and run start.
  worker_config worker;
  /// Called once the run's workers are spawned, with the supervisor's
  /// elapsed time (schedules the stub script's events); may be empty.
  std::function<void(int64_t elapsed_us)> start;
  /// Called once the run's workers and executor are told to exit (stops
  /// an HTTP client); may be empty.
  std::function<void()> finish;
};

/// Makes a run from a manifest's text and the key the supervisor sent ("":
/// none), or says why it cannot.
using node_prepare = std::function<std::variant<node_run, std::string>(
  caf::actor_system&, const std::string& manifest, const std::string& key)>;

/// A node's parameters.
struct node_config {
  /// Workers per run.
  uint32_t workers = 8;
  std::string version;
  uint64_t protocol = 0;
  node_prepare prepare;
};

/// Spawns a node; publishing it is up to the caller.
node_actor spawn_node(caf::actor_system& sys, node_config cfg);

} // namespace troupe
