// The deterministic fixture and its recording actors.

#include "tests/support/deterministic_fixture.hpp"

#include "config/stub_behavior.hpp"
#include "runtime/system.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace troupe::test {

stub_behavior scripted(const char* text) {
  stub_behavior out;
  BOOST_REQUIRE_MESSAGE(config::parse_stub_behavior(text, out), text);
  return out;
}

namespace {

caf::actor_system_config& prepare(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  runtime::register_message_types(cfg);
  return cfg;
}

worker_listener::behavior_type recorder(worker_listener::pointer,
                                        std::shared_ptr<recorded> out) {
  return {
    [=](result_atom, uint32_t, task_result& r) {
      out->results.push_back(std::move(r));
    },
    [=](permit_atom, uint64_t) { return true; },
    [=](backoff_atom, bool entering, uint64_t) {
      out->backoff += entering ? 1 : -1;
      out->max_backoff = std::max(out->max_backoff, out->backoff);
    },
    [=](throttle_atom, int64_t) { ++out->throttled; },
    [=](abort_atom, std::string& why) { out->aborts.push_back(why); },
  };
}

result_sink_actor::behavior_type recording_sink(result_sink_actor::pointer self,
                                                std::shared_ptr<recorded> out) {
  return {
    [=](write_atom, const task_result& r) {
      out->results.push_back(r);
      // Acknowledge like the real sink, so the writer's backlog drains.
      caf::anon_send(caf::actor_cast<caf::actor>(self->current_sender()),
                     written_atom::value, uint64_t{1});
    },
    [=](flush_atom) {},
    [=](close_atom, const run_summary& s) {
      out->summaries.push_back(s);
      self->quit();
      return true;
    },
  };
}

} // namespace

const task_result& recorded::of(const std::string& task_id) const {
  for (auto& r : results)
    if (r.task_id == task_id)
      return r;
  BOOST_FAIL("no result for " + task_id);
  return results.front();
}

deterministic_fixture::deterministic_fixture()
  : sys(prepare(cfg)),
    sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
    t0(sched.clock().now()) {}

deterministic_fixture::~deterministic_fixture() {
  // ~actor_system waits for every actor: let all pending work and timers
  // run out first, or it would hang.
  do {
    sched.run();
  } while (sched.trigger_timeouts() > 0);
  sched.run();
}

void deterministic_fixture::run() {
  sched.run();
}

void deterministic_fixture::run_until_idle(std::chrono::milliseconds limit) {
  auto end = t0 + limit;
  for (;;) {
    sched.run();
    if (!sched.has_pending_timeout())
      return;
    if (sched.clock().now() >= end)
      return;
    sched.trigger_timeout();
  }
}

void deterministic_fixture::advance(std::chrono::microseconds d) {
  // Step from timer to timer, so that a timer set by a handler on the way
  // counts from the virtual time its handler ran at.
  auto target = sched.clock().now() + d;
  for (;;) {
    sched.run();
    auto& schedule = sched.clock().schedule();
    if (schedule.empty() || schedule.begin()->first > target)
      break;
    sched.trigger_timeout();
  }
  if (sched.clock().now() < target)
    sched.clock().current_time = target;
  sched.run();
}

double deterministic_fixture::now_ms() const {
  return std::chrono::duration<double, std::milli>(sched.clock().now() - t0)
    .count();
}

worker_listener
deterministic_fixture::spawn_recorder(std::shared_ptr<recorded> out) {
  return sys.spawn(recorder, std::move(out));
}

result_sink_actor
deterministic_fixture::spawn_recording_sink(std::shared_ptr<recorded> out) {
  return sys.spawn(recording_sink, std::move(out));
}

} // namespace troupe::test
