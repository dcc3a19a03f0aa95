// The library API (runtime/troupe.hpp): custom function and actor executors
// with exact statuses, cancel from another thread, callbacks in order and
// once per task on one thread, runs without a results file, and manifest
// errors identical to the command line's.

#include "runtime/troupe.hpp"
#include "runtime/troupe_caf.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/run_counts.hpp"
#include "tests/support/temp_dir.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace utf = boost::unit_test;

namespace {

// A manifest of `n` cases c0..c(n-1) in dataset "d" for `target`.
std::string manifest_text(int n, const std::string& target = "custom",
                          const std::string& policies = "") {
  std::string cases;
  for (int i = 0; i < n; ++i)
    cases += (i ? "," : "") + std::string{R"({"id": "c)"} + std::to_string(i)
             + R"(", "inputs": {"q": "question )" + std::to_string(i) + "\"}}";
  return R"({"name": "lib", "target": {"type": ")" + target
         + R"("}, "datasets": [{"name": "d", "cases": [)" + cases + "]}]"
         + policies + "}";
}

const std::string fast_retries
  = R"(, "retry_policy": {"max_attempts": 3, "backoff_seconds": 0.001,
        "backoff_multiplier": 1.0})";

troupe::attempt_reply reply_with(troupe::outcome o,
                                 const std::string& output = {}) {
  troupe::attempt_reply r;
  r.result = o;
  r.output_json = output;
  if (o != troupe::outcome::success)
    r.error = "scripted " + troupe::to_string(o);
  return r;
}

// Lets a test hold every call of a function until it says go.
struct gate {
  std::mutex mtx;
  std::condition_variable cv;
  int entered = 0;
  bool open = false;

