// The result sink on the deterministic scheduler: the exact bytes it writes,
// the acknowledgements it sends its writer, the results observer, and what
// it does with results once the file refuses them.

#include "actors/results/result_sink.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/temp_dir.hpp"
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <optional>

using namespace troupe;

namespace {

/// What the actor that feeds the sink got back.
struct writer_log {
  std::vector<uint64_t> acks;
  std::vector<std::string> write_failures;
  std::optional<bool> closed;
};

/// Stands where the supervisor would be: forwards results and the close to
/// the sink, and records the sink's answers.
caf::behavior writer(caf::event_based_actor* self, result_sink_actor sink,
                     std::shared_ptr<writer_log> log) {
  return {
    [=](write_atom, const task_result& r) {
      self->send(sink, write_atom::value, r);
    },
    [=](close_atom, const run_summary& s) {
      self->request(sink, caf::infinite, close_atom::value, s)
        .then([=](bool ok) {
          log->closed = ok;
          self->quit();
        });
    },
    [=](written_atom, uint64_t n) { log->acks.push_back(n); },
    [=](write_failed_atom, const std::string& why) {
      log->write_failures.push_back(why);
    },
  };
}

task_result result(const std::string& case_id, task_status status) {
  task_result r;
  r.task_id = "d/" + case_id + "#0";
  r.dataset = "d";
  r.case_id = case_id;
  r.params_json = "{}";
  r.status = status;
  r.finished_us = 1000;
  return r;
}

std::string line_of(const task_result& r) {
  std::string out;
  append_result_line(out, r, 0);
  return out;
}

run_summary summary_of(uint64_t total) {
  run_summary s;
  s.total = total;
  return s;
}

struct result_sink_fixture : test::deterministic_fixture {
  test::temp_dir dir;
  std::shared_ptr<writer_log> log = std::make_shared<writer_log>();

  result_sink_config config_for(const std::string& path) {
    result_sink_config sink_cfg;
    sink_cfg.fd
      = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    BOOST_REQUIRE(sink_cfg.fd >= 0);
    sink_cfg.path = path;
    sink_cfg.header_line = "{\"type\":\"header\"}\n";
    sink_cfg.rescue_dir = dir.path();
    return sink_cfg;
  }

