#pragma once

// Adapters from the manifest's structs (config/) to the actors' settings:
// seconds become microseconds, config enums become the actors' own.

#include "actors/http/http_client.hpp"
#include "actors/http/http_executor.hpp"
#include "actors/stub/stub_executor.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "actors/worker/worker.hpp"
#include "config/manifest.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace troupe::runtime {

/// Seconds to whole microseconds, rounded.
int64_t seconds_to_us(double s);

/// The stub executor's script.
stub_settings make_stub_settings(const config::stub_config& s);

/// The workers' retry policy.
retry_settings make_retry_settings(const config::retry_policy& r);

/// The HTTP executor's target, with the API key read from the environment.
http_target make_http_target(const config::target_config& t,
                             std::string api_key);

/// An HTTP client for the target (its CA file, response cap and the
/// environment's proxies), with the process's file limit raised to its hard
/// limit for thousands of connections.
std::shared_ptr<http_client> make_http_client(const config::target_config& t);

/// Sends the stub script's events (stub.events) at their times, counted
/// from a run start `elapsed_us` ago (events already due go at once): the
/// setters to `stub`, cancel to `supervisor` (a node passes none; the
/// supervisor cancels for the whole run).
void schedule_stub_events(const std::vector<config::stub_event>& events,
                          const stub_executor_actor& stub,
                          const supervisor_actor& supervisor,
                          int64_t elapsed_us);

/// The workers' parameters from the manifest, all but index, listener and
/// run start (local workers and a node's alike).
worker_config make_worker_config(const config::manifest& m,
                                 executor_actor executor, uint64_t jitter_seed);

/// The supervisor's dispatch limits: rate, batches, adaptive concurrency,
/// run deadline.
dispatch_settings make_dispatch_settings(const config::execution_policy& e);

} // namespace troupe::runtime
