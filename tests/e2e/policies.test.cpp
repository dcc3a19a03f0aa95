// Dispatch policies in real time, through the binary: starts per one-second
// window under a rate limit, the share of weighted datasets, the gaps
// between batches, rejections with and without adaptive concurrency against
// troupe fake-dify with an active-request cap, and the run deadline.

#include <boost/test/unit_test.hpp>

#include "tests/support/fake_dify_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/timeline.hpp"

#include <algorithm>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

struct policy_fixture {
  temp_dir dir;
  int runs = 0;

  results_file run(const std::string& manifest_text, int expected_code,
                   std::vector<std::string> env = {}) {
    auto m = dir.write("m" + std::to_string(++runs) + ".json", manifest_text);
    auto out = dir.file("r" + std::to_string(runs) + ".jsonl");
    child_process child{
      {troupe_binary(), "run", m, "--out", out, "--progress", "never"},
      dir.path(),
      env};
    auto r = child.wait(120s);
    BOOST_CHECK_MESSAGE(r.code == expected_code,
                        "exit " << r.code << ", stderr: " << r.err);
    return read_results(out);
  }

  static std::string cases(const std::string& prefix, int n) {
    std::string out = "[";
    for (int i = 0; i < n; ++i)
      out += std::string{i ? "," : ""} + R"({"id":")" + prefix
             + std::to_string(i) + "\"}";
    return out + "]";
  }

  /// Attempt starts (ms), sorted, with the dataset of each.
  static std::vector<std::pair<double, std::string>>
  starts(const results_file& f) {
    std::vector<std::pair<double, std::string>> out;
    for (auto& [id, r] : f.results)
      for (auto& a : r.at("attempt_log").as_array())
        out.emplace_back(a.at("started_ms").to_number<double>(),
                         std::string{r.at("dataset").as_string()});
    std::sort(out.begin(), out.end());
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(policies, policy_fixture)

BOOST_AUTO_TEST_CASE(a_rate_limit_holds_in_every_one_second_window,
                     *utf::timeout(120)) {
  auto f = run(R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": )"
                 + cases("c", 50) + R"(}],
    "execution_policy": {"concurrency": 16,
                         "rate_limit": {"requests_per_second": 20, "burst": 5}},
    "retry_policy": {"max_attempts": 3, "backoff_seconds": 0.05},
    "stub": {"failure_rate": 0.2, "seed": 4}})",
               1);
  // The seeded stub fails the same attempts every run: c10 and one more
  // case fail three times; 14 retries in all.
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 48u);
  BOOST_CHECK_EQUAL(f.count("FAILED"), 2u);
  auto s = starts(f);
  BOOST_REQUIRE_EQUAL(s.size(), 64u); // retries count too
  std::vector<double> times;
  for (auto& x : s)
    times.push_back(x.first);
  auto most = most_within(std::move(times), 1000.0);
  BOOST_CHECK_LE(most, 25u); // rate + burst
  BOOST_CHECK_GE(most, 15u); // and the limit is what paced the run
}

BOOST_AUTO_TEST_CASE(datasets_share_dispatch_by_weight, *utf::timeout(120)) {
  auto f = run(R"({"target": {"type": "stub"},
    "datasets": [{"name": "a", "weight": 3, "cases": )"
                 + cases("x", 30) + R"(},
                 {"name": "b", "weight": 1, "cases": )"
                 + cases("y", 30) + R"(}],
    "execution_policy": {"concurrency": 1},
    "stub": {"simulated_delay_seconds": 0.002}})",
               0);
  auto s = starts(f);
  BOOST_REQUIRE_EQUAL(s.size(), 60u);
  auto in_first = [&](size_t n, const char* ds) {
    return std::count_if(s.begin(), s.begin() + static_cast<long>(n),
                         [&](auto& x) { return x.second == ds; });
  };
  BOOST_CHECK_EQUAL(in_first(40, "a"), 30); // 3 of every 4 while both ran
  BOOST_CHECK_EQUAL(in_first(20, "b"), 5);
}

