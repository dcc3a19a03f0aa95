// Results you can trust, end to end: kill -9 at random moments, Ctrl+C,
// --resume and --rerun-failed, assertions, the result cache, and troupe
// report on interrupted and resumed files.

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/fake_dify_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

struct results_fixture {
  temp_dir dir;

  process_result troupe(std::vector<std::string> args,
                        std::vector<std::string> env = {},
                        std::chrono::milliseconds limit = 120s) {
    args.insert(args.begin(), troupe_binary());
    child_process child{args, dir.path(), env};
    return child.wait(limit);
  }

  // A stub manifest of `n` cases; `extra` goes into the top object and
  // `stub_extra` into "stub".
  std::string stub_manifest(const std::string& name, int n, double delay,
                            int concurrency, const std::string& extra = "",
                            const std::string& stub_extra = "") {
    std::string cases = "[";
    for (int i = 0; i < n; ++i)
      cases += std::string{i ? "," : ""} + R"({"id":"c)" + std::to_string(i)
               + R"(","inputs":{"text":"case )" + std::to_string(i) + "\"}}";
    cases += "]";
    return dir.write(name, R"({"name": "r", "target": {"type": "stub"},
      "datasets": [{"name": "d", "cases": )"
                             + cases + R"(}],
      "execution_policy": {"concurrency": )"
                             + std::to_string(concurrency) + R"(},
      "stub": {"simulated_delay_seconds": )"
                             + std::to_string(delay)
                             + (stub_extra.empty() ? "" : ", " + stub_extra)
                             + "}" + (extra.empty() ? "" : ", " + extra) + "}");
  }

  /// Every line but a partial last one must be whole JSON.
  static size_t whole_lines(const std::string& text, bool& partial_tail) {
    size_t n = 0;
    size_t pos = 0;
    partial_tail = false;
    while (pos < text.size()) {
      auto nl = text.find('\n', pos);
      if (nl == std::string::npos) {
        partial_tail = true;
        break;
      }
      json::error_code ec;
      json::parse(text.substr(pos, nl - pos), ec);
      BOOST_CHECK_MESSAGE(!ec, "line " << n + 1 << " is not whole JSON");
      ++n;
      pos = nl + 1;
    }
    return n;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(results, results_fixture)

BOOST_AUTO_TEST_CASE(kill_9_at_random_moments_loses_and_doubles_nothing,
                     *utf::timeout(240)) {
  // 6,000 tasks of 20 ms on 20 workers: six seconds of work, killed at
  // random points and resumed each time.
  auto m = stub_manifest("k.json", 6000, 0.02, 20);
  auto out = dir.file("k.jsonl");
  std::mt19937 rng{20261126};
  int kills = 0;
  bool started = false;
  for (int round = 0; round < 12; ++round) {
    std::vector<std::string> args{troupe_binary(), "run", m, "--progress",
                                  "never"};
    if (started) {
      args.push_back("--resume");
      args.push_back(out);
    } else {
      args.push_back("--out");
      args.push_back(out);
    }
    child_process child{args, dir.path()};
    // Until the file holds its header, a kill leaves nothing to resume:
    // the first round waits for it (a start under sanitizers on a busy
    // machine can take longer than the longest wait below), then the
    // random moments begin.
    if (!started)
      BOOST_REQUIRE(eventually(
        [&] { return read_file(out).find('\n') != std::string::npos; }, 60s));
    auto after = std::chrono::milliseconds{
      std::uniform_int_distribution<int>{20, 400}(rng)};
    std::this_thread::sleep_for(after);
    child.signal(SIGKILL);
    auto r = child.wait(30s);
    started = started || std::filesystem::exists(out);
    if (r.code == 128 + SIGKILL)
      ++kills;
    bool partial = false;
    whole_lines(read_file(out), partial);
  }
  BOOST_CHECK_GE(kills, 6);
  // A partial line left by a writer is dropped on resume, and said so.
  {
    std::ofstream tail{out, std::ios::app};
    tail << R"({"type":"result","task_id":"d/c1)";
  }
  auto r = troupe({"run", m, "--resume", out, "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.err.find("dropped a partial last line ("),
                 std::string::npos);
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.results.size(), 6000u);
  for (auto& [id, n] : f.result_count)
    BOOST_CHECK_MESSAGE(n == 1, id << " has " << n << " result lines");
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 6000u);
  auto& s = f.summary();
  BOOST_CHECK_EQUAL(s.at("total").as_int64(), 6000);
  BOOST_CHECK_EQUAL(s.at("counts").at("SUCCEEDED").as_int64(), 6000);
}

BOOST_AUTO_TEST_CASE(ctrl_c_then_resume_runs_only_what_was_cancelled,
                     *utf::timeout(120)) {
  // c0 takes 10 ms, the others 1 s, 4 at a time.
  auto m = stub_manifest("c.json", 40, 1.0, 4, "",
                         R"("task_behaviors": {"d/c0#0": "delay:10ms"})");
  auto out = dir.file("c.jsonl");
  child_process child{
    {troupe_binary(), "run", m, "--out", out, "--progress", "never"},
    dir.path()};
  // Once c0's line is there, c1..c3 are in flight and c4 has been sent to
  // c0's worker (in the step that wrote c0's result, so before the signal
  // can be handled): a barrier instead of a 300 ms sleep after the header,
  // which a loaded machine could spend before dispatching anything. Only a
  // stall of a whole second after the barrier could make the signal late.
  BOOST_REQUIRE(eventually([&] { return count_lines(out) >= 2; }, 20s));
  child.signal(SIGINT);
  BOOST_CHECK_EQUAL(child.wait(30s).code, 130);
  auto first = read_results(out);
  BOOST_CHECK_EQUAL(first.count("SUCCEEDED"), 5u);
  BOOST_CHECK_EQUAL(first.count("CANCELLED"), 35u);
  auto r = troupe(
    {"run", m, "--resume", out, "--concurrency", "40", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 40u);
  // The 5 done tasks were not run again: one line each; the others two.
  size_t twice = 0;
  for (auto& [id, n] : f.result_count)
    twice += n == 2 ? 1 : 0;
  BOOST_CHECK_EQUAL(twice, 35u);
  for (auto id : {"d/c0#0", "d/c1#0", "d/c2#0", "d/c3#0", "d/c4#0"})
    BOOST_CHECK_EQUAL(f.result_count.at(id), 1);
  // The summary covers the whole history.
  auto& s = f.summary();
  BOOST_CHECK_EQUAL(s.at("counts").at("SUCCEEDED").as_int64(), 40);
  BOOST_CHECK_EQUAL(s.at("counts").at("CANCELLED").as_int64(), 0);
  BOOST_CHECK_EQUAL(s.at("attempts").as_int64(), 40);
  size_t headers = 0;
  for (auto& line : f.lines)
    headers += line.at("type") == "header" ? 1 : 0;
  BOOST_CHECK_EQUAL(headers, 2u);
}

BOOST_AUTO_TEST_CASE(resuming_with_nothing_left_is_a_no_op, *utf::timeout(60)) {
  auto m = stub_manifest("n.json", 10, 0, 4);
  auto out = dir.file("n.jsonl");
  BOOST_REQUIRE_EQUAL(troupe({"run", m, "--out", out}).code, 0);
  auto before = read_file(out);
  for (int i = 0; i < 2; ++i) {
    auto r = troupe({"run", m, "--resume", out});
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_NE(r.out.find("nothing left to run (10 tasks done)"),
                   std::string::npos);
    BOOST_CHECK_EQUAL(read_file(out), before);
  }
}

BOOST_AUTO_TEST_CASE(a_changed_manifest_is_refused_with_both_hashes,
                     *utf::timeout(60)) {
  auto m = stub_manifest("h.json", 5, 0, 2);
  auto out = dir.file("h.jsonl");
  BOOST_REQUIRE_EQUAL(troupe({"run", m, "--out", out}).code, 0);
  auto old_hash
    = std::string{read_results(out).header().at("manifest_hash").as_string()};
  auto changed = stub_manifest("h.json", 6, 0, 2);
  auto before = read_file(out);
  auto r = troupe({"run", changed, "--resume", out});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find(old_hash), std::string::npos);
  BOOST_CHECK_NE(r.err.find("written for another manifest"), std::string::npos);
  BOOST_CHECK_NE(r.err.find("hint:"), std::string::npos);
  BOOST_CHECK_EQUAL(read_file(out), before);
  BOOST_CHECK_EQUAL(
    troupe({"run", m, "--resume", dir.file("absent.jsonl")}).code, 2);
  BOOST_CHECK_EQUAL(troupe({"run", m, "--rerun-failed"}).code, 2);
}

BOOST_AUTO_TEST_CASE(rerun_failed_reruns_failed_timeout_and_error_tasks,
                     *utf::timeout(60)) {
  auto m = stub_manifest("f.json", 6, 0, 2,
                         R"("retry_policy": {"max_attempts": 1},
                            "execution_policy": {"timeout_seconds": 0.2})");
  // stub_manifest put execution_policy first; the later key would clash, so
  // write this one by hand.
  m = dir.write("f.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": [{"id": "ok"}, {"id": "fatal"},
                                         {"id": "slow"}, {"id": "broken"}]}],
    "execution_policy": {"timeout_seconds": 0.2},
    "retry_policy": {"max_attempts": 1},
    "stub": {"task_behaviors": {"d/fatal#0": "fatal", "d/slow#0": "timeout",
                                "d/broken#0": "error"}}})");
  auto out = dir.file("f.jsonl");
  BOOST_CHECK_EQUAL(troupe({"run", m, "--out", out}).code, 1);
  // Without --rerun-failed nothing is left: they did finish.
  auto r = troupe({"run", m, "--resume", out});
  BOOST_CHECK_EQUAL(r.code, 1);
  BOOST_CHECK_NE(r.out.find("nothing left to run"), std::string::npos);
  r = troupe({"run", m, "--resume", out, "--rerun-failed"});
  BOOST_CHECK_EQUAL(r.code, 1);
  auto f = read_results(out);
  BOOST_CHECK_EQUAL(f.result_count.at("d/ok#0"), 1);
  for (auto id : {"d/fatal#0", "d/slow#0", "d/broken#0"})
    BOOST_CHECK_EQUAL(f.result_count.at(id), 2);
  BOOST_CHECK_EQUAL(f.summary().at("counts").at("SUCCEEDED").as_int64(), 1);
  BOOST_CHECK_EQUAL(f.summary().at("counts").at("FAILED").as_int64(), 1);
  BOOST_CHECK_EQUAL(f.summary().at("counts").at("TIMEOUT").as_int64(), 1);
  BOOST_CHECK_EQUAL(f.summary().at("counts").at("ERROR").as_int64(), 1);
}

