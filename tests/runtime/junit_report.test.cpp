// JUnit XML from hand-written results files: the exact bytes for every
// status and a failed check, escaping (markup, and characters XML 1.0
// forbids), and the last line of each task winning in a resumed file.

#include "runtime/junit_report.hpp"

#include "actors/results/result_line.hpp"
#include "runtime/report.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"

using namespace troupe;
using namespace troupe::runtime;
using troupe::test::report_epoch_us;

namespace {

task_result ended(const std::string& task_id, task_status status,
                  int64_t latency_us, uint32_t attempts = 1) {
  task_result r;
  r.task_id = task_id;
  r.dataset = task_id.substr(0, task_id.find('/'));
  r.case_id = task_id.substr(r.dataset.size() + 1);
  r.case_id.resize(r.case_id.find('#'));
  r.params_json = "{}";
  r.status = status;
  r.finished_us = 2'000'000;
  r.latency_us = latency_us;
  if (latency_us >= 0)
    r.started_us = r.finished_us - latency_us;
  for (uint32_t i = 0; i < attempts; ++i)
    r.attempt_log.push_back(
      {status, r.started_us, latency_us, "", 0, false, ""});
  return r;
}

std::string header_line(const std::string& name, bool resumed) {
  header_info h;
  h.manifest_hash = "sha256:00";
  h.version = "0.1.0";
  h.started_at_us = report_epoch_us;
  h.manifest = "m.json";
  h.name = name;
  h.target = "stub";
  h.tasks = 6;
  h.resumed = resumed;
  return encode_header(h);
}

struct junit_fixture {
  test::temp_dir dir;

