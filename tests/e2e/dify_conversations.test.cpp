// Multi-turn conversations against fake-dify, which remembers each
// conversation's turns (issue 10, item 8): the turns go in order on one
// Dify conversation, a failed turn is retried alone, and Ctrl+C lets the
// turn in flight finish, then ends the task CANCELLED for --resume to run
// again from the start. (Suite dify.)

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"

#include <csignal>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

// A three-turn conversation, the second turn's inputs given.
std::string three_turns(const std::string& id,
                        const std::string& second_inputs = "") {
  return R"({"id": ")" + id + R"(", "turns": [
    {"query": "my name is Ada"},
    {"query": "what is my name?")"
         + (second_inputs.empty() ? "" : ", \"inputs\": " + second_inputs)
         + R"(, "expect": {"contains": "before: my name is Ada"}},
    {"query": "bye", "expect": {"contains": "turn 3"}}]})";
}

const json::array& turns_of(const results_file& f, const std::string& id) {
  return f.results.at(id).at("turns").as_array();
}

std::string text(const json::value& v, const char* key) {
  return std::string{v.as_object().at(key).as_string()};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(dify, dify_fixture)

BOOST_AUTO_TEST_CASE(a_conversation_runs_its_turns_on_one_dify_conversation,
                     *utf::timeout(60)) {
  fake_dify_process server;
  for (auto* mode : {"streaming", "blocking"}) {
    BOOST_TEST_CONTEXT(mode) {
      auto calls = server.calls("/v1/chat-messages");
      auto m = manifest(target(server, mode, "dify-chat"),
                        "[" + three_turns("talk") + "]");
      BOOST_REQUIRE_EQUAL(run(m).code, 0);
      BOOST_CHECK_EQUAL(server.calls("/v1/chat-messages") - calls, 3);
      auto f = results();
      auto& r = f.results.at("d/talk#0");
      BOOST_CHECK_EQUAL(r.at("status").as_string(), "SUCCEEDED");
      BOOST_CHECK_EQUAL(r.at("attempts").to_number<int64_t>(), 3);
      auto& turns = turns_of(f, "d/talk#0");
      BOOST_REQUIRE_EQUAL(turns.size(), 3u);
      // The fake's answers name the turns before: it saw one conversation.
      BOOST_CHECK_EQUAL(text(turns[0], "output"), "echo: my name is Ada");
      BOOST_CHECK_EQUAL(text(turns[1], "output"),
                        "echo: what is my name? (turn 2; before: my name is "
                        "Ada)");
      BOOST_CHECK_EQUAL(text(turns[2], "output"),
                        "echo: bye (turn 3; before: my name is Ada | what is "
                        "my name?)");
      BOOST_CHECK_EQUAL(r.at("output").as_string(), text(turns[2], "output"));
      auto conversation = text(turns[0], "conversation_id");
      BOOST_CHECK(!conversation.empty());
      int64_t tokens = 0;
      for (auto& t : turns) {
        BOOST_CHECK_EQUAL(text(t, "status"), "SUCCEEDED");
        BOOST_CHECK_EQUAL(text(t, "conversation_id"), conversation);
        BOOST_CHECK_GE(t.at("latency_ms").to_number<double>(), 0.0);
        tokens += t.at("tokens").to_number<int64_t>();
      }
      BOOST_CHECK_EQUAL(r.at("tokens").to_number<int64_t>(), tokens);
      // Each turn's checks on its own answer, and all of them on the task.
      BOOST_CHECK(turns[0].at("assertions").as_array().empty());
      BOOST_CHECK_EQUAL(turns[1].at("assertions").as_array().size(), 1u);
      auto& all = r.at("assertions").as_array();
      BOOST_REQUIRE_EQUAL(all.size(), 2u);
      BOOST_CHECK_EQUAL(text(all[0], "check"), "turn 2: contains");
      BOOST_CHECK_EQUAL(text(all[1], "check"), "turn 3: contains");
      for (auto& a : all)
        BOOST_CHECK(a.at("passed").as_bool());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_turn_is_retried_alone_and_a_final_one_ends_it,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto m = manifest(
    target(server, "streaming", "dify-chat"),
    "[" + three_turns("flaky", R"({"_fault": "500", "_fault_times": 1})")
      + R"(, {"id": "lost", "conversation_id": "no-such-conversation",
              "turns": [{"query": "hi"}, {"query": "never sent"}]}])",
    quick_retry);
  BOOST_REQUIRE_EQUAL(run(m).code, 1);
  auto f = results();
  auto& flaky = f.results.at("d/flaky#0");
  BOOST_CHECK_EQUAL(flaky.at("status").as_string(), "SUCCEEDED");
  BOOST_CHECK_EQUAL(flaky.at("attempts").to_number<int64_t>(), 4);
  auto& turns = turns_of(f, "d/flaky#0");
  BOOST_REQUIRE_EQUAL(turns.size(), 3u);
  BOOST_CHECK_EQUAL(turns[0].at("attempts").to_number<int64_t>(), 1);
  BOOST_CHECK_EQUAL(turns[1].at("attempts").to_number<int64_t>(), 2);
  BOOST_CHECK_EQUAL(turns[2].at("attempts").to_number<int64_t>(), 1);
  // The retry went on the same conversation, which kept its first turn.
  BOOST_CHECK_EQUAL(text(turns[2], "output"),
                    "echo: bye (turn 3; before: my name is Ada | what is my "
                    "name?)");
  // A conversation Dify does not know: 404, not retried, nothing after.
  auto& lost = f.results.at("d/lost#0");
  BOOST_CHECK_EQUAL(lost.at("status").as_string(), "FAILED");
  BOOST_CHECK_EQUAL(lost.at("attempts").to_number<int64_t>(), 1);
  BOOST_CHECK(starts(text(lost, "error"), "turn 1 of 2: "));
  auto& lost_turns = turns_of(f, "d/lost#0");
  BOOST_REQUIRE_EQUAL(lost_turns.size(), 1u);
  BOOST_CHECK_EQUAL(text(lost_turns[0], "status"), "FAILED");
  BOOST_CHECK(lost_turns[0].at("output").is_null());
  BOOST_CHECK_EQUAL(server.calls("/v1/chat-messages"), 5);
}

