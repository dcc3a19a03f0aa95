// The result cache on disk: what its key depends on, the entry it writes,
// and that a damaged entry is a miss, not an error.

#include "runtime/result_cache.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

#include <filesystem>

using namespace troupe;
// Not `using namespace troupe::runtime`: the suite's name is the class's.
using cache_type = troupe::runtime::result_cache;

namespace {

struct result_cache_fixture {
  test::temp_dir dir;
  config::target_config target;
  task_spec task;

  result_cache_fixture() {
    target.type = config::target_type::dify_workflow;
    target.base_url = "http://127.0.0.1:1/v1";
    task.id = "d/c#0";
    task.dataset = "d";
    task.case_id = "c";
    task.inputs_json = R"({"text":"hi"})";
    task.params_json = R"({"style":"short"})";
  }

  cache_type open() {
    auto c = cache_type::open(dir.file("cache"));
    BOOST_REQUIRE(std::holds_alternative<cache_type>(c));
    return std::get<cache_type>(c);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(result_cache, result_cache_fixture)

BOOST_AUTO_TEST_CASE(the_key_ignores_the_task_id_and_run_settings) {
  auto k = cache_type::key(target, task);
  BOOST_CHECK_EQUAL(k.size(), 64u);
  BOOST_CHECK_EQUAL(k.find_first_not_of("0123456789abcdef"), std::string::npos);
  auto other = task;
  other.id = "e/z#3";
  other.dataset = "e";
  other.case_id = "z";
  other.seq = 99;
  BOOST_CHECK_EQUAL(cache_type::key(target, other), k);
}

BOOST_AUTO_TEST_CASE(the_key_changes_with_what_shapes_the_answer) {
  auto k = cache_type::key(target, task);
  auto changed = [&](auto edit) {
    auto t = target;
    auto x = task;
    edit(t, x);
    return cache_type::key(t, x) != k;
  };
  BOOST_CHECK(changed([](auto&, auto& x) { x.inputs_json = "{}"; }));
  BOOST_CHECK(changed([](auto&, auto& x) { x.params_json = "{}"; }));
  BOOST_CHECK(changed([](auto&, auto& x) { x.query = "q"; }));
  BOOST_CHECK(changed([](auto&, auto& x) { x.conversation_id = "k"; }));
  BOOST_CHECK(changed(
    [](auto& t, auto&) { t.type = config::target_type::dify_completion; }));
  BOOST_CHECK(changed([](auto& t, auto&) { t.base_url += "/x"; }));
  BOOST_CHECK(changed([](auto& t, auto&) { t.streaming = true; }));
  BOOST_CHECK(changed([](auto& t, auto&) { t.user = "other"; }));
  BOOST_CHECK(changed([](auto& t, auto&) { t.output_pointer = "/a"; }));
  BOOST_CHECK(changed([](auto& t, auto&) { t.headers.push_back({"X", "1"}); }));
}

BOOST_AUTO_TEST_CASE(a_stored_output_is_found_again) {
  auto cache = open();
  auto k = cache_type::key(target, task);
  BOOST_CHECK(!cache.lookup(k));
  BOOST_REQUIRE(cache.store(k, task.id, R"({"answer": "42"})"));
  auto hit = cache.lookup(k);
  BOOST_REQUIRE(hit);
  BOOST_CHECK_EQUAL(*hit, R"({"answer":"42"})");
  BOOST_CHECK_EQUAL(
    test::read_file(cache.dir() + "/" + k.substr(0, 2) + "/" + k + ".json"),
    "{\"key\":\"" + k + R"(","task_id":"d/c#0","output":{"answer": "42"}})"
      + "\n");
}

BOOST_AUTO_TEST_CASE(an_empty_output_is_stored_as_null_and_read_as_empty) {
  auto cache = open();
  auto k = cache_type::key(target, task);
  BOOST_REQUIRE(cache.store(k, task.id, ""));
  auto hit = cache.lookup(k);
  BOOST_REQUIRE(hit);
  BOOST_CHECK_EQUAL(*hit, "");
}

BOOST_AUTO_TEST_CASE(a_damaged_entry_is_a_miss) {
  auto cache = open();
  auto k = cache_type::key(target, task);
  std::filesystem::create_directories(cache.dir() + "/" + k.substr(0, 2));
  dir.write("cache/" + k.substr(0, 2) + "/" + k + ".json", "{\"output\":");
  BOOST_CHECK(!cache.lookup(k));
  dir.write("cache/" + k.substr(0, 2) + "/" + k + ".json", "{\"key\":\"x\"}");
  BOOST_CHECK(!cache.lookup(k));
  dir.write("cache/" + k.substr(0, 2) + "/" + k + ".json", "[1]");
  BOOST_CHECK(!cache.lookup(k));
}

BOOST_AUTO_TEST_CASE(storing_leaves_no_temporary_file) {
  auto cache = open();
  auto k = cache_type::key(target, task);
  BOOST_REQUIRE(cache.store(k, task.id, "1"));
  BOOST_REQUIRE(cache.store(k, task.id, "2"));
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(cache.dir() + "/"
                                                     + k.substr(0, 2))) {
    BOOST_CHECK_EQUAL(e.path().filename().string(), k + ".json");
    ++files;
  }
  BOOST_CHECK_EQUAL(files, 1u);
  BOOST_CHECK_EQUAL(*cache.lookup(k), "2");
}

BOOST_AUTO_TEST_CASE(a_file_in_the_way_cannot_be_the_cache) {
  auto path = dir.write("plain", "x");
  auto c = cache_type::open(path);
  BOOST_REQUIRE(std::holds_alternative<config::config_error>(c));
  BOOST_CHECK_EQUAL(std::get<config::config_error>(c).message.rfind(
                      path + ": cannot use as the result cache (", 0),
                    0u);
}

BOOST_AUTO_TEST_SUITE_END()
