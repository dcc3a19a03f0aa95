#pragma once

// The fake_dify_plan suite's fixture: a plan_source with scripted ids, clock
// and dice, and the settings a test sets.

#include "tools/fake_dify/plan.hpp"

#include <boost/test/unit_test.hpp>

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace troupe::fake_dify::test {

/// Ids 1, 2, ...; a fixed clock; the draws a test queues.
struct scripted_source : plan_source {
  uint64_t ids = 0;
  int64_t clock = 1700000000; // Tue, 14 Nov 2023 22:13:20 GMT
  std::deque<double> draws;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  int64_t range_value = 0;
  std::map<std::string, int64_t> counts;

  uint64_t next_id() override {
    return ++ids;
  }
  int64_t now() override {
    return clock;
  }
  double draw() override {
    BOOST_REQUIRE_MESSAGE(!draws.empty(), "an unexpected draw");
    auto d = draws.front();
    draws.pop_front();
    return d;
  }
  int64_t draw_between(int64_t lo, int64_t hi) override {
    ranges.emplace_back(lo, hi);
    return range_value;
  }
  int64_t count_fault(const std::string& key) override {
    return ++counts[key];
  }
  std::map<std::string, std::vector<std::string>> conversations;
  std::optional<std::vector<std::string>>
  conversation(const std::string& user, const std::string& id) override {
    auto i = conversations.find(user + "/" + id);
    if (i == conversations.end())
      return std::nullopt;
    return i->second;
  }
  void remember_turn(const std::string& user, const std::string& id,
                     const std::string& query) override {
    conversations[user + "/" + id].push_back(query);
  }
};

struct plan_fixture {
  scripted_source source;
  fault_settings settings;

  plan run(app_kind app, const std::string& body) {
    return plan_run(app, body, "Bearer app-k", settings, source);
  }

  /// A workflow call with this fault, blocking or streaming.
  plan with_fault(const std::string& fault, bool streaming = false) {
    return run(app_kind::workflow,
               R"({"inputs": {"text": "hello", "_fault": ")" + fault
                 + R"("}, "user": "u", "response_mode": ")"
                 + (streaming ? "streaming" : "blocking") + "\"}");
  }

  static std::string header(const plan& p, const std::string& name) {
    for (auto& [n, v] : p.headers)
      if (n == name)
        return v;
    return "<none>";
  }
};

inline const std::string id1 = "task-00000001-0000-4000-8000-000000000001";
inline const std::string id2 = "run-00000002-0000-4000-8000-000000000002";

/// The blocking answer to {"text": "hello"}: task 1, run 2, 12 tokens.
inline const std::string run_json
  = R"({"id":")" + id2
    + R"(","workflow_id":"wf-fake","status":"succeeded",)"
      R"("outputs":{"text":"echo: hello"},"error":null,"elapsed_time":2.5E-1,)"
      R"("total_tokens":12,"total_steps":3,"created_at":1700000000,)"
      R"("finished_at":1700000000})";
inline const std::string hello_body = R"({"task_id":")" + id1
                                      + R"(","workflow_run_id":")" + id2
                                      + R"(","data":)" + run_json + "}";

} // namespace troupe::fake_dify::test
