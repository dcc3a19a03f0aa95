// The exec target's stdin line, byte for byte, and how each way a command
// can end maps to an outcome.

#include "actors/exec/exec_protocol.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"

#include <cerrno>
#include <csignal>

using namespace troupe;

namespace {

process_outcome exited(int code, std::string out = "", std::string err = "") {
  process_outcome p;
  p.exit_code = code;
  p.out = std::move(out);
  p.err_bytes = err.size();
  p.err = std::move(err);
  return p;
}

} // namespace

BOOST_AUTO_TEST_SUITE(exec_protocol)

BOOST_AUTO_TEST_CASE(the_task_goes_in_as_one_json_line) {
  attempt_request req;
  req.attempt = 2;
  req.task.id = "d/c\"1#0";
  req.task.dataset = "d";
  req.task.case_id = "c\"1";
  req.task.inputs_json = R"({"text":"hi","style":"short"})";
  req.task.params_json = R"({"style":"short"})";
  req.task.query = "line1\nline2";
  BOOST_CHECK_EQUAL(stdin_line(req),
                    R"({"id":"d/c\"1#0","dataset":"d","case_id":"c\"1",)"
                    R"("attempt":2,"inputs":{"text":"hi","style":"short"},)"
                    R"("params":{"style":"short"},"query":"line1\nline2"})"
                    "\n");
  req.task.inputs_json.clear();
  req.task.params_json.clear();
  req.task.query.clear();
  req.task.conversation_id = "conv-1";
  BOOST_CHECK_EQUAL(stdin_line(req),
                    R"({"id":"d/c\"1#0","dataset":"d","case_id":"c\"1",)"
                    R"("attempt":2,"inputs":{},"params":{},"query":"",)"
                    R"("conversation_id":"conv-1"})"
                    "\n");
}

BOOST_AUTO_TEST_CASE(exit_zero_with_one_json_text_succeeds_compacted) {
  auto r = classify_exit(exited(0, "\n  {\"a\": [1, 2],\n \"b\": \"x\"}\n"),
                         "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, R"({"a":[1,2],"b":"x"})");
  BOOST_CHECK_EQUAL(r.error, "");
  // Any JSON value, and stderr on success is not an error.
  r = classify_exit(exited(0, "\"just text\"\n", "log line\n"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::success);
  BOOST_CHECK_EQUAL(r.output_json, "\"just text\"");
  BOOST_CHECK_EQUAL(r.error, "");
}

BOOST_AUTO_TEST_CASE(exit_zero_with_anything_else_is_a_final_error) {
  auto r = classify_exit(exited(0, "not json\n", "oops\n"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  BOOST_CHECK_EQUAL(r.error_code, "malformed_response");
  BOOST_CHECK_EQUAL(r.error, "exit status 0 but stdout is not one JSON text "
                             "(syntax error): not json; stderr: oops");
  r = classify_exit(exited(0, "{}\n{}\n"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  r = classify_exit(exited(0, " \n"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  BOOST_CHECK_EQUAL(r.error, "exit status 0 but stdout is not one JSON text "
                             "(it is empty)");
  r = classify_exit(exited(0, "[1e400]"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  BOOST_CHECK_EQUAL(r.error, "exit status 0 but stdout is not one JSON text "
                             "(a number is out of range): [1e400]");
}

BOOST_AUTO_TEST_CASE(exit_codes_map_to_failures) {
  auto r = classify_exit(exited(75, "", "busy\n"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::failure);
  BOOST_CHECK_EQUAL(r.error_code, "exit_75");
  BOOST_CHECK_EQUAL(r.error, "exit status 75 (EX_TEMPFAIL, retried); "
                             "stderr: busy");
  r = classify_exit(exited(3, "{}"), "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::rejected);
  BOOST_CHECK_EQUAL(r.error_code, "exit_3");
  BOOST_CHECK_EQUAL(r.error, "exit status 3");
  BOOST_CHECK_EQUAL(status_of(r.result), task_status::failed);
}

BOOST_AUTO_TEST_CASE(signals_spawn_errors_and_big_outputs_are_errors) {
  process_outcome p;
  p.signal = SIGSEGV;
  auto r = classify_exit(p, "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error_code, "killed_by_signal");
  BOOST_CHECK_EQUAL(r.error, "killed by signal 11 (SIGSEGV)");
  process_outcome s;
  s.spawn_errno = ENOENT;
  r = classify_exit(s, "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  BOOST_CHECK_EQUAL(r.error_code, "spawn_failed");
  BOOST_CHECK_EQUAL(r.error, "cannot run \"judge\": No such file or directory");
  process_outcome big;
  big.signal = SIGKILL;
  big.too_large = true;
  big.out = std::string(2048, 'x');
  r = classify_exit(big, "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error_final);
  BOOST_CHECK_EQUAL(r.error_code, "response_too_large");
  BOOST_CHECK_EQUAL(r.error, "stdout passed 2048 bytes "
                             "(target.max_response_bytes); the command was "
                             "killed");
}

BOOST_AUTO_TEST_CASE(a_long_stderr_says_only_its_tail_is_kept) {
  auto p = exited(1, "", "tail\n");
  p.err_bytes = 10000;
  BOOST_CHECK_EQUAL(classify_exit(p, "judge").error,
                    "exit status 1; stderr (last 5 of 10000 bytes): tail");
}

BOOST_AUTO_TEST_CASE(a_spawn_out_of_resources_is_retried) {
  for (int err : {EAGAIN, ENOMEM, EMFILE, ENFILE}) {
    process_outcome p;
    p.spawn_errno = err;
    auto r = classify_exit(p, "judge");
    BOOST_CHECK_EQUAL(r.result, outcome::error);
    BOOST_CHECK_EQUAL(r.error_code, "spawn_failed");
  }
  for (int err : {ENOENT, EACCES, ENOEXEC}) {
    process_outcome p;
    p.spawn_errno = err;
    BOOST_CHECK_EQUAL(classify_exit(p, "judge").result, outcome::error_final);
  }
}

BOOST_AUTO_TEST_CASE(an_unknown_exit_status_is_an_error_not_a_success) {
  process_outcome p;
  p.wait_errno = ECHILD;
  p.out = "{}";
  p.err = "log\n";
  p.err_bytes = 4;
  auto r = classify_exit(p, "judge");
  BOOST_CHECK_EQUAL(r.result, outcome::error);
  BOOST_CHECK_EQUAL(r.error_code, "exit_unknown");
  BOOST_CHECK_EQUAL(r.error, "exit status unknown: waitpid failed (No child "
                             "processes); something else in this process "
                             "reaped the command; stderr: log");
  BOOST_CHECK(r.output_json.empty());
}

BOOST_AUTO_TEST_SUITE_END()
