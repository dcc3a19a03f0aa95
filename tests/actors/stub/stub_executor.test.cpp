// The stub executor on virtual time: delays that hold no thread, parked
// "timeout" attempts, aborts, the setters, and a crash answered as ERROR.

#include "actors/stub/stub_executor.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "tests/support/deterministic_fixture.hpp"

#include <chrono>
#include <map>

using namespace std::chrono_literals;
using namespace troupe;

namespace {

/// What a caller got: replies by request id, with the virtual time.
struct calls {
  std::map<uint64_t, attempt_reply> replies;
  std::map<uint64_t, double> replied_at_ms;
  std::vector<std::string> errors;
  uint64_t executed = 0;
  uint64_t max_in_flight = 0;
};

/// Stands where a worker would be: sends attempts and records answers.
caf::behavior caller(caf::event_based_actor* self, stub_executor_actor exec,
                     std::shared_ptr<calls> out,
                     test::deterministic_fixture* fx) {
  return {
    [=](execute_atom, const attempt_request& req) {
      auto id = req.request_id;
      self->request(exec, caf::infinite, execute_atom::value, req)
        .then(
          [=](const attempt_reply& r) {
            out->replies[id] = r;
            out->replied_at_ms[id] = fx->now_ms();
          },
          [=](caf::error& e) { out->errors.push_back(to_string(e)); });
    },
    [=](status_atom) {
      self->request(exec, caf::infinite, status_atom::value)
        .then([=](const stub_executor_status& s) {
          out->executed = s.executed;
          out->max_in_flight = s.max_in_flight;
        });
    },
  };
}

attempt_request attempt(uint64_t id, const std::string& task_id,
                        uint32_t n = 1) {
  attempt_request req;
  req.request_id = id;
  req.attempt = n;
  req.task.id = task_id;
  req.task.dataset = "d";
  req.task.inputs_json = "{}";
  return req;
}

struct stub_executor_fixture : test::deterministic_fixture {
  std::shared_ptr<calls> out = std::make_shared<calls>();
  stub_executor_actor exec;
  caf::actor who;

  void start(stub_settings s) {
    exec = spawn_stub_executor(sys, std::move(s));
    who = sys.spawn(caller, exec, out, this);
  }

  void execute(uint64_t id, const std::string& task_id, uint32_t n = 1) {
    caf::anon_send(who, execute_atom::value, attempt(id, task_id, n));
  }