  /// The JUnit XML of a results file, read as `troupe report` reads it.
  std::string junit_of(const std::string& text) {
    auto path = dir.write("r.jsonl", text);
    junit_builder junit;
    auto built
      = build_report(path, [&junit](const task_result& r) { junit.add(r); });
    if (auto* err = std::get_if<config::config_error>(&built))
      BOOST_FAIL(err->message);
    auto& d = std::get<report_data>(built);
    return junit.finish(d.header.name, d.missing);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(junit_report, junit_fixture)

BOOST_AUTO_TEST_CASE(markup_is_escaped_and_forbidden_characters_replaced) {
  BOOST_CHECK_EQUAL(xml_escape("<&\"'>", false), "&lt;&amp;&quot;&apos;&gt;");
  BOOST_CHECK_EQUAL(xml_escape("a\x01"
                               "b\x1f"
                               "c\x7f",
                               true),
                    "a\xEF\xBF\xBD"
                    "b\xEF\xBF\xBD"
                    "c\x7f");
  // Text keeps tab and newline; attributes keep them as references, which
  // a parser does not turn into spaces. A raw CR would become a newline.
  BOOST_CHECK_EQUAL(xml_escape("a\tb\nc\rd", false), "a\tb\nc&#13;d");
  BOOST_CHECK_EQUAL(xml_escape("a\tb\nc\rd", true), "a&#9;b&#10;c&#13;d");
  // Valid UTF-8 passes; U+FFFE, a surrogate, a cut sequence and an
  // overlong form do not.
  BOOST_CHECK_EQUAL(xml_escape("\xC3\xA9 \xF0\x9F\x98\x80", false),
                    "\xC3\xA9 \xF0\x9F\x98\x80");
  BOOST_CHECK_EQUAL(xml_escape("x\xEF\xBF\xBEy", false), "x\xEF\xBF\xBDy");
  BOOST_CHECK_EQUAL(xml_escape("\xED\xA0\x80", false), "\xEF\xBF\xBD");
  BOOST_CHECK_EQUAL(xml_escape("a\xC3", false), "a\xEF\xBF\xBD");
  BOOST_CHECK_EQUAL(xml_escape("\xC0\x80", false), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(every_status_has_its_element_and_counts) {
  auto ok = ended("a/ok#0", task_status::succeeded, 250'000);
  auto check = ended("a/check#1", task_status::succeeded, 1'234'567);
  check.assertions = {{"contains", true, ""},
                      {"regex", false, "no match for <&\"'>"},
                      {"max_latency_ms", false, "took 1234.567 ms"}};
  auto failed = ended("a/fatal#0", task_status::failed, 1'000, 3);
  failed.error = "HTTP 500: <p>&\"'\x01</p>";
  failed.error_code = "http_500";
  failed.http_status = 500;
  auto timeout = ended("b/slow#0", task_status::timeout, 500'000);
  timeout.error = "no answer within 0.5 s";
  timeout.error_code = "timeout";
  auto error = ended("b/broken#0", task_status::error, 1'600, 2);
  error.error = "connection reset\r\nby peer";
  auto cancelled = ended("b/later#0", task_status::cancelled, -1, 0);
  cancelled.error = "cancelled by the user";
  std::string text = header_line("smoke & \"co\"", false);
  for (auto* r : {&ok, &check, &failed, &timeout, &error, &cancelled})
    append_result_line(text, *r, report_epoch_us);
  // Times are latencies rounded to whole ms; a suite's time is the sum of
  // its testcases', the run's the sum of its suites'.
  BOOST_CHECK_EQUAL(
    junit_of(text),
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<testsuites name=\"smoke &amp; &quot;co&quot;\" tests=\"6\" "
    "failures=\"4\" errors=\"0\" time=\"1.988\">\n"
    "  <testsuite name=\"a\" tests=\"3\" failures=\"2\" errors=\"0\" "
    "skipped=\"0\" time=\"1.486\">\n"
    "    <testcase name=\"a/ok#0\" classname=\"a\" time=\"0.250\"/>\n"
    "    <testcase name=\"a/check#1\" classname=\"a\" time=\"1.235\">\n"
    "      <failure message=\"check failed: regex; max_latency_ms\" "
    "type=\"assertion\">regex: no match for &lt;&amp;&quot;&apos;&gt;\n"
    "max_latency_ms: took 1234.567 ms</failure>\n"
    "    </testcase>\n"
    "    <testcase name=\"a/fatal#0\" classname=\"a\" time=\"0.001\">\n"
    "      <failure message=\"HTTP 500: &lt;p&gt;&amp;&quot;&apos;"
    "\xEF\xBF\xBD&lt;/p&gt;\" type=\"http_500\">FAILED after 3 attempts "
    "(HTTP 500): HTTP 500: &lt;p&gt;&amp;&quot;&apos;\xEF\xBF\xBD&lt;/p&gt;"
    "</failure>\n"
    "    </testcase>\n"
    "  </testsuite>\n"
    "  <testsuite name=\"b\" tests=\"3\" failures=\"2\" errors=\"0\" "
    "skipped=\"1\" time=\"0.502\">\n"
    "    <testcase name=\"b/slow#0\" classname=\"b\" time=\"0.500\">\n"
    "      <failure message=\"no answer within 0.5 s\" type=\"timeout\">"
    "TIMEOUT after 1 attempt: no answer within 0.5 s</failure>\n"
    "    </testcase>\n"
    "    <testcase name=\"b/broken#0\" classname=\"b\" time=\"0.002\">\n"
    "      <failure message=\"connection reset&#13;&#10;by peer\" "
    "type=\"ERROR\">ERROR after 2 attempts: connection reset&#13;\n"
    "by peer</failure>\n"
    "    </testcase>\n"
    "    <testcase name=\"b/later#0\" classname=\"b\" time=\"0.000\">\n"
    "      <skipped message=\"CANCELLED: cancelled by the user\"/>\n"
    "    </testcase>\n"
    "  </testsuite>\n"
    "</testsuites>\n");
}

BOOST_AUTO_TEST_CASE(a_resumed_file_shows_each_task_once_as_it_ended_last) {
  std::string text = header_line("r", false);
  append_result_line(text, ended("d/x#0", task_status::cancelled, -1, 0),
                     report_epoch_us);
  append_result_line(text, ended("d/y#0", task_status::succeeded, 1'000),
                     report_epoch_us);
  text += header_line("r", true);
  append_result_line(text, ended("d/x#0", task_status::succeeded, 2'000),
                     report_epoch_us);
  text += "{\"type\":\"result\",\"task_id\":\"d/z"; // a writer killed here
  BOOST_CHECK_EQUAL(
    junit_of(text),
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<testsuites name=\"r\" tests=\"3\" failures=\"1\" errors=\"0\" "
    "time=\"0.003\">\n"
    "  <testsuite name=\"d\" tests=\"2\" failures=\"0\" errors=\"0\" "
    "skipped=\"0\" time=\"0.003\">\n"
    "    <testcase name=\"d/y#0\" classname=\"d\" time=\"0.001\"/>\n"
    "    <testcase name=\"d/x#0\" classname=\"d\" time=\"0.002\"/>\n"
    "  </testsuite>\n"
    // The header's 6 tasks, 2 with a line: an unfinished run is not green.
    "  <testsuite name=\"troupe\" tests=\"1\" failures=\"1\" errors=\"0\" "
    "skipped=\"0\" time=\"0.000\">\n"
    "    <testcase name=\"(no result line)\" classname=\"troupe\" "
    "time=\"0.000\">\n"
    "      <failure message=\"4 tasks have no result line\" "
    "type=\"missing\">4 tasks of the run have no result line: it did not "
    "finish (resume it with --resume)</failure>\n"
    "    </testcase>\n"
    "  </testsuite>\n"
    "</testsuites>\n");
}

BOOST_AUTO_TEST_CASE(a_file_without_results_fails_for_its_missing_tasks) {
  BOOST_CHECK_EQUAL(
    junit_of(header_line("empty", false)),
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<testsuites name=\"empty\" tests=\"1\" failures=\"1\" "
    "errors=\"0\" time=\"0.000\">\n"
    "  <testsuite name=\"troupe\" tests=\"1\" failures=\"1\" errors=\"0\" "
    "skipped=\"0\" time=\"0.000\">\n"
    "    <testcase name=\"(no result line)\" classname=\"troupe\" "
    "time=\"0.000\">\n"
    "      <failure message=\"6 tasks have no result line\" "
    "type=\"missing\">6 tasks of the run have no result line: it did not "
    "finish (resume it with --resume)</failure>\n"
    "    </testcase>\n"
    "  </testsuite>\n"
    "</testsuites>\n");
}

BOOST_AUTO_TEST_SUITE_END()
