// compare_runs on hand-written results files: status changes both ways,
// checks, slower tasks, outputs, tasks in one file only, the last line of a
// task winning, and the verdict; short_change's window.

#include "runtime/diff.hpp"

#include "actors/results/result_line.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"

using namespace troupe;
using namespace troupe::runtime;
using troupe::test::report_epoch_us;

namespace {

task_result result(const std::string& case_id, task_status status,
                   int64_t latency_us, const std::string& output = "\"ok\"") {
  task_result r;
  r.task_id = "d/" + case_id + "#0";
  r.dataset = "d";
  r.case_id = case_id;
  r.params_json = "{}";
  r.status = status;
  r.started_us = 0;
  r.finished_us = latency_us;
  r.latency_us = latency_us;
  r.tokens = 10;
  if (status == task_status::succeeded)
    r.output_json = output;
  else
    r.error = "HTTP 500";
  r.attempt_log.push_back({status, 0, latency_us, "", 200, false, ""});
  return r;
}

task_result with_check(task_result r, const std::string& check, bool passed) {
  r.assertions.push_back({check, passed, ""});
  return r;
}

struct diff_fixture {
  test::temp_dir dir;

  std::string write(const std::string& name, const std::string& hash,
                    const std::vector<task_result>& results) {
    header_info h;
    h.manifest_hash = hash;
    h.version = "0.1.0";
    h.started_at_us = report_epoch_us;
    h.manifest = "m.json";
    h.name = "smoke";
    h.target = "stub";
    h.tasks = results.size();
    auto text = encode_header(h);
    for (auto& r : results)
      append_result_line(text, r, report_epoch_us);
    return dir.write(name, text);
  }

  run_diff compare(const std::string& a, const std::string& b) {
    auto d = compare_runs({a, b, "", false, 2.0});
    BOOST_REQUIRE(std::holds_alternative<run_diff>(d));
    return std::get<run_diff>(d);
  }
};

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string ids(const std::vector<task_change>& xs) {
  std::vector<std::string> out;
  for (auto& x : xs)
    out.push_back(x.task_id);
  return joined(out);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(diff, diff_fixture)

BOOST_AUTO_TEST_CASE(statuses_checks_latency_and_outputs_are_compared) {
  using s = task_status;
  auto base = write(
    "a.jsonl", "sha256:aa",
    {result("ok", s::succeeded, 10'000), result("breaks", s::succeeded, 10'000),
     result("heals", s::failed, 10'000),
     with_check(result("check", s::succeeded, 10'000), "contains", true),
     result("slow", s::succeeded, 10'000),
     result("words", s::succeeded, 10'000, "\"the cat sat\""),
     result("gone", s::succeeded, 10'000)});
  auto next = write(
    "b.jsonl", "sha256:aa",
    {result("ok", s::succeeded, 12'000), result("breaks", s::failed, 10'000),
     result("heals", s::succeeded, 10'000),
     with_check(result("check", s::succeeded, 10'000), "contains", false),
     result("slow", s::succeeded, 25'000),
     result("words", s::succeeded, 10'000, "\"the dog sat\""),
     result("added", s::succeeded, 10'000)});
  auto d = compare(base, next);
  BOOST_CHECK(d.manifest_warning.empty());
  BOOST_CHECK(d.worse());
  BOOST_CHECK_EQUAL(ids(d.newly_failing), "d/breaks#0");
  BOOST_CHECK_EQUAL(d.newly_failing[0].before, "SUCCEEDED");
  BOOST_CHECK_EQUAL(d.newly_failing[0].after, "FAILED");
  BOOST_CHECK_EQUAL(d.newly_failing[0].detail, "HTTP 500");
  BOOST_CHECK_EQUAL(ids(d.fixed), "d/heals#0");
  BOOST_CHECK_EQUAL(ids(d.checks_newly_failing), "d/check#0");
  BOOST_CHECK_EQUAL(d.checks_newly_failing[0].detail, "contains");
  BOOST_CHECK(d.checks_newly_passing.empty());
  // 1.2x is not slower; 2.5x is.
  BOOST_CHECK_EQUAL(ids(d.slower), "d/slow#0");
  BOOST_CHECK_EQUAL(d.slower[0].before, "10.0");
  BOOST_CHECK_EQUAL(d.slower[0].after, "25.0");
  BOOST_CHECK_EQUAL(d.slower[0].detail, "2.5x");
  BOOST_CHECK_EQUAL(ids(d.outputs_changed), "d/words#0");
  BOOST_CHECK_EQUAL(joined(d.only_in_base), "d/gone#0");
  BOOST_CHECK_EQUAL(joined(d.only_in_next), "d/added#0");
  BOOST_REQUIRE_EQUAL(d.status_counts.size(), 2u);
  BOOST_CHECK_EQUAL(d.status_counts[0].first, "SUCCEEDED");
  BOOST_CHECK_EQUAL(d.status_counts[0].second.first, 6u);
  BOOST_CHECK_EQUAL(d.status_counts[0].second.second, 6u);
  BOOST_CHECK_EQUAL(d.status_counts[1].first, "FAILED");
  BOOST_CHECK_EQUAL(d.base_tokens, 70u);
  auto text = render_diff_text(d);
  BOOST_CHECK(text.find("newly failing (1):\n  d/breaks#0  SUCCEEDED -> "
                        "FAILED  (HTTP 500)\n")
              != std::string::npos);
  BOOST_CHECK(text.find("verdict: worse (1 newly failing, 1 checks newly "
                        "failing)")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_same_run_twice_is_not_worse_and_the_last_line_wins) {
  using s = task_status;
  // A resumed base: c0 failed, then succeeded on the rerun.
  auto base = write("a.jsonl", "sha256:aa",
                    {result("c0", s::failed, 10'000),
                     result("c1", s::succeeded, 10'000),
                     result("c0", s::succeeded, 10'000)});
  auto next = write(
    "b.jsonl", "sha256:bb",
    {result("c0", s::succeeded, 10'000), result("c1", s::succeeded, 10'000)});
  auto d = compare(base, next);
  BOOST_CHECK(!d.worse());
  BOOST_CHECK(d.fixed.empty() && d.newly_failing.empty());
  BOOST_CHECK_EQUAL(d.base_tasks, 2u);
  BOOST_CHECK_NE(d.manifest_warning.find("sha256:aa and sha256:bb"),
                 std::string::npos);
  BOOST_CHECK(render_diff_text(d).find("verdict: nothing got worse")
              != std::string::npos);
  BOOST_CHECK(render_diff_json(d).find("\"worse\":false") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_an_error_naming_it) {
  auto d = compare_runs(
    {dir.path() + "/none.jsonl", dir.path() + "/b.jsonl", "", false, 2.0});
  BOOST_REQUIRE(std::holds_alternative<config::config_error>(d));
  BOOST_CHECK_NE(std::get<config::config_error>(d).message.find("none.jsonl"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(short_change_shows_the_part_that_differs) {
  auto [a, b]
    = short_change("the cat sat on the mat", "the dog sat on the mat");
  BOOST_CHECK_EQUAL(a, "the cat sat on the mat");
  BOOST_CHECK_EQUAL(b, "the dog sat on the mat");
  std::string pad(100, 'x');
  auto [c, e] = short_change(pad + "old" + pad, pad + "new" + pad, 20);
  BOOST_CHECK_EQUAL(c, "...xxxxxxxxxxxxold" + std::string(5, 'x') + "...");
  BOOST_CHECK_EQUAL(e, "...xxxxxxxxxxxxnew" + std::string(5, 'x') + "...");
}

BOOST_AUTO_TEST_SUITE_END()
