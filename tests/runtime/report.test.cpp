// build_report on hand-written results files: counts per dataset, the rows
// of tasks that failed or whose checks failed, tasks without a line, the
// latency histogram and throughput per second.

#include "runtime/report.hpp"

#include "actors/results/result_line.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"

#include <cmath>
#include <map>

using namespace troupe;
using namespace troupe::runtime;
using troupe::test::report_epoch_us;

namespace {

task_result result(const std::string& dataset, const std::string& case_id,
                   task_status status, int64_t finished_us,
                   int64_t latency_us) {
  task_result r;
  r.task_id = dataset + "/" + case_id + "#0";
  r.dataset = dataset;
  r.case_id = case_id;
  r.params_json = "{}";
  r.status = status;
  r.started_us = finished_us - latency_us;
  r.finished_us = finished_us;
  r.latency_us = latency_us;
  r.attempt_log.push_back({status, r.started_us, latency_us, "",
                           status == task_status::succeeded ? 200 : 0, false,
                           ""});
  return r;
}

struct report_fixture {
  test::temp_dir dir;

  /// A results file: a header for `tasks` tasks, then `results`.
  std::string write(uint64_t tasks, const std::vector<task_result>& results) {
    header_info h;
    h.manifest_hash = "sha256:00";
    h.version = "0.1.0";
    h.started_at_us = report_epoch_us;
    h.manifest = "m.json";
    h.name = "smoke";
    h.target = "stub";
    h.tasks = tasks;
    auto text = encode_header(h);
    for (auto& r : results)
      append_result_line(text, r, report_epoch_us);
    return dir.write("r.jsonl", text);
  }

