// A fault soak (issue 14, item 14): a few hundred tasks against fake-dify,
// one in ten with a per-call fault from tests/e2e/soak-faults.json, once
// blocking and once streaming. Every task ends exactly once, with the status
// and attempt count its fault implies, and the server counts exactly the run
// calls that troupe counts as attempts. bench/bench.py soak runs 20,000.
//
//   soak-faults.json ─▶ cases.jsonl ─▶ troupe run ──calls──▶ fake-dify
//                                        │                      │
//                       results.jsonl ◀──┘       /_fake/stats ◀─┘
//                           └── per task: status, attempts ─┐
//                               sum of attempts ════════════╧═ run calls

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/fake_dify_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

struct soak_fixture {
  temp_dir dir;
  json::object table
    = json::parse(read_file(source_dir() + "/tests/e2e/soak-faults.json"))
        .as_object();

  /// The table entry of case `i`, or null for a case without a fault.
  const json::object* fault_of(int64_t i) const {
    auto every = table.at("every").as_int64();
    auto& faults = table.at("faults").as_array();
    if (i % every != table.at("offset").as_int64())
      return nullptr;
    return &faults[static_cast<size_t>(i / every) % faults.size()].as_object();
  }

  /// Writes `n` cases, each fault under its case's inputs.
  std::string cases(int64_t n, const std::string& name) {
    std::string text;
    for (int64_t i = 0; i < n; ++i) {
      json::object inputs{{"text", "case " + std::to_string(i)}};
      if (auto* f = fault_of(i)) {
        inputs["_fault"] = f->at("fault");
        if (auto* times = f->if_contains("times"))
          inputs["_fault_times"] = *times;
      }
      json::object c{{"id", "c" + std::to_string(i)},
                     {"inputs", std::move(inputs)}};
      text += json::serialize(c) + "\n";
    }
    return dir.write(name, text);
  }

  /// Runs `n` tasks in `mode` against a server of their own, then checks
  /// every task and the count of calls.
  void soak(int64_t n, const std::string& mode) {
    fake_dify_process server;
    json::object target{{"type", "dify-workflow"},
                        {"base_url", server.base_url()},
                        {"api_key_env", "TEST_DIFY_KEY"},
                        {"response_mode", mode}};
    json::object m{
      {"name", "soak-" + mode},
      {"target", std::move(target)},
      {"datasets", json::array{json::object{
                     {"name", "d"}, {"file", cases(n, mode + ".jsonl")}}}},
      {"execution_policy", table.at("execution_policy")},
      {"retry_policy", table.at("retry_policy")}};
    auto manifest = dir.write(mode + ".json", json::serialize(m));
    auto out = dir.file(mode + "-results.jsonl");
    child_process child{
      {troupe_binary(), "run", manifest, "--out", out, "--progress", "never"},
      dir.path(),
      {"TEST_DIFY_KEY=app-test"}};
    auto r = child.wait(90s);
    BOOST_REQUIRE_MESSAGE(!r.timed_out, mode << ": troupe did not finish");
    // Some faults end FAILED or ERROR by design.
    BOOST_CHECK_EQUAL(r.code, 1);
    auto f = read_results(out);
    BOOST_CHECK_EQUAL(f.results.size(), static_cast<size_t>(n));
    int64_t attempts = 0;
    for (int64_t i = 0; i < n; ++i) {
      auto id = "d/c" + std::to_string(i) + "#0";
      auto at = f.results.find(id);
      if (at == f.results.end()) {
        BOOST_ERROR(mode << ": " << id << " has no result line");
        continue;
      }
      auto& res = at->second;
      auto* fault = fault_of(i);
      std::string want
        = fault ? fault->at("status").as_string().c_str() : "SUCCEEDED";
      int64_t want_attempts = fault ? fault->at("attempts").as_int64() : 1;
      std::string want_first
        = fault ? fault->at("first").as_string().c_str() : "SUCCEEDED";
      auto& log = res.at("attempt_log").as_array();
      auto what = mode + " " + id + " ("
                  + (fault ? json::serialize(*fault) : std::string{"no fault"})
                  + "): " + json::serialize(res);
      BOOST_CHECK_MESSAGE(f.result_count.at(id) == 1, what);
      BOOST_CHECK_MESSAGE(res.at("status").as_string() == want, what);
      BOOST_CHECK_MESSAGE(res.at("attempts").as_int64() == want_attempts, what);
      BOOST_CHECK_MESSAGE(log.size() == static_cast<size_t>(want_attempts),
                          what);
      BOOST_CHECK_MESSAGE(
        !log.empty() && log[0].at("status").as_string() == want_first, what);
      attempts += res.at("attempts").as_int64();
    }
    // The server's own count: no call lost, none made twice behind
    // troupe's back (a client library's silent resend would show here).
    BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), attempts);
    BOOST_CHECK_EQUAL(f.summary().at("attempts").as_int64(), attempts);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(soak, soak_fixture)

BOOST_AUTO_TEST_CASE(blocking_calls_end_as_their_faults_say,
                     *utf::timeout(120)) {
  soak(300, "blocking");
}

BOOST_AUTO_TEST_CASE(streaming_calls_end_as_their_faults_say,
                     *utf::timeout(120)) {
  soak(300, "streaming");
}

BOOST_AUTO_TEST_SUITE_END()
