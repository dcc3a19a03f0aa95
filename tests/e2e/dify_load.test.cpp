// Many calls at once against fake-dify: its --hold-until-active barrier,
// ten thousand requests in flight, and their latencies beside the server's
// own hold times. (Suite dify.)

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

BOOST_FIXTURE_TEST_SUITE(dify, dify_fixture)

BOOST_AUTO_TEST_CASE(the_barrier_holds_calls_until_n_are_open,
                     *utf::timeout(60)) {
  // Three calls answered only once all three are open: max_active is 3
  // however far apart they arrive (up to the 50 s hold timeout).
  fake_dify_process server{
    {"--hold-until-active", "3", "--hold-timeout-ms", "50000"}};
  auto m
    = manifest(target(server), R"([{"id": "a"}, {"id": "b"}, {"id": "c"}])",
               R"("execution_policy": {"concurrency": 3,
                                            "timeout_seconds": 55},
                       "retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(m).code, 0);
  BOOST_CHECK_EQUAL(results().count("SUCCEEDED"), 3u);
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(stats.at("max_active").as_int64(), 3);
  BOOST_CHECK_EQUAL(stats.at("hold_released").as_bool(), true);
  BOOST_CHECK_EQUAL(stats.at("hold_timeouts").as_int64(), 0);
}

BOOST_AUTO_TEST_CASE(a_barrier_that_is_never_reached_fails_the_held_calls,
                     *utf::timeout(60)) {
  // Two tasks can never make five calls open at once.
  fake_dify_process server{
    {"--hold-until-active", "5", "--hold-timeout-ms", "300"}};
  auto m = manifest(target(server), R"([{"id": "a"}, {"id": "b"}])",
                    R"("execution_policy": {"concurrency": 2},
                       "retry_policy": {"max_attempts": 1})");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  for (auto id : {"d/a#0", "d/b#0"}) {
    auto& r = f.results.at(id);
    BOOST_CHECK_EQUAL(r.at("status").as_string(), "FAILED");
    BOOST_CHECK_EQUAL(r.at("http_status").as_int64(), 503);
    // K depends on when the second call came; N and T do not.
    auto error = str(r.at("error"));
    BOOST_CHECK_MESSAGE(error.find("hold-until-active: only ")
                            != std::string::npos
                          && ends(error, " of 5 calls arrived within 300 ms"),
                        error);
  }
  BOOST_CHECK_GE(server.stats().at("hold_timeouts").as_int64(), 1);
}

BOOST_AUTO_TEST_CASE(a_held_call_whose_client_gives_up_is_dropped_and_counted,
                     *utf::timeout(60)) {
  // Each attempt times out while held; the server lets it go (it no longer
  // counts towards the two) and counts it, as troupe counts the attempt.
  fake_dify_process server{
    {"--hold-until-active", "2", "--hold-timeout-ms", "50000"}};
  auto m = manifest(target(server), R"([{"id": "a"}])",
                    R"("execution_policy": {"timeout_seconds": 0.5},
                       "retry_policy": {"max_attempts": 2,
                                        "backoff_seconds": 0.05})");
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  BOOST_CHECK_EQUAL(f.status("d/a#0"), "TIMEOUT");
  BOOST_CHECK_EQUAL(f.attempts("d/a#0"), 2);
  BOOST_CHECK(
    eventually([&] { return server.stats().at("held").as_int64() == 0; }, 10s));
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(server.calls("/v1/workflows/run"), 2);
  BOOST_CHECK_EQUAL(stats.at("max_active").as_int64(), 1);
  BOOST_CHECK_EQUAL(stats.at("hold_released").as_bool(), false);
}

// Both processes raise their soft file limit to the hard one; 10,000
// connections need that many descriptors in each, and some to spare.
boost::test_tools::assertion_result
file_limit_allows_ten_thousand(utf::test_unit_id) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  boost::test_tools::assertion_result ok(lim.rlim_max == RLIM_INFINITY
                                         || lim.rlim_max >= 10'500);
  ok.message() << "needs a hard file limit (ulimit -Hn) of 10,500, got "
               << lim.rlim_max;
  return ok;
}

