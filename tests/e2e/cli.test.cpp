// The built binary end to end: manifests from config/examples/ and
// tests/manifests/, results files checked line by line, exit codes, Ctrl+C.

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/timeline.hpp"

#include <csignal>
#include <filesystem>
#include <regex>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

struct cli_fixture {
  temp_dir dir;

  std::string example(const std::string& name) {
    return source_dir() + "/config/examples/" + name;
  }

  std::string manifest(const std::string& name) {
    return source_dir() + "/tests/manifests/" + name;
  }

  process_result troupe(std::vector<std::string> args,
                        std::chrono::milliseconds limit = 60s) {
    args.insert(args.begin(), troupe_binary());
    return run_process(std::move(args), limit, dir.path());
  }

  /// Largest number of attempts that overlapped in time.
  static size_t max_overlap(const results_file& f) {
    std::vector<std::pair<double, double>> intervals;
    for (auto& kv : f.results)
      for (auto& a : kv.second.at("attempt_log").as_array()) {
        auto start = a.at("started_ms").to_number<double>();
        auto dur = a.at("duration_ms").to_number<double>();
        intervals.emplace_back(start, start + dur);
      }
    return troupe::test::max_overlap(intervals);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli, cli_fixture)

BOOST_AUTO_TEST_CASE(help_texts_list_the_flags, *utf::timeout(30)) {
  auto top = troupe({"--help"});
  BOOST_CHECK_EQUAL(top.code, 0);
  BOOST_CHECK_NE(top.out.find("troupe run MANIFEST"), std::string::npos);
  auto run = troupe({"run", "--help"});
  BOOST_CHECK_EQUAL(run.code, 0);
  for (auto flag :
       {"--out", "--force", "--concurrency", "--summary-json", "--progress"})
    BOOST_CHECK_MESSAGE(run.out.find(flag) != std::string::npos, flag);
  auto validate = troupe({"validate", "--help"});
  BOOST_CHECK_EQUAL(validate.code, 0);
  BOOST_CHECK_NE(validate.out.find("troupe validate MANIFEST"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2, *utf::timeout(30)) {
  BOOST_CHECK_EQUAL(troupe({}).code, 2);
  BOOST_CHECK_EQUAL(troupe({"frobnicate"}).code, 2);
  auto r = troupe({"run"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("missing MANIFEST"), std::string::npos);
  r = troupe({"run", manifest("all-ok.json"), "--concurrency", "0"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("--concurrency"), std::string::npos);
  r = troupe({"run", manifest("all-ok.json"), "--bogus"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("unknown option --bogus"), std::string::npos);
  r = troupe({"run", manifest("all-ok.json"), "--progress", "sometimes"});
  BOOST_CHECK_EQUAL(r.code, 2);
}

BOOST_AUTO_TEST_CASE(validate_prints_the_task_count, *utf::timeout(30)) {
  auto r = troupe({"validate", example("stub-smoke.json")});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.out.find("52 tasks"), std::string::npos);
  auto bad = dir.write("bad.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": [{"id": "a"}]}],
    "execution_policy": {"concurrency": "eight"}})");
  r = troupe({"validate", bad});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, "troupe: " + bad
                             + ": execution_policy.concurrency: must be an "
                               "integer from 1 to 100000, got \"eight\"\n");
  r = troupe({"run", bad, "--out", "x.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(!std::filesystem::exists(dir.file("x.jsonl")));
}

// libcurl is loaded when an HTTP client first starts, not with the process
// (actors/http/curl_library.hpp). The dynamic loader's log (LD_DEBUG=files)
// names every library a process maps, those loaded with dlopen included.
BOOST_AUTO_TEST_CASE(libcurl_is_loaded_only_where_it_is_used,
                     *utf::timeout(60)) {
  auto maps_libcurl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), troupe_binary());
    child_process p{std::move(args), dir.path(), {"LD_DEBUG=files"}};
    auto r = p.wait(50s);
    BOOST_CHECK_EQUAL(r.code, 0);
    return r.err.find("file=libcurl.so.4 ") != std::string::npos;
  };
  BOOST_CHECK(
    !maps_libcurl({"run", manifest("all-ok.json"), "--out", "ok.jsonl"}));
  BOOST_CHECK(!maps_libcurl({"validate", example("dify-workflow.json")}));
  // Its version line names the library as loaded.
  BOOST_CHECK(maps_libcurl({"--version"}));
}

