// The result cache in front of a run: hits come out answered, misses pass
// on, and only the SUCCEEDED outputs of tasks passed on are stored.

#include "runtime/result_cache.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"

#include <memory>
#include <vector>

using namespace troupe;
using cache_type = troupe::runtime::result_cache;

namespace {

/// A task source over a vector.
class vector_source : public task_source {
public:
  explicit vector_source(std::vector<task_spec> tasks)
    : tasks_(std::move(tasks)) {}

  bool next(task_spec& out) override {
    if (pos_ >= tasks_.size())
      return false;
    out = tasks_[pos_++];
    return true;
  }

private:
  std::vector<task_spec> tasks_;
  size_t pos_ = 0;
};

task_spec task_of(const std::string& case_id, uint64_t seq) {
  task_spec t;
  t.id = "d/" + case_id + "#0";
  t.dataset = "d";
  t.case_id = case_id;
  t.inputs_json = R"({"case":")" + case_id + R"("})";
  t.params_json = "{}";
  t.seq = seq;
  return t;
}

struct cached_source_fixture {
  test::temp_dir dir;
  config::target_config target;
  std::shared_ptr<const cache_type> cache;

  cached_source_fixture() {
    target.type = config::target_type::dify_workflow;
    target.base_url = "http://127.0.0.1:1/v1";
    auto opened = cache_type::open(dir.file("cache"));
    BOOST_REQUIRE(std::holds_alternative<cache_type>(opened));
    cache = std::make_shared<const cache_type>(
      std::move(std::get<cache_type>(opened)));
  }

  std::shared_ptr<runtime::cached_source> over(std::vector<task_spec> tasks) {
    return std::make_shared<runtime::cached_source>(
      std::make_shared<vector_source>(std::move(tasks)), cache, target);
  }

  /// Stores `output` for `task` as an earlier run would have.
  void remember(const task_spec& task, const std::string& output) {
    BOOST_REQUIRE(cache->store(cache_type::key(target, task), task.id, output));
  }
};

task_result result_of(const task_spec& t, task_status status) {
  auto r = result_for(t);
  r.status = status;
  r.output_json = R"({"answer":")" + t.case_id + R"("})";
  return r;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cached_source, cached_source_fixture)

BOOST_AUTO_TEST_CASE(a_hit_comes_out_answered_and_a_miss_is_passed_on) {
  auto hit = task_of("hit", 0);
  hit.expect.contains = {"x"};
  remember(hit, R"({"answer":"old"})");
  auto source = over({hit, task_of("miss", 1)});
  source_item item;
  BOOST_REQUIRE(source->next_item(item));
  BOOST_REQUIRE(item.answer);
  BOOST_CHECK_EQUAL(item.task.id, "d/hit#0");
  BOOST_CHECK_EQUAL(item.task.expect.contains.size(), 1u);
  BOOST_CHECK_EQUAL(item.answer->task_id, "d/hit#0");
  BOOST_CHECK_EQUAL(item.answer->status, task_status::succeeded);
  BOOST_CHECK_EQUAL(item.answer->output_json, R"({"answer":"old"})");
  BOOST_CHECK(item.answer->cached);
  BOOST_CHECK(item.answer->attempt_log.empty());
  BOOST_REQUIRE(source->next_item(item));
  BOOST_CHECK(!item.answer);
  BOOST_CHECK_EQUAL(item.task.id, "d/miss#0");
  BOOST_CHECK(!source->next_item(item));
}

BOOST_AUTO_TEST_CASE(only_succeeded_outputs_of_tasks_passed_on_are_stored) {
  auto keyed = task_of("keyed", 0);
  auto cached = task_of("cached", 1);
  auto failed = task_of("failed", 2);
  auto unknown = task_of("unknown", 3); // never came through the source
  remember(cached, R"({"answer":"old"})");
  auto source = over({keyed, cached, failed});
  source_item item;
  while (source->next_item(item))
    continue;
  auto cached_result = result_of(cached, task_status::succeeded);
  cached_result.cached = true;
  for (auto& r : {result_of(keyed, task_status::succeeded), cached_result,
                  result_of(failed, task_status::failed),
                  result_of(unknown, task_status::succeeded)})
    source->observe(r);
  BOOST_CHECK_EQUAL(*cache->lookup(cache_type::key(target, keyed)),
                    R"({"answer":"keyed"})");
  BOOST_CHECK_EQUAL(*cache->lookup(cache_type::key(target, cached)),
                    R"({"answer":"old"})");
  BOOST_CHECK(!cache->lookup(cache_type::key(target, failed)));
  BOOST_CHECK(!cache->lookup(cache_type::key(target, unknown)));
}

BOOST_AUTO_TEST_SUITE_END()