BOOST_AUTO_TEST_CASE(assertions_mark_results_and_set_exit_1,
                     *utf::timeout(60)) {
  auto m = dir.write("a.json", R"({"target": {"type": "stub"},
    "datasets": [
      {"name": "d", "expect": {"contains": "echo", "max_latency_ms": 5000},
       "cases": [
         {"id": "good", "inputs": {"text": "the summary"},
          "expect": {"contains": "summary", "not_contains": "error",
                     "regex": "\"text\":\"the \\w+\"",
                     "json": {"/echo/text": "the summary"}}},
         {"id": "bad", "inputs": {"text": "x"},
          "expect": {"contains": "summary", "equals": {"echo": {}}}}]}],
    "stub": {"simulated_delay_seconds": 0.01}})");
  auto r = troupe({"run", m, "--out", "a.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 1);
  auto f = read_results(dir.file("a.jsonl"));
  auto& good = f.results.at("d/good#0");
  BOOST_CHECK_EQUAL(good.at("status").as_string(), "SUCCEEDED");
  auto& checks = good.at("assertions").as_array();
  BOOST_REQUIRE_EQUAL(checks.size(), 6u);
  for (auto& c : checks)
    BOOST_CHECK_MESSAGE(c.at("passed").as_bool(), json::serialize(c));
  auto& bad = f.results.at("d/bad#0");
  BOOST_CHECK_EQUAL(bad.at("status").as_string(), "SUCCEEDED");
  size_t failed = 0;
  for (auto& c : bad.at("assertions").as_array())
    failed += c.at("passed").as_bool() ? 0 : 1;
  BOOST_CHECK_EQUAL(failed, 2u); // contains "summary", equals
  auto& s = f.summary();
  BOOST_CHECK_EQUAL(s.at("assertions_failed").as_int64(), 1);
  BOOST_CHECK_EQUAL(s.at("assertion_failures").as_array().size(), 2u);
  BOOST_CHECK_NE(r.out.find("assertions failed: 1 tasks"), std::string::npos);
  // A bad regex is found before anything runs.
  auto bad_regex = dir.write("b.json", R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": [{"id": "c",
      "expect": {"regex": "a(b"}}]}]})");
  r = troupe({"run", bad_regex, "--out", "b.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK(!std::filesystem::exists(dir.file("b.jsonl")));
}

BOOST_AUTO_TEST_CASE(the_cache_answers_repeats_and_never_keeps_failures,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = dir.write("cache.json", R"({"target": {"type": "dify-workflow",
      "base_url": ")" + server.base_url()
                                     + R"(", "api_key_env": "K"},
    "datasets": [{"name": "d", "cases": [
      {"id": "a", "inputs": {"text": "one"}, "expect": {"contains": "one"}},
      {"id": "b", "inputs": {"text": "two"}},
      {"id": "f", "inputs": {"_fault": "400"}}]}],
    "retry_policy": {"max_attempts": 1}})");
  std::vector<std::string> env{"K=app-test"};
  auto cache = dir.file("cache");
  BOOST_CHECK_EQUAL(
    troupe({"run", m, "--out", "1.jsonl", "--cache", cache}, env).code, 1);
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 3);
  auto r = troupe({"run", m, "--out", "2.jsonl", "--cache", cache}, env);
  BOOST_CHECK_EQUAL(r.code, 1);
  // Only the failed case was sent again.
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 4);
  auto f = read_results(dir.file("2.jsonl"));
  auto& a = f.results.at("d/a#0");
  BOOST_CHECK(a.at("cached").as_bool());
  BOOST_CHECK_EQUAL(a.at("attempts").as_int64(), 0);
  BOOST_CHECK_EQUAL(a.at("output").at("text").as_string(), "echo: one");
  BOOST_CHECK(a.at("assertions").as_array()[0].at("passed").as_bool());
  BOOST_CHECK(!f.results.at("d/f#0").contains("cached"));
  BOOST_CHECK_EQUAL(f.summary().at("cached").as_int64(), 2);
  BOOST_CHECK_NE(r.out.find("from the result cache: 2"), std::string::npos);
  // Entries are whole files; no temporary is left behind, and a damaged
  // entry is a miss, not a crash.
  size_t entries = 0;
  std::string one;
  for (auto& e : std::filesystem::recursive_directory_iterator(cache))
    if (e.is_regular_file()) {
      BOOST_CHECK(e.path().extension() == ".json");
      ++entries;
      one = e.path().string();
    }
  BOOST_CHECK_EQUAL(entries, 2u);
  std::filesystem::resize_file(one, 5);
  BOOST_CHECK_EQUAL(
    troupe({"run", m, "--out", "3.jsonl", "--cache", cache}, env).code, 1);
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 6);
}