  report_data build(const std::string& path) {
    auto built = build_report(path);
    if (auto* err = std::get_if<config::config_error>(&built))
      BOOST_FAIL(err->message);
    return std::get<report_data>(built);
  }
};

size_t count(const status_counts& c, task_status s) {
  return static_cast<size_t>(c[static_cast<size_t>(s)]);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(report, report_fixture)

BOOST_AUTO_TEST_CASE(counts_are_kept_per_dataset_and_for_the_run) {
  auto failed = result("b", "x", task_status::failed, 2'500'000, 1000);
  failed.error = "stub fatal failure (not retried)";
  failed.error_code = "stub_fatal";
  auto d = build(write(
    3, {result("a", "x", task_status::succeeded, 500'000, 100'000),
        result("a", "y", task_status::succeeded, 1'500'000, 200'000), failed}));
  BOOST_CHECK_EQUAL(d.header.name, "smoke");
  BOOST_CHECK_EQUAL(d.summary.total, 3u);
  BOOST_CHECK_EQUAL(count(d.summary.counts, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count(d.summary.counts, task_status::failed), 1u);
  BOOST_CHECK_EQUAL(d.missing, 0u);
  BOOST_CHECK_EQUAL(d.summary.end, run_end::completed);
  BOOST_REQUIRE_EQUAL(d.datasets.size(), 2u);
  BOOST_CHECK_EQUAL(count(d.datasets["a"].counts, task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(d.datasets["a"].latency_count, 2u);
  BOOST_CHECK_EQUAL(count(d.datasets["b"].counts, task_status::failed), 1u);
  BOOST_REQUIRE_EQUAL(d.failed.size(), 1u);
  BOOST_CHECK_EQUAL(d.failed[0].task_id, "b/x#0");
  BOOST_CHECK_EQUAL(d.failed[0].status, "FAILED");
  BOOST_CHECK_EQUAL(d.failed[0].attempts, 1u);
  BOOST_CHECK_EQUAL(d.failed[0].error, "stub fatal failure (not retried)");
  BOOST_CHECK_EQUAL(d.failed_total, 1u);
  BOOST_CHECK_EQUAL(d.summary.wall_us, 2'500'000);
}

BOOST_AUTO_TEST_CASE(tasks_without_a_line_are_missing_and_end_cancelled) {
  auto d
    = build(write(5, {result("a", "x", task_status::succeeded, 1'000, 500)}));
  BOOST_CHECK_EQUAL(d.summary.total, 5u);
  BOOST_CHECK_EQUAL(d.missing, 4u);
  BOOST_CHECK_EQUAL(count(d.summary.counts, task_status::pending), 4u);
  BOOST_CHECK_EQUAL(d.summary.end, run_end::cancelled);
  BOOST_CHECK_EQUAL(d.summary.reason,
                    "4 tasks have no result line (the run was interrupted); "
                    "--resume runs them");
}

BOOST_AUTO_TEST_CASE(the_last_line_of_a_task_wins) {
  auto first = result("a", "x", task_status::failed, 1'000'000, 10'000);
  auto second = result("a", "x", task_status::succeeded, 3'000'000, 20'000);
  auto d = build(write(1, {first, second}));
  BOOST_CHECK_EQUAL(count(d.summary.counts, task_status::succeeded), 1u);
  BOOST_CHECK_EQUAL(count(d.summary.counts, task_status::failed), 0u);
  BOOST_CHECK(d.failed.empty());
}

BOOST_AUTO_TEST_CASE(failed_checks_list_each_failing_check) {
  auto r = result("a", "x", task_status::succeeded, 1'000, 500);
  r.assertions = {{"contains", false, "no \"z\""},
                  {"regex", true, "matched"},
                  {"max_latency_ms", false, "took 0.5 ms"}};
  auto d = build(write(1, {r}));
  BOOST_CHECK(d.failed.empty());
  BOOST_CHECK_EQUAL(d.assertion_failed_total, 1u);
  BOOST_CHECK_EQUAL(d.datasets["a"].assertions_failed, 1u);
  BOOST_REQUIRE_EQUAL(d.assertion_failed.size(), 1u);
  BOOST_CHECK_EQUAL(d.assertion_failed[0].status, "SUCCEEDED");
  BOOST_CHECK_EQUAL(d.assertion_failed[0].error,
                    "contains: no \"z\"; max_latency_ms: took 0.5 ms");
}

BOOST_AUTO_TEST_CASE(latencies_fill_log_buckets_and_finishes_fill_seconds) {
  auto d = build(
    write(3, {result("a", "x", task_status::succeeded, 400'000, 5),
              result("a", "y", task_status::succeeded, 900'000, 1'000),
              result("a", "z", task_status::succeeded, 2'100'000, 1'000)}));
  BOOST_REQUIRE_EQUAL(d.latency_buckets.size(), 72u);
  // 5 us falls below the first edge; 1 ms = 10 us * 10^(16/8).
  BOOST_CHECK_EQUAL(d.latency_buckets[0], 1u);
  BOOST_CHECK_EQUAL(d.latency_buckets[16], 2u);
  BOOST_CHECK(d.finished_per_second
              == (std::map<int64_t, uint64_t>{{0, 2}, {2, 1}}));
}

BOOST_AUTO_TEST_CASE(latency_edges_grow_tenfold_every_eight_buckets) {
  BOOST_CHECK_CLOSE(latency_edge_us(0), 10.0, 1e-9);
  BOOST_CHECK_CLOSE(latency_edge_us(8), 100.0, 1e-9);
  BOOST_CHECK_CLOSE(latency_edge_us(16), 1000.0, 1e-9);
  BOOST_CHECK_CLOSE(latency_edge_us(4), 10.0 * std::sqrt(10.0), 1e-9);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_an_error_naming_it) {
  auto built = build_report(dir.file("none.jsonl"));
  BOOST_REQUIRE(std::holds_alternative<config::config_error>(built));
  BOOST_CHECK_EQUAL(std::get<config::config_error>(built).message.rfind(
                      dir.file("none.jsonl"), 0),
                    0u);
}

BOOST_AUTO_TEST_SUITE_END()
