// The stub's script: which behaviour each attempt gets, and the exact reply
// each behaviour leads to.

#include "actors/stub/stub_script.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"

#include <stdexcept>

// Not `using namespace troupe`: the suite's name is the class's name.
using troupe::outcome;
using troupe::stub_action;
using troupe::stub_behavior;
using troupe::stub_reply;
using troupe::stub_settings;
using troupe::task_spec;

namespace {

stub_behavior behavior(stub_action a, int64_t delay_us = -1) {
  stub_behavior b;
  b.action = a;
  b.delay_us = delay_us;
  return b;
}

task_spec task(const std::string& id, const std::string& inputs = "") {
  task_spec t;
  t.id = id;
  t.inputs_json = inputs;
  return t;
}

} // namespace

BOOST_AUTO_TEST_SUITE(stub_script)

BOOST_AUTO_TEST_CASE(an_unscripted_task_succeeds_after_the_run_delay) {
  stub_settings s;
  s.delay_us = 250;
  troupe::stub_script script{s};
  auto b = script.pick("d/c#0", 1);
  BOOST_CHECK(b.action == stub_action::success);
  BOOST_CHECK_EQUAL(b.delay_us, 250);
}

BOOST_AUTO_TEST_CASE(attempts_follow_the_list_and_the_last_one_repeats) {
  stub_settings s;
  s.behaviors["d/c#0"]
    = {behavior(stub_action::timeout), behavior(stub_action::failure, 7)};
  troupe::stub_script script{s};
  BOOST_CHECK(script.pick("d/c#0", 1).action == stub_action::timeout);
  BOOST_CHECK(script.pick("d/c#0", 2).action == stub_action::failure);
  BOOST_CHECK_EQUAL(script.pick("d/c#0", 2).delay_us, 7);
  BOOST_CHECK(script.pick("d/c#0", 9).action == stub_action::failure);
  BOOST_CHECK(script.pick("d/other#0", 1).action == stub_action::success);
}

BOOST_AUTO_TEST_CASE(a_task_script_wins_over_its_dataset_default) {
  stub_settings s;
  s.dataset_behaviors["d"] = {behavior(stub_action::fatal)};
  s.behaviors["d/c#0"] = {behavior(stub_action::error)};
  troupe::stub_script script{s};
  BOOST_CHECK(script.pick("d/c#0", 1).action == stub_action::error);
  BOOST_CHECK(script.pick("d/x#3", 1).action == stub_action::fatal);
  BOOST_CHECK(script.pick("dd/x#0", 1).action == stub_action::success);
}

BOOST_AUTO_TEST_CASE(failure_rate_one_fails_and_zero_succeeds_every_attempt) {
  stub_settings s;
  s.failure_rate = 1.0;
  troupe::stub_script script{s};
  for (uint32_t attempt = 1; attempt <= 20; ++attempt)
    BOOST_CHECK(script.pick("d/c#0", attempt).action == stub_action::failure);
  script.set_failure_rate(0.0);
  for (uint32_t attempt = 1; attempt <= 20; ++attempt)
    BOOST_CHECK(script.pick("d/c#0", attempt).action == stub_action::success);
}

BOOST_AUTO_TEST_CASE(the_same_seed_draws_the_same_failures) {
  stub_settings s;
  s.failure_rate = 0.5;
  s.seed = 7;
  troupe::stub_script x{s};
  troupe::stub_script y{s};
  int failures = 0;
  for (int i = 0; i < 200; ++i) {
    auto id = "d/c" + std::to_string(i) + "#0";
    auto a = x.pick(id, 1).action;
    BOOST_CHECK(a == y.pick(id, 1).action);
    failures += a == stub_action::failure ? 1 : 0;
  }
  // A fair draw: neither none nor all of 200 fail.
  BOOST_CHECK(failures > 0 && failures < 200);
}

BOOST_AUTO_TEST_CASE(setters_change_later_picks) {
  troupe::stub_script script;
  script.set_delay(40);
  script.set_behavior("d/c#0", {behavior(stub_action::auth)});
  BOOST_CHECK_EQUAL(script.pick("d/x#0", 1).delay_us, 40);
  BOOST_CHECK(script.pick("d/c#0", 1).action == stub_action::auth);
  script.clear_behaviors();
  BOOST_CHECK(script.pick("d/c#0", 1).action == stub_action::success);
}

BOOST_AUTO_TEST_CASE(success_echoes_the_task_id_and_inputs) {
  auto r = stub_reply(behavior(stub_action::success),
                      task("d/c#0", R"({"text":"hi"})"));
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json,
                    R"({"task_id":"d/c#0","echo":{"text":"hi"}})");
  BOOST_CHECK_EQUAL(r.error, "");
  auto empty = stub_reply(behavior(stub_action::success), task("d/\"q\"#0"));
  BOOST_CHECK_EQUAL(empty.output_json, R"({"task_id":"d/\"q\"#0","echo":{}})");
}

BOOST_AUTO_TEST_CASE(each_failing_behaviour_has_its_outcome_and_error) {
  struct row {
    stub_action action;
    outcome result;
    int32_t http_status;
    const char* error;
    const char* error_code;
  };
  for (auto& x : std::vector<row>{
         {stub_action::failure, outcome::failure, 0, "stub failure",
          "stub_failure"},
         {stub_action::fatal, outcome::rejected, 0,
          "stub fatal failure (not retried)", "stub_fatal"},
         {stub_action::timeout, outcome::timeout, 0, "stub timeout", "timeout"},
         {stub_action::error, outcome::error, 0, "stub error", "stub_error"},
         {stub_action::throttle, outcome::throttled, 429,
          "stub 429 Too Many Requests", "http_429"},
         {stub_action::auth, outcome::abort_run, 401, "stub 401 Unauthorized",
          "http_401"},
       }) {
    auto r = stub_reply(behavior(x.action), task("d/c#0"));
    BOOST_CHECK_EQUAL(r.result, x.result);
    BOOST_CHECK_EQUAL(r.http_status, x.http_status);
    BOOST_CHECK_EQUAL(r.error, x.error);
    BOOST_CHECK_EQUAL(r.error_code, x.error_code);
    BOOST_CHECK_EQUAL(r.output_json, "");
  }
}

BOOST_AUTO_TEST_CASE(throttle_carries_its_retry_after) {
  auto b = behavior(stub_action::throttle);
  b.retry_after_us = 3'000'000;
  BOOST_CHECK_EQUAL(stub_reply(b, task("d/c#0")).retry_after_us, 3'000'000);
  BOOST_CHECK_EQUAL(
    stub_reply(behavior(stub_action::failure), task("d/c#0")).retry_after_us,
    -1);
}

BOOST_AUTO_TEST_CASE(crash_throws_as_a_buggy_executor_would) {
  BOOST_CHECK_EXCEPTION(stub_reply(behavior(stub_action::crash), task("d/c#0")),
                        std::runtime_error, [](const std::runtime_error& e) {
                          return std::string{e.what()} == "stub crash";
                        });
}

BOOST_AUTO_TEST_SUITE_END()