BOOST_AUTO_TEST_CASE(ten_thousand_requests_in_flight,
                     *utf::precondition(file_limit_allows_ten_thousand)
                       * utf::timeout(290)) {
  // The server answers no call until all 10,000 are open at once, so the
  // test shows 10,000 in flight however slow the ramp: only a ramp longer
  // than the 240 s hold timeout fails it, and then it says so.
  fake_dify_process server{
    {"--hold-until-active", "10000", "--hold-timeout-ms", "240000"}};
  std::string cases = "[";
  for (int i = 0; i < 10'000; ++i)
    cases
      += std::string{i ? "," : ""} + R"({"id":"c)" + std::to_string(i) + "\"}";
  cases += "]";
  auto m = manifest(target(server), cases,
                    R"("execution_policy": {"concurrency": 10000,
                                            "timeout_seconds": 600},
                       "retry_policy": {"max_attempts": 1})");
  auto r = run(m, {}, 280s);
  auto stats = server.stats();
  BOOST_TEST_MESSAGE("fake-dify: " << json::serialize(stats));
  BOOST_CHECK_EQUAL(stats.at("hold_timeouts").as_int64(), 0);
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_EQUAL(results().count("SUCCEEDED"), 10'000u);
  BOOST_CHECK_EQUAL(stats.at("max_active").as_int64(), 10'000);
}

BOOST_AUTO_TEST_CASE(each_latency_is_the_server_hold_at_ten_thousand_in_flight,
                     *utf::precondition(file_limit_allows_ten_thousand)
                       * utf::timeout(290)) {
  // The barrier holds every call until all 10,000 are open, then each is
  // answered 0.2 to 2.2 s later (spread, so that the answers do not all
  // land in the same few ms, where reading 10,000 of them one after another
  // takes the client, and the server writing them, tens of ms); fake-dify
  // logs when it read each request and wrote its answer. Each call's
  // latency_ms (request out to answer in) must be that hold, give or take
  // the loopback and the two loops: a few ms at the median. The wait for
  // the barrier is part of the server's hold, however long the ramp takes,
  // so nothing here races the clock. fake-dify reads with two threads: a
  // request the server has yet to read counts for the client (it is on
  // the wire), and on a loaded 2-core machine one thread falls behind.
  // Under sanitizers the client is several times slower: 2,000 in flight.
#ifdef TROUPE_SANITIZED_BUILD
  constexpr int n = 2'000;
#else
  constexpr int n = 10'000;
#endif
  auto log = dir.file("timing.jsonl");
  fake_dify_process server{{"--hold-until-active", std::to_string(n),
                            "--hold-timeout-ms", "240000", "--latency-ms",
                            "200-2200", "--timing-log", log, "--threads", "2"}};
  std::string cases = "[";
  for (int i = 0; i < n; ++i)
    cases += std::string{i ? "," : ""} + R"({"id":"c)" + std::to_string(i)
             + R"(","inputs":{"n":"c)" + std::to_string(i) + "\"}}";
  cases += "]";
  auto m = manifest(target(server), cases,
                    R"("execution_policy": {"concurrency": 10000,
                                            "timeout_seconds": 600},
                       "retry_policy": {"max_attempts": 1})");
  auto r = run(m, {}, 280s);
  BOOST_REQUIRE_EQUAL(r.code, 0);
  // The server's hold per call, by the call's input n.
  std::map<std::string, int64_t> hold_us;
  std::ifstream in{log};
  for (std::string line; std::getline(in, line);) {
    auto o = json::parse(line).as_object();
    hold_us[str(o.at("inputs").as_object().at("n"))]
      = o.at("hold_us").as_int64();
  }
  BOOST_REQUIRE_EQUAL(hold_us.size(), size_t{n});
  auto f = results();
  std::vector<double> over_ms; // latency_ms minus the server's hold
  for (int i = 0; i < n; ++i) {
    auto id = "c" + std::to_string(i);
    auto& line = f.results.at("d/" + id + "#0");
    auto latency = line.at("latency_ms").to_number<double>();
    over_ms.push_back(latency - static_cast<double>(hold_us.at(id)) / 1000);
    // The wait before the wire is recorded apart, and is not negative.
    BOOST_REQUIRE(line.at("queue_ms").to_number<double>() >= 0);
    BOOST_REQUIRE(line.at("connect_ms").to_number<double>() >= 0);
  }
  std::sort(over_ms.begin(), over_ms.end());
  auto median = over_ms[over_ms.size() / 2];
  BOOST_TEST_MESSAGE("latency_ms - server hold: min "
                     << over_ms.front() << ", median " << median << ", p99 "
                     << over_ms[over_ms.size() * 99 / 100] << ", max "
                     << over_ms.back());
  // Measured on an idle machine: median 0.13 ms, p99 2 to 6 ms, max 4 to
  // 8 ms, min -0.5 to -0.7 ms (the server is stamped after its write
  // returns, and a busy machine may preempt it in between). On a loaded
  // machine a request waits in the socket buffer until the server reads
  // it, which the client counts and the server does not: with both cores
  // busy compiling besides the suite, the median reached 526 ms. The bound
  // leaves room for that and still fails the latency of before issue 13,
  // which counted the client's ramp: a median 2,700 ms over the hold at
  // 10,000 in flight on an idle machine, more under load. No bound on the
  // max, which only says how loaded the machine was. Latency can never
  // fall much below the hold: the lower bound stays tight.
  BOOST_CHECK_LE(std::abs(median), 1500.0);
  BOOST_CHECK_GE(over_ms.front(), -50.0);
}

BOOST_AUTO_TEST_SUITE_END()