BOOST_AUTO_TEST_CASE(batches_are_apart_by_their_pause, *utf::timeout(120)) {
  auto f = run(R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": )"
                 + cases("c", 10) + R"(}],
    "execution_policy": {"concurrency": 8, "batch_size": 4,
                         "batch_pause_seconds": 0.3},
    "stub": {"simulated_delay_seconds": 0.05}})",
               0);
  auto s = starts(f);
  BOOST_REQUIRE_EQUAL(s.size(), 10u);
  // Three batches of 4, 4 and 2 starts, each 50 ms of work + 300 ms apart.
  BOOST_CHECK_LT(s[3].first - s[0].first, 50.0);
  BOOST_CHECK_GE(s[4].first - s[3].first, 350.0);
  BOOST_CHECK_LT(s[7].first - s[4].first, 50.0);
  BOOST_CHECK_GE(s[8].first - s[7].first, 350.0);
}

BOOST_AUTO_TEST_CASE(adaptive_converges_under_the_active_cap,
                     *utf::timeout(240)) {
  fake_dify_process server{{"--max-active", "4", "--latency-ms", "40"}};
  auto manifest = [&](bool adaptive) {
    return R"({"target": {"type": "dify-workflow", "base_url": ")"
           + server.base_url() + R"(", "api_key_env": "K"},
      "datasets": [{"name": "d", "cases": )"
           + cases("c", 120) + R"(}],
      "execution_policy": {"concurrency": 32, "adaptive": )"
           + (adaptive ? "true" : "false") + R"(},
      "retry_policy": {"max_attempts": 200, "backoff_seconds": 0.05,
                       "backoff_multiplier": 1.2, "max_backoff_seconds": 0.5,
                       "jitter": "full"}})";
  };
  std::vector<std::string> env{"K=app-test"};
  auto fixed = run(manifest(false), 0, env);
  auto rejected_fixed = server.stats().at("rejected_active").as_int64();
  auto adaptive = run(manifest(true), 0, env);
  auto rejected_adaptive
    = server.stats().at("rejected_active").as_int64() - rejected_fixed;
  BOOST_CHECK_EQUAL(fixed.count("SUCCEEDED"), 120u);
  BOOST_CHECK_EQUAL(adaptive.count("SUCCEEDED"), 120u);
  BOOST_TEST_MESSAGE("rejections: " << rejected_fixed << " fixed, "
                                    << rejected_adaptive << " adaptive");
  BOOST_CHECK_GT(rejected_fixed, 200);
  BOOST_CHECK_LT(rejected_adaptive * 5, rejected_fixed);
  auto& a = adaptive.summary().at("adaptive_concurrency").as_object();
  BOOST_CHECK_LE(a.at("min").as_int64(), 4);
  BOOST_CHECK_LE(server.stats().at("max_active").as_int64(), 4);
}

BOOST_AUTO_TEST_CASE(the_run_deadline_cancels_and_says_why,
                     *utf::timeout(120)) {
  auto f = run(R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": )"
                 + cases("c", 40) + R"(}],
    "execution_policy": {"concurrency": 2, "run_deadline_seconds": 1.2},
    "stub": {"simulated_delay_seconds": 0.5}})",
               130);
  auto& s = f.summary();
  BOOST_CHECK_EQUAL(s.at("end").as_string(), "deadline");
  BOOST_CHECK_EQUAL(s.at("reason").as_string(), "run deadline of 1.2 s passed");
  // c0..c3 done by 1 s, c4 and c5 in flight at 1.2 s finish; 34 cancelled.
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 6u);
  BOOST_CHECK_EQUAL(f.count("CANCELLED"), 34u);
  BOOST_CHECK_EQUAL(f.results.at("d/c39#0").at("error").as_string(),
                    "run deadline of 1.2 s passed");
}

BOOST_AUTO_TEST_SUITE_END()