BOOST_AUTO_TEST_CASE(ctrl_c_lets_the_turn_finish_and_resume_runs_it_again,
                     *utf::timeout(90)) {
  fake_dify_process server;
  auto m
    = manifest(target(server, "streaming", "dify-chat"),
               "[" + three_turns("slow", R"({"_latency_ms": 3000})") + "]");
  out = dir.file("ctrl-c.jsonl");
  {
    child_process child{
      {troupe_binary(), "run", m, "--out", out, "--progress", "never"},
      dir.path(),
      {"TEST_DIFY_KEY=" + key}};
    // The second turn is under way: its stream opened.
    BOOST_REQUIRE(
      eventually([&] { return server.calls("/v1/chat-messages") == 2; }, 20s));
    child.signal(SIGINT);
    BOOST_CHECK_EQUAL(child.wait(30s).code, 130);
  }
  auto f = results();
  auto& r = f.results.at("d/slow#0");
  BOOST_CHECK_EQUAL(r.at("status").as_string(), "CANCELLED");
  BOOST_CHECK(r.at("output").is_null());
  // The turn in flight finished, unstopped; the third was never sent.
  auto& turns = turns_of(f, "d/slow#0");
  BOOST_REQUIRE_EQUAL(turns.size(), 2u);
  BOOST_CHECK_EQUAL(text(turns[1], "status"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(text(turns[1], "output"),
                    "echo: what is my name? (turn 2; before: my name is Ada)");
  BOOST_CHECK_EQUAL(server.calls("/v1/chat-messages"), 2);
  BOOST_CHECK(server.stats().at("stops").as_array().empty());
  // --resume runs the conversation again from its first turn.
  child_process resumed{
    {troupe_binary(), "run", m, "--resume", out, "--progress", "never"},
    dir.path(),
    {"TEST_DIFY_KEY=" + key}};
  BOOST_REQUIRE_EQUAL(resumed.wait(60s).code, 0);
  auto g = results();
  BOOST_CHECK_EQUAL(g.status("d/slow#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(turns_of(g, "d/slow#0").size(), 3u);
  BOOST_CHECK_EQUAL(text(turns_of(g, "d/slow#0")[0], "output"),
                    "echo: my name is Ada");
  BOOST_CHECK_EQUAL(server.calls("/v1/chat-messages"), 5);
}

BOOST_AUTO_TEST_SUITE_END()