  void pass() {
    std::unique_lock<std::mutex> lock{mtx};
    ++entered;
    cv.notify_all();
    cv.wait(lock, [this] { return open; });
  }
  void wait_for_entered(int n) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return entered >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> guard{mtx};
    open = true;
    cv.notify_all();
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(library_api)

BOOST_AUTO_TEST_CASE(a_function_scripted_like_the_stub_gives_exact_statuses,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(manifest_text(3, "custom", fast_retries),
                                      dir.path());
  troupe::run_options opts;
  opts.results_file = dir.file("r.jsonl");
  // c0: fails twice, then succeeds; c1: rejected; c2: succeeds at once.
  opts.execute = [](const troupe::attempt_request& req, troupe::cancel_token) {
    if (req.task.case_id == "c0")
      return req.attempt <= 2 ? reply_with(troupe::outcome::failure)
                              : reply_with(troupe::outcome::success, "\"ok\"");
    if (req.task.case_id == "c1")
      return reply_with(troupe::outcome::rejected);
    return reply_with(troupe::outcome::success, R"({"a":1})");
  };
  auto summary = troupe::run(m, opts);
  BOOST_CHECK_EQUAL(summary.total, 3u);
  BOOST_CHECK_EQUAL(count_of(summary, troupe::task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, troupe::task_status::failed), 1u);
  BOOST_CHECK_EQUAL(summary.attempts, 5u);
  auto f = read_results(opts.results_file);
  BOOST_CHECK_EQUAL(f.status("d/c0#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("d/c0#0"), 3);
  BOOST_CHECK_EQUAL(f.status("d/c1#0"), "FAILED");
  BOOST_CHECK_EQUAL(f.attempts("d/c1#0"), 1);
  BOOST_CHECK_EQUAL(f.status("d/c2#0"), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.attempts("d/c2#0"), 1);
  auto& log = f.results.at("d/c0#0").at("attempt_log").as_array();
  BOOST_REQUIRE_EQUAL(log.size(), 3u);
  BOOST_CHECK_EQUAL(log[0].at("status").as_string(), "FAILED");
  BOOST_CHECK_EQUAL(log[2].at("status").as_string(), "SUCCEEDED");
  BOOST_CHECK_EQUAL(f.header().at("target").as_string(), "custom");
}

BOOST_AUTO_TEST_CASE(a_function_that_throws_is_an_error_with_its_text,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(
    manifest_text(1, "stub", R"(, "retry_policy": {"max_attempts": 1})"),
    dir.path());
  troupe::run_options opts;
  std::vector<troupe::task_result> got;
  opts.on.on_result = [&](const troupe::task_result& r) { got.push_back(r); };
  opts.execute = [](const troupe::attempt_request&,
                    troupe::cancel_token) -> troupe::attempt_reply {
    throw std::runtime_error{"no model loaded"};
  };
  auto summary = troupe::run(m, opts);
  BOOST_CHECK_EQUAL(count_of(summary, troupe::task_status::error), 1u);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK_EQUAL(got[0].error, "no model loaded");
}

BOOST_AUTO_TEST_CASE(a_blocking_function_times_out_and_sees_aborted,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(
    manifest_text(1, "custom",
                  R"(, "execution_policy": {"timeout_seconds": 0.05},
                     "retry_policy": {"max_attempts": 1})"),
    dir.path());
  std::atomic<bool> saw_abort{false};
  troupe::run_options opts;
  opts.results_file = dir.file("r.jsonl");
  opts.execute = [&](const troupe::attempt_request&, troupe::cancel_token t) {
    // Blocks until the run gives up on the attempt.
    while (!t.aborted())
      std::this_thread::sleep_for(1ms);
    saw_abort = true;
    return reply_with(troupe::outcome::success);
  };
  auto summary = troupe::run(m, opts);
  BOOST_CHECK_EQUAL(count_of(summary, troupe::task_status::timeout), 1u);
  BOOST_CHECK(saw_abort.load()); // the pool is joined before run() returns
  auto f = read_results(opts.results_file);
  BOOST_CHECK_EQUAL(f.status("d/c0#0"), "TIMEOUT");
  BOOST_CHECK_EQUAL(f.attempts("d/c0#0"), 1);
}

BOOST_AUTO_TEST_CASE(cancel_from_another_thread_ends_unstarted_tasks_cancelled,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(
    manifest_text(10, "custom", R"(, "execution_policy": {"concurrency": 2})"),
    dir.path());
  gate g;
  troupe::run_options opts;
  opts.results_file = dir.file("r.jsonl");
  opts.execute = [&](const troupe::attempt_request&, troupe::cancel_token) {
    g.pass();
    return reply_with(troupe::outcome::success, "\"done\"");
  };
  auto handle = troupe::start(m, opts);
  g.wait_for_entered(2);
  std::thread canceller{[&] { handle.cancel("stopped by the test"); }};
  canceller.join();
  // The supervisor has taken the cancel before any attempt ends.
  while (!handle.status().stopping)
    std::this_thread::sleep_for(1ms);
  g.release();
  auto summary = handle.wait();
  BOOST_CHECK(summary.end == troupe::run_end::cancelled);
  BOOST_CHECK_EQUAL(count_of(summary, troupe::task_status::succeeded), 2u);
  BOOST_CHECK_EQUAL(count_of(summary, troupe::task_status::cancelled), 8u);
  auto f = read_results(opts.results_file);
  BOOST_CHECK_EQUAL(f.results.size(), 10u);
  BOOST_CHECK_EQUAL(f.count("CANCELLED"), 8u);
  for (auto& kv : f.results)
    if (kv.second.at("status").as_string() == "CANCELLED")
      BOOST_CHECK_EQUAL(kv.second.at("error").as_string(),
                        "stopped by the test");
  // Cancel after the end does nothing, any number of times.
  handle.cancel();
  handle.cancel("again");
  BOOST_CHECK(handle.done());
}

BOOST_AUTO_TEST_CASE(cancel_before_the_run_really_started_cancels_it_all,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(
    manifest_text(5, "stub", R"(, "execution_policy": {"concurrency": 2})"),
    dir.path());
  troupe::run_options opts;
  gate g;
  opts.execute = [&](const troupe::attempt_request&, troupe::cancel_token) {
    g.pass();
    return reply_with(troupe::outcome::success);
  };
  auto handle = troupe::start(m, opts);
  handle.cancel("early");
  g.release(); // attempts that started anyway finish
  auto s = handle.wait();
  BOOST_CHECK(s.end == troupe::run_end::cancelled);
  BOOST_CHECK_EQUAL(s.total, 5u);
  // The start goes out before the cancel: at most one attempt per worker
  // (two) got under way, and every other task ended CANCELLED.
  auto succeeded = count_of(s, troupe::task_status::succeeded);
  BOOST_CHECK_LE(succeeded, 2u);
  BOOST_CHECK_EQUAL(count_of(s, troupe::task_status::cancelled),
                    5u - succeeded);
}

BOOST_AUTO_TEST_CASE(callbacks_come_in_order_once_per_task_on_one_thread,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(
    manifest_text(20, "stub",
                  R"(, "execution_policy": {"concurrency": 4},
                     "retry_policy": {"max_attempts": 2, "backoff_seconds": 0.001},
                     "stub": {"task_behaviors": {"d/c3#0": ["failure", "success"],
                                                 "d/c7#0": ["fatal"]}})"),
    dir.path());
  std::vector<std::string> ids;
  std::set<std::thread::id> threads;
  std::vector<troupe::attempt_event> events;
  size_t progress_calls = 0;
  troupe::run_status last_progress;
  troupe::run_options opts;
  opts.results_file = dir.file("r.jsonl");
  opts.on.on_result = [&](const troupe::task_result& r) {
    ids.push_back(r.task_id);
    threads.insert(std::this_thread::get_id());
  };
  opts.on.on_attempt = [&](const troupe::attempt_event& e) {
    events.push_back(e);
    threads.insert(std::this_thread::get_id());
  };
  opts.on.on_progress = [&](const troupe::run_status& s) {
    ++progress_calls;
    last_progress = s;
    threads.insert(std::this_thread::get_id());
  };
  auto summary = troupe::run(m, opts);
  BOOST_CHECK_EQUAL(threads.size(), 1u);
  BOOST_CHECK(*threads.begin() != std::this_thread::get_id());
  auto f = read_results(opts.results_file);
  std::vector<std::string> file_ids;
  for (auto& line : f.lines)
    if (line.at("type").as_string() == "result")
      file_ids.emplace_back(line.at("task_id").as_string());
  BOOST_CHECK_EQUAL_COLLECTIONS(ids.begin(), ids.end(), file_ids.begin(),
                                file_ids.end());
  BOOST_CHECK_EQUAL(std::set<std::string>(ids.begin(), ids.end()).size(), 20u);
  // One event per attempt: 20 tasks, one retried once.
  BOOST_CHECK_EQUAL(events.size(), 21u);
  BOOST_CHECK_EQUAL(summary.attempts, 21u);
  size_t retried = 0;
  for (auto& e : events)
    if (e.will_retry) {
      ++retried;
      BOOST_CHECK_EQUAL(e.task_id, "d/c3#0");
      BOOST_CHECK_EQUAL(e.attempt, 1u);
      BOOST_CHECK(e.status == troupe::task_status::failed);
      BOOST_CHECK_EQUAL(e.retry_delay_us, 1000);
    }
  BOOST_CHECK_EQUAL(retried, 1u);
  // At least the final call, which counts every task.
  BOOST_CHECK_GE(progress_calls, 1u);
  BOOST_CHECK_EQUAL(last_progress.done(), 20u);
}

BOOST_AUTO_TEST_CASE(a_run_without_results_file_reports_through_callbacks,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(manifest_text(5, "stub"), dir.path());
  troupe::run_options opts;
  size_t results = 0;
  opts.on.on_result = [&](const troupe::task_result&) { ++results; };
  auto s = troupe::run(m, opts);
  BOOST_CHECK_EQUAL(results, 5u);
  BOOST_CHECK_EQUAL(count_of(s, troupe::task_status::succeeded), 5u);
  opts.resume = true;
  BOOST_CHECK_THROW(troupe::run(m, opts), troupe::error);
}

BOOST_AUTO_TEST_CASE(a_run_that_cannot_start_throws_the_cli_message,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(manifest_text(1, "stub"), dir.path());
  troupe::run_options opts;
  opts.results_file = dir.write("r.jsonl", "taken\n");
  try {
    troupe::start(m, opts);
    BOOST_FAIL("start() did not throw");
  } catch (const troupe::error& e) {
    BOOST_CHECK_EQUAL(e.exit_code(), 2);
    BOOST_CHECK_EQUAL(std::string{e.what()},
                      opts.results_file
                        + ": results file exists; pass --force to overwrite "
                          "it, or --out to choose another file");
  }
  BOOST_CHECK_EQUAL(read_file(opts.results_file), "taken\n");
}

BOOST_AUTO_TEST_CASE(a_callback_that_throws_cancels_and_wait_rethrows,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(manifest_text(50, "stub"), dir.path());
  troupe::run_options opts;
  opts.on.on_result = [](const troupe::task_result&) {
    throw std::logic_error{"callback broke"};
  };
  auto handle = troupe::start(m, opts);
  BOOST_CHECK_EXCEPTION(handle.wait(), std::logic_error,
                        [](const std::logic_error& e) {
                          return std::string{e.what()} == "callback broke";
                        });
}

BOOST_AUTO_TEST_CASE(a_bad_key_in_code_gives_the_command_lines_error,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto text = R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
    "cases": [{"id": "c1"}]}], "execution_policy": {"concurrency": "eight"}})";
  auto path = dir.write("m.json", text);
  auto cli = run_process({troupe_binary(), "validate", path}, 20s);
  BOOST_CHECK_EQUAL(cli.code, 2);
  std::string api;
  try {
    troupe::manifest_from_json(text, dir.path(), "m.json");
  } catch (const troupe::error& e) {
    api = e.what();
    BOOST_CHECK_EQUAL(e.exit_code(), 2);
  }
  BOOST_CHECK_EQUAL("troupe: " + api + "\n", cli.err);
  BOOST_CHECK_NE(api.find("execution_policy.concurrency"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_command_line_refuses_a_custom_target,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto path = dir.write("m.json", manifest_text(1, "custom"));
  auto r = run_process({troupe_binary(), "run", path, "--out",
                        dir.file("r.jsonl"), "--progress", "never"},
                       20s);
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("target.type is \"custom\""), std::string::npos);
  auto m = troupe::manifest_from_json(manifest_text(1, "custom"), dir.path());
  BOOST_CHECK_THROW(troupe::run(m, {}), troupe::error);
}