BOOST_AUTO_TEST_CASE(the_example_gives_the_statuses_its_script_implies,
                     *utf::timeout(60)) {
  auto summary_json = dir.file("summary.json");
  auto r = troupe({"run", example("stub-smoke.json"), "--out", "r.jsonl",
                   "--summary-json", summary_json, "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 1); // some tasks did not succeed
  auto f = read_results(dir.file("r.jsonl"));
  BOOST_CHECK_EQUAL(f.lines.size(), 1u + 52u + 1u);
  BOOST_CHECK_EQUAL(f.results.size(), 52u);
  for (auto& kv : f.result_count)
    BOOST_CHECK_MESSAGE(kv.second == 1,
                        kv.first << " has " << kv.second << " lines");
  auto& h = f.header();
  BOOST_CHECK_EQUAL(h.at("tasks").as_int64(), 52);
  BOOST_CHECK(std::regex_match(std::string{h.at("manifest_hash").as_string()},
                               std::regex{"sha256:[0-9a-f]{64}"}));
  BOOST_CHECK_EQUAL(f.status("smoke/ok#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("smoke/ok#0"), 1);
  BOOST_CHECK_EQUAL(f.status("smoke/flaky#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("smoke/flaky#0"), 3);
  BOOST_CHECK_EQUAL(f.status("smoke/flaky#1"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("smoke/flaky#1"), 2);
  BOOST_CHECK_EQUAL(f.status("smoke/fatal#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("smoke/fatal#0"), 1);
  BOOST_CHECK_EQUAL(f.status("smoke/slow#1"), "TIMEOUT");
  BOOST_CHECK_EQUAL(f.attempts("smoke/slow#1"), 3);
  BOOST_CHECK_EQUAL(f.status("smoke/broken#0"), "ERROR");
  BOOST_CHECK_EQUAL(f.attempts("smoke/broken#0"), 3);
  BOOST_CHECK_EQUAL(f.status("smoke/broken#1"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("smoke/broken#1"), 2);
  BOOST_CHECK_EQUAL(f.status("smoke/delayed#0"), "SUCCEEDED");
  BOOST_CHECK_GE(
    f.results.at("smoke/delayed#0").at("latency_ms").to_number<double>(),
    300.0);
  BOOST_CHECK_EQUAL(f.status("bulk/b20#1"), "SUCCEEDED");
  auto flaky_log = f.results.at("smoke/flaky#0").at("attempt_log").as_array();
  BOOST_CHECK_EQUAL(flaky_log[0].at("status").as_string(), "TIMEOUT");
  BOOST_CHECK_EQUAL(flaky_log[1].at("status").as_string(), "FAILED");
  BOOST_CHECK_EQUAL(flaky_log[2].at("status").as_string(), "SUCCEEDED");
  auto& ok = f.results.at("smoke/ok#1");
  BOOST_CHECK_EQUAL(ok.at("params").at("style").as_string(), "long");
  BOOST_CHECK_EQUAL(ok.at("output").at("echo").at("text").as_string(), "hello");
  auto& s = f.summary();
  BOOST_CHECK_EQUAL(s.at("counts").at("SUCCEEDED").as_int64(), 47);
  BOOST_CHECK_EQUAL(s.at("counts").at("FAILED").as_int64(), 2);
  BOOST_CHECK_EQUAL(s.at("counts").at("TIMEOUT").as_int64(), 2);
  BOOST_CHECK_EQUAL(s.at("counts").at("ERROR").as_int64(), 1);
  BOOST_CHECK_EQUAL(s.at("attempts").as_int64(), 62);
  BOOST_CHECK_EQUAL(s.at("retries").as_int64(), 10);
  // --summary-json holds the same summary, without the line type.
  auto copy = read_file(summary_json);
  auto sj = boost::json::parse(copy).as_object();
  BOOST_CHECK_EQUAL(sj.at("counts"), s.at("counts"));
  BOOST_CHECK(!sj.contains("type"));
  BOOST_CHECK_NE(r.out.find("SUCCEEDED          47"), std::string::npos);
  BOOST_CHECK_NE(r.out.find("p50"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_readme_demo_runs_green, *utf::timeout(60)) {
  auto r = troupe({"run", example("demo.json"), "--out", "demo.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.file("demo.jsonl"));
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 300u);
  BOOST_CHECK_EQUAL(f.attempts("support/q042#1"), 3);
  BOOST_CHECK_EQUAL(f.attempts("support/q099#0"), 2);
  auto& log = f.results.at("support/q099#0").at("attempt_log").as_array();
  // The 429 said "retry after 0.3 s": the second attempt waited exactly that.
  auto gap = log[1].at("started_ms").to_number<double>()
             - log[0].at("started_ms").to_number<double>()
             - log[0].at("duration_ms").to_number<double>();
  BOOST_CHECK_GE(gap, 300.0);
}

BOOST_AUTO_TEST_CASE(an_all_green_run_exits_0, *utf::timeout(60)) {
  auto r = troupe({"run", manifest("all-ok.json"), "--out", "ok.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(dir.file("ok.jsonl"));
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 30u);
  BOOST_CHECK(f.has_summary());
}

BOOST_AUTO_TEST_CASE(results_files_are_never_overwritten_without_force,
                     *utf::timeout(60)) {
  auto existing = dir.write("keep.jsonl", "precious\n");
  auto r = troupe({"run", manifest("all-ok.json"), "--out", "keep.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("results file exists"), std::string::npos);
  BOOST_CHECK_EQUAL(read_file(existing), "precious\n");
  r = troupe(
    {"run", manifest("all-ok.json"), "--out", "keep.jsonl", "--force"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_results(existing).count("SUCCEEDED"), 30u);
  // --force empties a longer file too (with the header's write).
  dir.write("keep.jsonl", std::string(1 << 20, '~'));
  r = troupe(
    {"run", manifest("all-ok.json"), "--out", "keep.jsonl", "--force"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(read_file(existing).find('~'), std::string::npos);
  BOOST_CHECK_EQUAL(read_results(existing).count("SUCCEEDED"), 30u);
}

BOOST_AUTO_TEST_CASE(a_results_file_that_cannot_be_created_exits_4,
                     *utf::timeout(60)) {
  // "4 means results could not be written": a folder that is not there,
  // and a path through a regular file (refused even for root).
  auto r = troupe({"run", manifest("all-ok.json"), "--out", "no/such/r.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 4);
  BOOST_CHECK_NE(r.err.find("troupe: no/such/r.jsonl: cannot create results "
                            "file (No such file or directory)"),
                 std::string::npos);
  dir.write("plain", "x");
  r = troupe(
    {"run", manifest("all-ok.json"), "--out", "plain/r.jsonl", "--force"});
  BOOST_CHECK_EQUAL(r.code, 4);
  BOOST_CHECK_NE(
    r.err.find("plain/r.jsonl: cannot create results file (Not a directory)"),
    std::string::npos);
  // A folder named as the file is the option's fault.
  r = troupe({"run", manifest("all-ok.json"), "--out", ".", "--force"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find(".: cannot create results file (Is a directory)"),
                 std::string::npos);
  // Bad input is told first, with its own code.
  r = troupe({"run", "missing.json", "--out", "no/such/r.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err.find("no/such"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_out_a_new_file_is_named_after_manifest_and_time,
                     *utf::timeout(60)) {
  auto r = troupe({"run", manifest("all-ok.json")});
  BOOST_CHECK_EQUAL(r.code, 0);
  std::vector<std::string> made;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    made.push_back(e.path().filename().string());
  BOOST_REQUIRE_EQUAL(made.size(), 1u);
  BOOST_CHECK(
    std::regex_match(made[0], std::regex{"all-ok-[0-9]{8}-[0-9]{6}\\.jsonl"}));
  BOOST_CHECK_NE(r.out.find(made[0]), std::string::npos);
  // A second run in the same second still gets a file of its own.
  r = troupe({"run", manifest("all-ok.json")});
  BOOST_CHECK_EQUAL(r.code, 0);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    files += e.is_regular_file() ? 1 : 0;
  BOOST_CHECK_EQUAL(files, 2u);
}

BOOST_AUTO_TEST_CASE(concurrency_flag_bounds_the_overlap, *utf::timeout(60)) {
  auto r = troupe({"run", manifest("overlap.json"), "--out", "o1.jsonl",
                   "--concurrency", "1"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(max_overlap(read_results(dir.file("o1.jsonl"))), 1u);
  r = troupe({"run", manifest("overlap.json"), "--out", "o3.jsonl",
              "--concurrency", "3"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto overlap = max_overlap(read_results(dir.file("o3.jsonl")));
  BOOST_CHECK_LE(overlap, 3u);
  BOOST_CHECK_GE(overlap, 2u);
}

BOOST_AUTO_TEST_CASE(virtual_time_prints_the_timeline_and_refuses_services,
                     *utf::timeout(60)) {
  auto r = troupe({"run", example("stub-smoke.json"), "--virtual-time", "--out",
                   "v.jsonl", "--timeline", "t.txt"});
  BOOST_CHECK_EQUAL(r.code, 1);
  BOOST_CHECK_NE(r.out.find("timeline (virtual ms):"), std::string::npos);
  // smoke/slow#0 starts at 40 ms (four 10 ms tasks before it on its
  // worker, the two datasets sharing the dispatch)
  // and times out at 500 ms three times, 100 and 150 ms apart.
  BOOST_CHECK_NE(r.out.find("          40          500  TIMEOUT      1  "
                            "smoke/slow#0"),
                 std::string::npos);
  BOOST_CHECK_NE(r.out.find("        1290          500  TIMEOUT      3  "
                            "smoke/slow#0"),
                 std::string::npos);
  auto all = read_file(dir.file("t.txt"));
  BOOST_CHECK_EQUAL(std::count(all.begin(), all.end(), '\n'), 2 + 62);
  auto header = read_results(dir.file("v.jsonl")).header();
  BOOST_CHECK_EQUAL(header.at("started_at").as_string(),
                    "2000-01-01T00:00:00.000Z");
  auto dify = dir.write("d.json", R"({"target": {"type": "dify-workflow",
    "base_url": "http://127.0.0.1:9/v1", "api_key_env": "HOME"},
    "datasets": [{"name": "d", "cases": [{"id": "a"}]}]})");
  r = troupe({"run", dify, "--virtual-time", "--out", "x.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("--virtual-time runs stub targets only"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_policy_examples_do_what_their_comments_say,
                     *utf::timeout(60)) {
  auto run = [&](const std::string& name, int code) {
    auto r = troupe({"run", example(name + ".json"), "--virtual-time", "--out",
                     name + ".jsonl", "--progress", "never"});
    BOOST_CHECK_MESSAGE(r.code == code, name << ": exit " << r.code);
    return read_results(dir.file(name + ".jsonl"));
  };
  auto wall = [](const results_file& f) {
    return f.summary().at("wall_ms").to_number<double>();
  };
  // 169 attempts (19 retries), 10 at once, then 5 a second: the last
  // starts at 31.8 s and takes 0.2 s.
  auto f = run("rate-limit", 0);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 150u);
  BOOST_CHECK_EQUAL(f.summary().at("attempts").as_int64(), 169);
  BOOST_CHECK_EQUAL(wall(f), 32000.0);
  // 3 batches of 50 on 10 workers (5 rounds of 100 ms) and two 2 s pauses.
  f = run("batches", 0);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 150u);
  BOOST_CHECK_EQUAL(wall(f), 5500.0);
  // smoke gets 3 of every 4 starts until its 6 cases are out.
  f = run("weighted-datasets", 0);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 156u);
  std::vector<std::pair<double, std::string>> starts;
  for (auto& [id, r] : f.results)
    starts.emplace_back(
      r.at("attempt_log").at(0).at("started_ms").to_number<double>(),
      std::string{r.at("dataset").as_string()});
  std::stable_sort(starts.begin(), starts.end());
  BOOST_CHECK_EQUAL(std::count_if(starts.begin(), starts.begin() + 8,
                                  [](auto& s) { return s.second == "smoke"; }),
                    6);
  // 4 workers, 0.5 s a task: 24 done when the deadline passes at 3 s.
  f = run("run-deadline", 130);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 24u);
  BOOST_CHECK_EQUAL(f.count("CANCELLED"), 126u);
  BOOST_CHECK_EQUAL(f.summary().at("end").as_string(), "deadline");
  BOOST_CHECK_EQUAL(f.summary().at("reason").as_string(),
                    "run deadline of 3 s passed");
}

BOOST_AUTO_TEST_CASE(auth_aborts_with_exit_3, *utf::timeout(60)) {
  auto r = troupe({"run", manifest("auth-abort.json"), "--out", "a.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 3);
  auto f = read_results(dir.file("a.jsonl"));
  BOOST_CHECK_EQUAL(f.results.size(), 20u);
  BOOST_CHECK_EQUAL(f.status("d/c5#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.results.at("d/c5#0").at("http_status").as_int64(), 401);
  BOOST_CHECK_EQUAL(f.summary().at("end").as_string(), "aborted");
  BOOST_CHECK_GE(f.count("CANCELLED"), 13u);
  auto& cancelled = f.results.at("d/c19#0");
  BOOST_CHECK_EQUAL(cancelled.at("status").as_string(), "CANCELLED");
  BOOST_CHECK_EQUAL(cancelled.at("error").as_string(),
                    "run aborted: d/c5#0: stub 401 Unauthorized");
  BOOST_CHECK_NE(r.out.find("aborted"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(ctrl_c_cancels_and_leaves_a_complete_file,
                     *utf::timeout(60)) {
  auto out = dir.file("c.jsonl");
  child_process child{{troupe_binary(), "run", manifest("sigint.json"), "--out",
                       out, "--progress", "never"}};
  // sigint.json: c0 takes 10 ms, the others 1.5 s, 4 at a time. Once c0's
  // line is written, c1..c3 are in flight and c4 has been sent to the
  // worker c0 freed (in the same step that wrote c0's result, so before the
  // signal can be handled). The signal then lands while all four run: a
  // barrier, not a sleep, so a slow start cannot make it early. Only a
  // stall of 1.5 s between the barrier and the signal could make it late.
  BOOST_REQUIRE(eventually([&] { return count_lines(out) >= 2; }, 20s));
  child.signal(SIGINT);
  auto r = child.wait(30s);
  BOOST_CHECK_EQUAL(r.code, 130);
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.lines.size(), 1u + 40u + 1u);
  BOOST_CHECK_EQUAL(f.results.size(), 40u);
  // c0 and the four tasks in flight finished; the others never started.
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 5u);
  for (auto id : {"d/c0#0", "d/c1#0", "d/c2#0", "d/c3#0", "d/c4#0"})
    BOOST_CHECK_EQUAL(f.status(id), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.count("CANCELLED"), 35u);
  BOOST_CHECK_EQUAL(f.summary().at("end").as_string(), "cancelled");
  BOOST_CHECK_EQUAL(f.results.at("d/c39#0").at("error").as_string(),
                    "cancelled by the user (SIGINT)");
  BOOST_CHECK_EQUAL(f.attempts("d/c39#0"), 0);
  BOOST_CHECK_NE(r.out.find("cancelled"), std::string::npos);
  BOOST_CHECK_NE(r.err.find("press Ctrl+C again"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_second_ctrl_c_exits_at_once_with_whole_lines,
                     *utf::timeout(60)) {
  auto out = dir.file("c2.jsonl");
  child_process child{{troupe_binary(), "run", manifest("sigint.json"), "--out",
                       out, "--progress", "never"}};
  // The same barrier as above: four 1.5 s tasks are in flight. (Waiting
  // for the header alone let a loaded machine take the first signal before
  // any task started; the run then ended at once, summary and all.)
  BOOST_REQUIRE(eventually([&] { return count_lines(out) >= 2; }, 20s));
  child.signal(SIGINT);
  // The first interrupt has been taken (it says so) before the second.
  BOOST_REQUIRE(eventually(
    [&] {
      return read_file(child.stderr_path()).find("press Ctrl+C again")
             != std::string::npos;
    },
    20s));
  child.signal(SIGINT);
  auto r = child.wait(30s);
  BOOST_CHECK_EQUAL(r.code, 130);
  // In-flight tasks need 1.5 s: the second interrupt did not wait for them,
  // and what was written is whole lines.
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 1u); // c0, before the signals
  BOOST_CHECK(!f.has_summary());
  for (auto& kv : f.result_count)
    BOOST_CHECK_EQUAL(kv.second, 1);
}

BOOST_AUTO_TEST_SUITE_END()