  /// A sink on /dev/full, which refuses every write with ENOSPC. No
  /// header: the runtime writes it before the sink starts.
  result_sink_config full_disk_config() {
    result_sink_config sink_cfg;
    sink_cfg.fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
    BOOST_REQUIRE(sink_cfg.fd >= 0);
    sink_cfg.path = "/dev/full";
    sink_cfg.rescue_dir = dir.path();
    return sink_cfg;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(result_sink, result_sink_fixture)

BOOST_AUTO_TEST_CASE(the_header_is_written_as_soon_as_the_sink_starts) {
  auto path = dir.file("r.jsonl");
  auto sink = spawn_result_sink(sys, config_for(path));
  run();
  BOOST_CHECK_EQUAL(test::read_file(path), "{\"type\":\"header\"}\n");
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(results_then_the_summary_are_written_in_arrival_order) {
  auto path = dir.file("r.jsonl");
  auto sink = spawn_result_sink(sys, config_for(path));
  auto w = sys.spawn(writer, sink, log);
  auto a = result("a", task_status::succeeded);
  a.output_json = "\"x\"";
  auto b = result("b", task_status::failed);
  b.error = "stub failure";
  b.error_code = "stub_failure";
  caf::anon_send(w, write_atom::value, a);
  caf::anon_send(w, write_atom::value, b);
  caf::anon_send(w, close_atom::value, summary_of(2));
  run();
  BOOST_REQUIRE(log->closed.has_value());
  BOOST_CHECK_EQUAL(*log->closed, true);
  BOOST_CHECK_EQUAL(test::read_file(path),
                    "{\"type\":\"header\"}\n" + line_of(a) + line_of(b)
                      + encode_summary(summary_of(2), 0, true) + "\n");
  BOOST_CHECK(log->write_failures.empty());
}

BOOST_AUTO_TEST_CASE(results_of_one_burst_are_acknowledged_in_one_flush) {
  auto path = dir.file("r.jsonl");
  auto sink = spawn_result_sink(sys, config_for(path));
  auto w = sys.spawn(writer, sink, log);
  for (auto id : {"a", "b", "c"})
    caf::anon_send(w, write_atom::value, result(id, task_status::succeeded));
  run();
  BOOST_TEST(log->acks == (std::vector<uint64_t>{3}));
  caf::anon_send(w, write_atom::value, result("d", task_status::succeeded));
  run();
  BOOST_TEST(log->acks == (std::vector<uint64_t>{3, 1}));
  caf::anon_send(w, close_atom::value, summary_of(4));
  run();
}

// Which outputs the result cache stores is runtime's choice (cached_source
// suite); the sink shows it every result, in arrival order.
BOOST_AUTO_TEST_CASE(the_observer_sees_every_result_in_arrival_order) {
  auto path = dir.file("r.jsonl");
  auto seen = std::make_shared<std::vector<std::string>>();
  auto sink_cfg = config_for(path);
  sink_cfg.observer = [=](const task_result& r) { seen->push_back(r.task_id); };
  auto sink = spawn_result_sink(sys, std::move(sink_cfg));
  auto w = sys.spawn(writer, sink, log);
  auto cached = result("cached", task_status::succeeded);
  cached.cached = true;
  for (auto& r : {result("ok", task_status::succeeded), cached,
                  result("failed", task_status::failed)})
    caf::anon_send(w, write_atom::value, r);
  caf::anon_send(w, close_atom::value, summary_of(3));
  run();
  BOOST_TEST(
    *seen == (std::vector<std::string>{"d/ok#0", "d/cached#0", "d/failed#0"}));
}

BOOST_AUTO_TEST_CASE(a_refused_write_tells_the_writer_and_close_answers_false) {
  auto sink = spawn_result_sink(sys, full_disk_config());
  auto w = sys.spawn(writer, sink, log);
  caf::anon_send(w, write_atom::value, result("a", task_status::succeeded));
  run();
  BOOST_TEST(
    log->write_failures
    == (std::vector<std::string>{"/dev/full: No space left on device"}));
  BOOST_TEST(log->acks == (std::vector<uint64_t>{1}));
  caf::anon_send(w, close_atom::value, summary_of(1));
  run();
  BOOST_REQUIRE(log->closed.has_value());
  BOOST_CHECK_EQUAL(*log->closed, false);
  BOOST_CHECK_EQUAL(log->write_failures.size(), 1u);
}

BOOST_AUTO_TEST_CASE(refused_lines_go_to_a_rescue_file_without_cancelled_ones) {
  auto sink = spawn_result_sink(sys, full_disk_config());
  auto w = sys.spawn(writer, sink, log);
  auto a = result("a", task_status::succeeded);
  caf::anon_send(w, write_atom::value, a);
  run();
  // Once the file failed, a CANCELLED result carries no work: dropped.
  caf::anon_send(w, write_atom::value, result("c", task_status::cancelled));
  auto b = result("b", task_status::failed);
  caf::anon_send(w, write_atom::value, b);
  caf::anon_send(w, close_atom::value, summary_of(3));
  run();
  auto rescue
    = dir.file("troupe-rescue-" + std::to_string(::getpid()) + ".jsonl");
  BOOST_CHECK_EQUAL(test::read_file(rescue),
                    line_of(a) + line_of(b)
                      + encode_summary(summary_of(3), 0, true) + "\n");
}

BOOST_AUTO_TEST_CASE(write_all_writes_every_byte_and_fails_on_a_bad_fd) {
  auto path = dir.file("w.txt");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  BOOST_REQUIRE(fd >= 0);
  std::string big(1 << 20, 'x');
  BOOST_CHECK(write_all(fd, big.data(), big.size()));
  ::close(fd);
  BOOST_CHECK(test::read_file(path) == big);
  BOOST_CHECK(!write_all(-1, "x", 1));
}

BOOST_AUTO_TEST_SUITE_END()
