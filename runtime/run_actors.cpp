// Spawns and wires the actors of one run.

#include "runtime/run_actors.hpp"

#include "actors/exec/exec_executor.hpp"
#include "runtime/settings.hpp"
#include "runtime/troupe.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <random>
#include <string>

namespace troupe::runtime {

namespace {

process_pool_options make_exec_options(const config::manifest& m) {
  process_pool_options out;
  out.argv = m.target.argv;
  out.working_dir = m.target.working_dir;
  out.size = config::exec_pool_size(m.target, m.execution.concurrency);
  out.max_stdout_bytes = m.target.max_response_bytes;
  return out;
}

} // namespace

run_actors spawn_run(caf::actor_system& sys, const run_parts& p,
                     caf::actor listener, std::vector<node_link> nodes) {
  auto& m = p.m;
  run_actors a;
  // A program's factory goes first: when it throws or gives no actor, the
  // run does not start, and nothing else is spawned yet that would keep the
  // system from ending.
  if (p.make_executor) {
    try {
      a.executor = p.make_executor(sys);
    } catch (const std::exception& e) {
      throw troupe::error{troupe::error::bad_input,
                          std::string{"executor factory: "} + e.what()};
    } catch (...) {
      throw troupe::error{troupe::error::bad_input,
                          "executor factory: a non-standard exception"};
    }
    if (!a.executor)
      throw troupe::error{troupe::error::bad_input,
                          "executor factory: it returned no actor"};
  }
  result_sink_config rc;
  rc.fd = p.target.fd;
  rc.epoch_us = p.epoch_us;
  rc.path = p.target.path;
  rc.write_lock = p.write_lock;
  if (p.cache && p.on_result)
    rc.observer = [cache = p.cache, f = p.on_result](const task_result& r) {
      cache->observe(r);
      f(r);
    };
  else if (p.cache)
    rc.observer
      = [cache = p.cache](const task_result& r) { cache->observe(r); };
  else
    rc.observer = p.on_result;
  a.sink = spawn_result_sink(sys, std::move(rc));
  if (p.make_executor) {
    // made above
  } else if (m.target.type == config::target_type::exec) {
    a.executor = spawn_exec_executor(sys, make_exec_options(m));
  } else if (p.client) {
    a.executor = spawn_http_executor(
      sys,
      http_executor_config{make_http_target(m.target, p.api_key), p.client});
  } else {
    a.stub = spawn_stub_executor(sys, make_stub_settings(m.stub));
    a.executor = a.stub;
  }
  bool seeded = m.target.type == config::target_type::stub;
  auto wc = make_worker_config(m, a.executor,
                               seeded ? m.stub.seed : std::random_device{}());
  wc.run_start = sys.clock().now();
  wc.on_attempt = p.on_attempt;
  supervisor_config sc;
  sc.concurrency = m.execution.concurrency;
  // exec: a worker per pool slot at most, so no attempt's timeout runs out
  // in the pool's queue (config/README.md, "An exec target").
  if (m.target.type == config::target_type::exec && !p.make_executor)
    sc.concurrency
      = std::min(sc.concurrency,
                 config::exec_pool_size(m.target, m.execution.concurrency));
  // A program's function: a worker per pool thread at most, for the same
  // reason (docs/library.md).
  if (p.make_executor && p.executor_slots > 0)
    sc.concurrency = std::min(sc.concurrency, p.executor_slots);
  sc.worker = wc;
  sc.source = p.source;
  sc.total = m.task_count();
  sc.sink = a.sink;
  sc.listener = std::move(listener);
  sc.baseline = p.target.baseline;
  sc.dispatch = make_dispatch_settings(m.execution);
  sc.nodes = std::move(nodes);
  sc.local_workers = m.execution.local_workers.value_or(0);
  sc.node_grace_us = seconds_to_us(m.execution.node_grace_seconds.value_or(30));
  a.supervisor = spawn_supervisor(sys, std::move(sc));
  schedule_stub_events(m.stub.events, a.stub, a.supervisor, 0);
  return a;
}

const char* cancel_reason(int sig) {
  return sig == SIGINT ? "cancelled by the user (SIGINT)"
                       : "cancelled by SIGTERM";
}

} // namespace troupe::runtime