namespace {

// Answers every attempt with the task's case id.
troupe::executor_actor::behavior_type echo_executor() {
  return {
    [](troupe::execute_atom, troupe::attempt_request& req) {
      return reply_with(troupe::outcome::success,
                        "\"" + req.task.case_id + "\"");
    },
    [](troupe::abort_atom, uint64_t) {},
    [](troupe::cancel_atom, uint64_t) {},
  };
}

} // namespace

BOOST_AUTO_TEST_CASE(a_caf_actor_executor_comes_through_the_factory,
                     *utf::timeout(30)) {
  temp_dir dir;
  auto m = troupe::manifest_from_json(
    R"({"target": {"type": "custom", "name": "echo"},
        "datasets": [{"name": "d", "cases": [{"id": "a"}, {"id": "b"}]}]})",
    dir.path());
  troupe::run_options opts;
  opts.results_file = dir.file("r.jsonl");
  int made = 0;
  troupe::use_actor_executor(opts, [&](caf::actor_system& sys) {
    ++made;
    return sys.spawn(echo_executor);
  });
  auto s = troupe::run(m, opts);
  BOOST_CHECK_EQUAL(made, 1);
  BOOST_CHECK_EQUAL(count_of(s, troupe::task_status::succeeded), 2u);
  auto f = read_results(opts.results_file);
  BOOST_CHECK_EQUAL(f.results.at("d/a#0").at("output").as_string(), "a");
  BOOST_CHECK_EQUAL(f.header().at("executor").as_string(), "echo");
}

BOOST_AUTO_TEST_SUITE_END()
