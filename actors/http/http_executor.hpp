#pragma once

// The executor for service targets (Dify workflow, chat and completion apps,
// and any HTTP JSON endpoint): it turns an attempt into an HTTP call on the
// shared asynchronous client, follows streams event by event, classifies
// the answer, and makes Dify's stop call when a stream is cancelled.
//
//   worker ──execute──▶ http_executor ──submit──▶ http_client (I/O thread)
//          ◀──reply───        ▲  ◀──http_done / http_chunk (batches)───┘

#include "actors/executor.hpp"
#include "actors/http/dify_protocol.hpp"
#include "actors/http/http_client.hpp"

#include <caf/fwd.hpp>

#include <memory>
#include <string>

namespace troupe {

/// The executor's handle; http_done and http_chunk come from the client.
using http_executor_actor = executor_actor::extend<
  caf::reacts_to<http_done_atom, std::vector<http_result>>,
  // Streams' bytes, a loop turn's at once (a local message only).
  caf::reacts_to<http_chunk_atom, std::vector<http_chunk>>,
  caf::replies_to<status_atom>::with<http_executor_status>>;

/// The executor's parameters.
struct http_executor_config {
  http_target target;
  /// The client, owned with the runtime, which stops it before the actor
  /// system goes down.
  std::shared_ptr<http_client> client;
};

/// Spawns the executor and starts its client.
http_executor_actor spawn_http_executor(caf::actor_system& sys,
                                        http_executor_config cfg);

} // namespace troupe