BOOST_AUTO_TEST_CASE(report_sums_up_interrupted_and_resumed_files,
                     *utf::timeout(120)) {
  auto m = stub_manifest("p.json", 200, 0.02, 10,
                         R"("parameters": [{"p": 1}, {"p": 2}])");
  auto out = dir.file("p.jsonl");
  child_process child{
    {troupe_binary(), "run", m, "--out", out, "--progress", "never"},
    dir.path()};
  BOOST_REQUIRE(eventually(
    [&] {
      auto text = read_file(out);
      return std::count(text.begin(), text.end(), '\n') >= 50;
    },
    20s));
  child.signal(SIGKILL);
  child.wait(10s);
  auto r = troupe({"report", out, "--json"});
  BOOST_CHECK_EQUAL(r.code, 0);
  auto s = json::parse(r.out).as_object();
  auto done = read_results(out).results.size();
  BOOST_CHECK_EQUAL(s.at("total").as_int64(), 400);
  BOOST_CHECK_EQUAL(s.at("counts").at("SUCCEEDED").as_int64(),
                    static_cast<int64_t>(done));
  BOOST_CHECK_EQUAL(s.at("counts").at("PENDING").as_int64(),
                    400 - static_cast<int64_t>(done));
  BOOST_CHECK_EQUAL(s.at("end").as_string(), "cancelled");
  BOOST_REQUIRE_EQUAL(troupe({"run", m, "--resume", out}).code, 0);
  auto html = dir.file("report.html");
  r = troupe({"report", out, "--html", html});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.out.find("SUCCEEDED         400"), std::string::npos);
  auto page = read_file(html);
  BOOST_CHECK_NE(page.find("<svg"), std::string::npos);
  BOOST_CHECK_NE(page.find("Latency histogram"), std::string::npos);
  BOOST_CHECK_NE(page.find("Throughput over time"), std::string::npos);
  BOOST_CHECK_NE(page.find("2 runs"), std::string::npos);
  // Self-contained: nothing to fetch.
  for (auto needle :
       {"src=", "href=", "http://", "https://", "<script", "@import", "url("})
    BOOST_CHECK_MESSAGE(page.find(needle) == std::string::npos, needle);
  BOOST_CHECK_EQUAL(troupe({"report", dir.file("none.jsonl")}).code, 2);
}

BOOST_AUTO_TEST_CASE(off_a_terminal_progress_is_a_plain_line_every_5_s,
                     *utf::timeout(60)) {
  auto m = stub_manifest("g.json", 7, 1.0, 1);
  auto r = troupe({"run", m, "--out", "g.jsonl"});
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.err.find("/7 "), std::string::npos);
  BOOST_CHECK_EQUAL(r.err.find('\r'), std::string::npos);
  r = troupe({"run", m, "--out", "h.jsonl", "--progress", "never"});
  BOOST_CHECK_EQUAL(r.err, "");
}

BOOST_AUTO_TEST_SUITE_END()