  ~stub_executor_fixture() {
    caf::anon_send_exit(who, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(exec, caf::exit_reason::user_shutdown);
    run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(stub_executor, stub_executor_fixture)

BOOST_AUTO_TEST_CASE(an_attempt_without_delay_is_answered_at_once) {
  start({});
  execute(1, "d/c#0");
  run();
  BOOST_REQUIRE_EQUAL(out->replies.count(1), 1u);
  BOOST_CHECK_EQUAL(out->replies[1].result, outcome::success);
  BOOST_CHECK_EQUAL(out->replies[1].output_json,
                    R"({"task_id":"d/c#0","echo":{}})");
  BOOST_CHECK_EQUAL(out->replied_at_ms[1], 0.0);
}

BOOST_AUTO_TEST_CASE(a_delayed_attempt_is_answered_after_its_virtual_delay) {
  stub_settings s;
  s.delay_us = 300'000;
  start(s);
  execute(1, "d/c#0");
  advance(299ms);
  BOOST_CHECK_EQUAL(out->replies.count(1), 0u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(out->replies.count(1), 1u);
  BOOST_CHECK_EQUAL(out->replied_at_ms[1], 300.0);
}

BOOST_AUTO_TEST_CASE(each_delay_ends_at_its_own_time_whatever_the_order) {
  // One timer at a time: a later attempt due sooner (the delay lowered
  // meanwhile) gets a tick of its own, attempts due together are answered
  // together, and a tick re-arms for what is left.
  stub_settings s;
  s.delay_us = 50'000;
  start(s);
  execute(1, "d/c#0"); // due at 50 ms
  run();
  caf::anon_send(exec, set_delay_atom::value, int64_t{10'000});
  run();
  advance(5ms);
  execute(2, "d/c#1"); // due at 15 ms
  execute(3, "d/c#2"); // due at 15 ms
  run();
  caf::anon_send(exec, set_delay_atom::value, int64_t{30'000});
  execute(4, "d/c#3"); // due at 35 ms
  run();
  advance(9ms);
  BOOST_CHECK(out->replies.empty());
  advance(1ms);
  BOOST_CHECK_EQUAL(out->replies.size(), 2u);
  BOOST_CHECK_EQUAL(out->replied_at_ms[2], 15.0);
  BOOST_CHECK_EQUAL(out->replied_at_ms[3], 15.0);
  run_until_idle(1s);
  BOOST_REQUIRE_EQUAL(out->replies.size(), 4u);
  BOOST_CHECK_EQUAL(out->replied_at_ms[4], 35.0);
  BOOST_CHECK_EQUAL(out->replied_at_ms[1], 50.0);
}

BOOST_AUTO_TEST_CASE(a_timeout_attempt_is_never_answered) {
  stub_settings s;
  s.behaviors["d/c#0"] = {test::scripted("timeout")};
  start(s);
  execute(1, "d/c#0");
  run_until_idle(1h);
  BOOST_CHECK_EQUAL(out->replies.count(1), 0u);
  BOOST_CHECK(out->errors.empty());
}

BOOST_AUTO_TEST_CASE(an_aborted_attempt_gets_no_reply) {
  stub_settings s;
  s.delay_us = 100'000;
  start(s);
  execute(1, "d/c#0");
  execute(2, "d/c#1");
  run();
  caf::anon_send(exec, abort_atom::value, uint64_t{1});
  run_until_idle(1s);
  BOOST_CHECK_EQUAL(out->replies.count(1), 0u);
  BOOST_CHECK_EQUAL(out->replies.count(2), 1u);
}

BOOST_AUTO_TEST_CASE(a_crash_is_answered_error_and_the_executor_goes_on) {
  stub_settings s;
  s.behaviors["d/c#0"] = {test::scripted("crash"), test::scripted("success")};
  start(s);
  execute(1, "d/c#0", 1);
  execute(2, "d/c#0", 2);
  run();
  BOOST_REQUIRE_EQUAL(out->replies.count(1), 1u);
  BOOST_CHECK_EQUAL(out->replies[1].result, outcome::error);
  BOOST_CHECK_EQUAL(out->replies[1].error, "executor threw: stub crash");
  BOOST_CHECK_EQUAL(out->replies[1].error_code, "executor_exception");
  BOOST_REQUIRE_EQUAL(out->replies.count(2), 1u);
  BOOST_CHECK_EQUAL(out->replies[2].result, outcome::success);
}

BOOST_AUTO_TEST_CASE(setters_apply_to_later_attempts) {
  start({});
  caf::anon_send(exec, set_behavior_atom::value, std::string{"d/c#0"},
                 std::vector<stub_behavior>{test::scripted("fatal")});
  caf::anon_send(exec, set_delay_atom::value, int64_t{50'000});
  run();
  execute(1, "d/c#0");
  execute(2, "d/c#1");
  run_until_idle(1s);
  BOOST_CHECK_EQUAL(out->replies[1].result, outcome::rejected);
  BOOST_CHECK_EQUAL(out->replies[2].result, outcome::success);
  BOOST_CHECK_EQUAL(out->replied_at_ms[2], 50.0);
  caf::anon_send(exec, clear_behaviors_atom::value);
  caf::anon_send(exec, set_failure_rate_atom::value, 1.0);
  run();
  execute(3, "d/c#0");
  run_until_idle(1s);
  BOOST_CHECK_EQUAL(out->replies[3].result, outcome::failure);
}

BOOST_AUTO_TEST_CASE(status_counts_attempts_and_the_most_in_flight) {
  stub_settings s;
  s.delay_us = 10'000;
  start(s);
  for (uint64_t i = 1; i <= 3; ++i)
    execute(i, "d/c" + std::to_string(i) + "#0");
  run_until_idle(1s);
  execute(4, "d/c4#0");
  run_until_idle(1s);
  caf::anon_send(who, status_atom::value);
  run();
  BOOST_CHECK_EQUAL(out->executed, 4u);
  BOOST_CHECK_EQUAL(out->max_in_flight, 3u);
}

BOOST_AUTO_TEST_SUITE_END()
