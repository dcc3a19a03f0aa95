// The task stream: datasets crossed with parameter sets, shared by weight.

#include "runtime/dataset_source.hpp"

#include "config/manifest.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

#include <map>

using namespace troupe;

namespace {

config::manifest load(test::temp_dir& dir, const std::string& text) {
  auto r = config::load_manifest(dir.write("m.json", text));
  if (auto* err = std::get_if<config::config_error>(&r))
    BOOST_FAIL(err->message);
  return std::get<config::manifest>(std::move(r));
}

std::string cases(const std::string& prefix, int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i)
    out += std::string{i ? "," : ""} + R"({"id":")" + prefix + std::to_string(i)
           + "\"}";
  return out + "]";
}

} // namespace

BOOST_AUTO_TEST_SUITE(dataset_source)

BOOST_AUTO_TEST_CASE(datasets_share_the_dispatch_by_weight) {
  test::temp_dir dir;
  auto m = load(dir, R"({"target": {"type": "stub"}, "datasets": [
    {"name": "a", "weight": 2, "cases": )"
                       + cases("x", 40) + R"(},
    {"name": "b", "cases": )"
                       + cases("y", 10) + R"(}]})");
  auto src = runtime::make_dataset_source(m);
  std::string order;
  task_spec t;
  while (src->next(t))
    order += t.dataset;
  // Two of a for each b while both have work, then a alone.
  BOOST_CHECK_EQUAL(order.substr(0, 9), "abaabaaba");
  BOOST_CHECK_EQUAL(std::count(order.begin(), order.begin() + 30, 'a'), 20);
  BOOST_CHECK_EQUAL(order.size(), 50u);
  BOOST_CHECK_EQUAL(order.substr(30), std::string(20, 'a'));
}

BOOST_AUTO_TEST_CASE(each_case_runs_once_per_parameter_set_with_merged_inputs) {
  test::temp_dir dir;
  auto m = load(dir, R"({"target": {"type": "stub"},
    "datasets": [{"name": "d", "cases": [
      {"id": "c", "inputs": {"text": "hi", "tone": "case wins"}}]}],
    "parameters": [{"tone": "dry"}, {"lang": "fr"}]})");
  auto src = runtime::make_dataset_source(m);
  task_spec t;
  BOOST_REQUIRE(src->next(t));
  BOOST_CHECK_EQUAL(t.id, "d/c#0");
  BOOST_CHECK_EQUAL(t.inputs_json, R"({"tone":"case wins","text":"hi"})");
  BOOST_REQUIRE(src->next(t));
  BOOST_CHECK_EQUAL(t.id, "d/c#1");
  BOOST_CHECK_EQUAL(t.params_json, R"({"lang":"fr"})");
  BOOST_CHECK_EQUAL(t.inputs_json,
                    R"({"lang":"fr","text":"hi","tone":"case wins"})");
  BOOST_CHECK_EQUAL(t.seq, 1u);
  BOOST_CHECK(!src->next(t));
}

BOOST_AUTO_TEST_CASE(a_conversation_task_carries_its_turns) {
  test::temp_dir dir;
  auto m = load(dir, R"({"target": {"type": "stub"},
    "parameters": [{"tone": "dry"}],
    "datasets": [{"name": "d", "expect": {"not_contains": "oops"},
      "cases": [{"id": "c", "inputs": {"x": 1}, "turns": [
        {"query": "hi"},
        {"query": "more", "inputs": {"x": 2, "y": 3},
         "expect": {"contains": "m"}}]}]}]})");
  auto src = runtime::make_dataset_source(m);
  task_spec t;
  BOOST_REQUIRE(src->next(t));
  BOOST_REQUIRE_EQUAL(t.turns.size(), 2u);
  // The first turn's query goes first; the task's output has no checks of
  // its own, every turn has the dataset's.
  BOOST_CHECK_EQUAL(t.query, "hi");
  BOOST_CHECK(t.expect.empty());
  BOOST_CHECK_EQUAL(t.turns[0].expect.not_contains.size(), 1u);
  BOOST_CHECK(t.turns[0].expect.contains.empty());
  BOOST_CHECK_EQUAL(t.turns[1].expect.not_contains.size(), 1u);
  BOOST_CHECK_EQUAL(t.turns[1].expect.contains.size(), 1u);
  // Once a turn has inputs, every turn gets its whole set.
  BOOST_CHECK_EQUAL(t.inputs_json, R"({"tone":"dry","x":1})");
  BOOST_CHECK_EQUAL(t.turns[0].inputs_json, R"({"tone":"dry","x":1})");
  BOOST_CHECK_EQUAL(t.turns[1].inputs_json, R"({"tone":"dry","x":2,"y":3})");
  BOOST_CHECK(!src->next(t));
}

BOOST_AUTO_TEST_SUITE_END()
