// troupe's error codes keep the exact text result lines have always carried.

#include "messages/error_code.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(error_code)

BOOST_AUTO_TEST_CASE(each_code_has_its_wire_text) {
  using ec = troupe::error_code;
  BOOST_CHECK_EQUAL(to_string(ec::timeout), "timeout");
  BOOST_CHECK_EQUAL(to_string(ec::cancelled), "cancelled");
  BOOST_CHECK_EQUAL(to_string(ec::executor_exception), "executor_exception");
  BOOST_CHECK_EQUAL(to_string(ec::executor), "executor");
  BOOST_CHECK_EQUAL(to_string(ec::internal), "internal");
  BOOST_CHECK_EQUAL(to_string(ec::worker_crashed), "worker_crashed");
  BOOST_CHECK_EQUAL(to_string(ec::stub_failure), "stub_failure");
  BOOST_CHECK_EQUAL(to_string(ec::stub_fatal), "stub_fatal");
  BOOST_CHECK_EQUAL(to_string(ec::stub_error), "stub_error");
  BOOST_CHECK_EQUAL(to_string(ec::connection), "connection");
  BOOST_CHECK_EQUAL(to_string(ec::tls), "tls");
  BOOST_CHECK_EQUAL(to_string(ec::response_too_large), "response_too_large");
  BOOST_CHECK_EQUAL(to_string(ec::malformed_response), "malformed_response");
  BOOST_CHECK_EQUAL(to_string(ec::stream_cut), "stream_cut");
  BOOST_CHECK_EQUAL(to_string(ec::template_value), "template");
  BOOST_CHECK_EQUAL(to_string(ec::output_pointer), "output_pointer");
  BOOST_CHECK_EQUAL(to_string(ec::spawn_failed), "spawn_failed");
  BOOST_CHECK_EQUAL(to_string(ec::killed_by_signal), "killed_by_signal");
}

BOOST_AUTO_TEST_CASE(exit_codes_carry_the_exit_status) {
  BOOST_CHECK_EQUAL(exit_error_code(75), "exit_75");
  BOOST_CHECK_EQUAL(exit_error_code(1), "exit_1");
}

BOOST_AUTO_TEST_CASE(http_codes_carry_the_status_and_the_service_code) {
  BOOST_CHECK_EQUAL(http_error_code(429), "http_429");
  BOOST_CHECK_EQUAL(http_error_code(400, "invalid_param"),
                    "http_400:invalid_param");
}

BOOST_AUTO_TEST_CASE(workflow_codes_carry_the_run_status) {
  BOOST_CHECK_EQUAL(workflow_error_code("failed"), "workflow_failed");
  BOOST_CHECK_EQUAL(workflow_error_code(""), "workflow_unknown");
}

BOOST_AUTO_TEST_SUITE_END()
