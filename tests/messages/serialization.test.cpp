// Every message type survives CAF's binary serializer, since workers will
// live on other machines.

#include "config/stub_behavior.hpp"
#include "messages/type_ids.hpp"
#include "runtime/system.hpp"

#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <caf/message.hpp>

#include "tests/support/printing.hpp"

using namespace troupe;

namespace {

struct serialization_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;

  static caf::actor_system_config& prepare(caf::actor_system_config& c) {
    runtime::register_message_types(c);
    c.set("scheduler.max-threads", 1);
    return c;
  }

  serialization_fixture() : sys(prepare(cfg)) {}

  template <class T>
  T round_trip(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    auto err = sink(x);
    BOOST_REQUIRE(!err);
    BOOST_REQUIRE(!buf.empty());
    T y;
    caf::binary_deserializer source{sys, buf};
    err = source(y);
    BOOST_REQUIRE(!err);
    // Both sides render alike, field by field.
    BOOST_CHECK_EQUAL(caf::deep_to_string(x), caf::deep_to_string(y));
    return y;
  }
};

task_spec sample_task() {
  task_spec t;
  t.id = "smoke/c1#1";
  t.dataset = "smoke";
  t.case_id = "c1";
  t.param_index = 1;
  t.params_json = R"({"style":"long"})";
  t.inputs_json = R"({"text":"h\u00e9llo","style":"long"})";
  t.query = "what?";
  t.conversation_id = "conv-1";
  t.seq = 41;
  turn_spec turn;
  turn.query = "and then?";
  turn.inputs_json = R"({"x":2})";
  turn.expect.contains = {"then"};
  t.turns = {turn, turn};
  return t;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(serialization, serialization_fixture)

BOOST_AUTO_TEST_CASE(task_spec_round_trips) {
  auto t = round_trip(sample_task());
  BOOST_CHECK_EQUAL(t.id, "smoke/c1#1");
  BOOST_CHECK_EQUAL(t.param_index, 1u);
  BOOST_CHECK_EQUAL(t.inputs_json, sample_task().inputs_json);
  BOOST_CHECK_EQUAL(t.conversation_id, "conv-1");
  BOOST_CHECK_EQUAL(t.seq, 41u);
  BOOST_REQUIRE_EQUAL(t.turns.size(), 2u);
  BOOST_CHECK_EQUAL(t.turns[1].inputs_json, R"({"x":2})");
  BOOST_REQUIRE_EQUAL(t.turns[1].expect.contains.size(), 1u);
  BOOST_CHECK_EQUAL(t.turns[1].expect.contains[0], "then");
}

BOOST_AUTO_TEST_CASE(task_result_and_attempt_record_round_trip) {
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = "{}";
  r.status = task_status::timeout;
  r.attempt_log.push_back(
    {task_status::running, 5, 10, "node h:1 lost", 0, true, "h:1"});
  r.attempt_log.push_back(
    {task_status::timeout, 2000, 1000, "late", 504, false, ""});
  r.started_us = 5;
  r.finished_us = 3000;
  r.latency_us = 1000;
  r.output_json = R"({"a":[1,2]})";
  r.error = "late";
  r.error_code = "timeout";
  r.http_status = 504;
  r.tokens = 99;
  r.first_event_us = 120;
  r.seq = 7;
  turn_result turn;
  turn.query = "hi";
  turn.status = task_status::succeeded;
  turn.attempts = 2;
  turn.latency_us = 400;
  turn.output_json = R"("hello")";
  turn.tokens = 12;
  turn.conversation_id = "conv-1";
  turn.assertions = {{"contains", true, "found"}};
  r.turns = {turn};
  auto y = round_trip(r);
  BOOST_REQUIRE_EQUAL(y.turns.size(), 1u);
  BOOST_CHECK_EQUAL(y.turns[0].output_json, R"("hello")");
  BOOST_CHECK_EQUAL(y.turns[0].attempts, 2u);
  BOOST_CHECK_EQUAL(y.turns[0].assertions.size(), 1u);
  BOOST_CHECK_EQUAL(y.status, task_status::timeout);
  BOOST_REQUIRE_EQUAL(y.attempt_log.size(), 2u);
  BOOST_CHECK_EQUAL(y.attempt_log[1].http_status, 504);
  BOOST_CHECK_EQUAL(y.attempt_log[1].error, "late");
  BOOST_CHECK_EQUAL(y.first_event_us, 120);
  BOOST_CHECK_EQUAL(y.tokens, 99);
  auto rec = round_trip(r.attempt_log[0]);
  BOOST_CHECK_EQUAL(rec.status, task_status::running);
  BOOST_CHECK_EQUAL(rec.started_us, 5);
  BOOST_CHECK(rec.lost);
  BOOST_CHECK_EQUAL(rec.node, "h:1");
}

BOOST_AUTO_TEST_CASE(attempt_request_and_reply_round_trip) {
  attempt_request req{(uint64_t{3} << 40) | 9, 2, sample_task()};
  auto y = round_trip(req);
  BOOST_CHECK_EQUAL(y.request_id, req.request_id);
  BOOST_CHECK_EQUAL(y.attempt, 2u);
  BOOST_CHECK_EQUAL(y.task.query, "what?");
  attempt_reply rep;
  rep.result = outcome::throttled;
  rep.http_status = 429;
  rep.error = "slow down";
  rep.error_code = "http_429";
  rep.output_json = "\"text\"";
  rep.tokens = 3;
  rep.first_event_us = 4;
  rep.retry_after_us = 3'000'000;
  auto z = round_trip(rep);
  BOOST_CHECK_EQUAL(z.result, outcome::throttled);
  BOOST_CHECK_EQUAL(z.retry_after_us, 3'000'000);
  BOOST_CHECK_EQUAL(z.output_json, "\"text\"");
}

BOOST_AUTO_TEST_CASE(http_results_round_trip) {
  http_result x{7, {}};
  x.outcome.status = 429;
  x.outcome.body = R"({"code":"too_many_requests"})";
  x.outcome.retry_after = "3";
  x.outcome.content_type = "application/json";
  x.outcome.transport_error = 28;
  x.outcome.transport_message = "timed out";
  x.outcome.tls_error = true;
  x.outcome.too_large = true;
  auto y = round_trip(x);
  BOOST_CHECK_EQUAL(y.id, 7u);
  BOOST_CHECK_EQUAL(y.outcome.status, 429);
  BOOST_CHECK_EQUAL(y.outcome.retry_after, "3");
  BOOST_CHECK_EQUAL(y.outcome.transport_message, "timed out");
  BOOST_CHECK(y.outcome.tls_error && y.outcome.too_large);
  std::vector<http_result> batch{x, http_result{8, {}}};
  auto ys = round_trip(batch);
  BOOST_REQUIRE_EQUAL(ys.size(), 2u);
  BOOST_CHECK_EQUAL(ys[1].id, 8u);
  BOOST_CHECK_EQUAL(ys[0].outcome.body, x.outcome.body);
}

BOOST_AUTO_TEST_CASE(run_status_and_summary_round_trip) {
  run_status st;
  st.total = 10;
  st.counts[2] = 3;
  st.backoff = 1;
  st.attempts = 12;
  st.throttled = 2;
  st.elapsed_us = 99;
  st.stopping = true;
  auto y = round_trip(st);
  BOOST_CHECK_EQUAL(y.counts[2], 3u);
  BOOST_CHECK(y.stopping);
  run_summary s;
  s.total = 10;
  s.counts[3] = 9;
  s.counts[6] = 1;
  s.attempts = 11;
  s.retries = 1;
  s.tokens = 500;
  s.wall_us = 123456;
  s.p50_us = 1;
  s.p90_us = 2;
  s.p99_us = 3;
  s.max_us = 4;
  s.slowest.push_back({"d/a#0", 4, ""});
  s.failures.push_back({"cancelled", 1, {"d/b#0", -1, "cancelled"}});
  s.end = run_end::cancelled;
  s.reason = "user";
  auto z = round_trip(s);
  BOOST_CHECK_EQUAL(z.end, run_end::cancelled);
  BOOST_CHECK_EQUAL(z.failures.at(0).example.task_id, "d/b#0");
  BOOST_CHECK_EQUAL(z.slowest.at(0).latency_us, 4);
  round_trip(s.slowest[0]);
  round_trip(s.failures[0]);
}

BOOST_AUTO_TEST_CASE(stub_behaviors_round_trip_and_parse) {
  stub_behavior x;
  BOOST_REQUIRE(config::parse_stub_behavior("429:retry-after=3", x));
  BOOST_CHECK(round_trip(x) == x);
  BOOST_CHECK_EQUAL(x.retry_after_us, 3'000'000);
  std::vector<stub_behavior> xs;
  for (auto text : {"success", "failure", "fatal", "timeout", "error", "429",
                    "429:retry-after=1.5", "delay:250ms", "auth"}) {
    stub_behavior y;
    BOOST_REQUIRE_MESSAGE(config::parse_stub_behavior(text, y), text);
    BOOST_CHECK_EQUAL(to_string(y), text);
    xs.push_back(y);
  }
  BOOST_CHECK(round_trip(xs) == xs);
  stub_behavior z;
  BOOST_CHECK(!config::parse_stub_behavior("delay:250", z));
  BOOST_CHECK(!config::parse_stub_behavior("sometimes", z));
  BOOST_CHECK(!config::parse_stub_behavior("429:retry-after=-1", z));
}

BOOST_AUTO_TEST_CASE(messages_with_atoms_round_trip_as_messages) {
  auto msg = caf::make_message(run_atom::value, sample_task());
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  BOOST_REQUIRE(!sink(msg));
  caf::message copy;
  caf::binary_deserializer source{sys, buf};
  BOOST_REQUIRE(!source(copy));
  BOOST_REQUIRE((copy.match_elements<run_atom, task_spec>()));
  BOOST_CHECK_EQUAL(copy.get_as<task_spec>(1).id, "smoke/c1#1");
}

// Node batches cross the network in messages/wire.hpp's encoding, which
// walks the same field lists: every field, set to a value that is not its
// default, must come back (deep_to_string renders them all, field by field).
BOOST_AUTO_TEST_CASE(node_batches_carry_every_field_in_the_wire_encoding) {
  auto t = sample_task();
  t.expect
    = expectation{{"a", "b"}, {"c"}, {"r+"}, R"({"k":1})", {"/x"}, {"2"}, 1500};
  t.files = {file_input{"doc", 1, "/tmp/a.pdf", "document", "ab12"}};
  std::vector<indexed_task> tasks{{7, t}, {(uint32_t{1} << 31) + 3, {}}};
  auto ys = round_trip(tasks);
  BOOST_REQUIRE_EQUAL(ys.size(), 2u);
  BOOST_CHECK_EQUAL(ys[0].task.expect.max_latency_us, 1500);
  BOOST_CHECK_EQUAL(ys[0].task.files.at(0).index, 1);
  BOOST_CHECK_EQUAL(ys[1].idx, (uint32_t{1} << 31) + 3);
  task_result r;
  r.task_id = "d/c#0";
  r.dataset = "d";
  r.case_id = "c";
  r.params_json = R"({"p":1})";
  r.status = task_status::error;
  r.attempt_log.push_back(
    {task_status::error, -5, 10, "boom", 502, true, "h:1", 7, 8, 9});
  r.started_us = -1;
  r.finished_us = int64_t{1} << 40;
  r.latency_us = 11;
  r.queue_us = 12;
  r.connect_us = 13;
  r.output_json = "\"\\u00e9\"";
  r.error = "boom";
  r.error_code = "http_502";
  r.http_status = 502;
  r.tokens = -7;
  r.first_event_us = 14;
  r.seq = ~uint64_t{0};
  r.dify = dify_info{"t", "w", "c", "m", 0.25, 3, "[]"};
  r.assertions = {{"contains", false, "missing"}};
  r.cached = true;
  r.node = "127.0.0.1:4242";
  turn_result turn;
  turn.query = "q";
  turn.status = task_status::failed;
  turn.attempts = 2;
  turn.latency_us = 15;
  turn.output_json = "{}";
  turn.error = "no";
  turn.tokens = 16;
  turn.conversation_id = "conv";
  turn.message_id = "msg";
  turn.assertions = {{"regex", true, ""}};
  r.turns = {turn};
  std::vector<indexed_result> results{{3, 99, r}, {4, 0, {}}};
  auto zs = round_trip(results);
  BOOST_REQUIRE_EQUAL(zs.size(), 2u);
  BOOST_CHECK_EQUAL(zs[0].worker, 99u);
  BOOST_CHECK_EQUAL(zs[0].result.dify.elapsed_time, 0.25);
  BOOST_CHECK_EQUAL(zs[0].result.seq, ~uint64_t{0});
  BOOST_CHECK_EQUAL(zs[0].result.attempt_log.at(0).started_us, -5);
  BOOST_CHECK_EQUAL(zs[0].result.attempt_log.at(0).connect_us, 9);
  BOOST_CHECK_EQUAL(zs[0].result.turns.at(0).message_id, "msg");
  BOOST_CHECK(zs[0].result.cached);
}

// A batch whose encoding is cut short or carries a bad length is refused
// with an error: never a crash, never a half-filled result.
BOOST_AUTO_TEST_CASE(a_malformed_wire_encoding_is_an_error) {
  task_result r;
  r.task_id = "d/c#0";
  r.attempt_log.resize(2);
  std::string blob;
  uint32_t idx = 1;
  uint64_t worker = 2;
  wire::writer{blob}(idx, worker, r);
  for (size_t n = 0; n < blob.size(); ++n) {
    indexed_result y;
    wire::reader in{blob.data(), n};
    in(y.idx, y.worker, y.result);
    BOOST_CHECK_MESSAGE(in.failed(), "cut at " << n);
  }
  // The attempt_log's count, claimed far past the input's end.
  auto bad = blob;
  auto at = 4 + 8 + 4 + 5 + 3 * 4 + 1; // idx, worker, 4 strings, status
  bad[at] = bad[at + 1] = bad[at + 2] = '\x7f';
  indexed_result y;
  wire::reader in{bad.data(), bad.size()};
  in(y.idx, y.worker, y.result);
  BOOST_CHECK(in.failed());
  // A status past the eight (arrays are indexed by status).
  auto status = blob;
  status[at - 1] = static_cast<char>(task_status_count);
  wire::reader past{status.data(), status.size()};
  past(y.idx, y.worker, y.result);
  BOOST_CHECK(past.failed());
  status[at - 1] = static_cast<char>(task_status_count - 1);
  wire::reader last{status.data(), status.size()};
  last(y.idx, y.worker, y.result);
  BOOST_CHECK(!last.failed() && y.result.status == task_status::error);
  // Through CAF: the deserializer reports it.
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  BOOST_REQUIRE(!sink(bad));
  caf::binary_deserializer source{sys, buf};
  BOOST_CHECK(source(y) == caf::sec::malformed_basp_message);
  // And the whole, unharmed encoding reads back to its end.
  wire::reader whole{blob.data(), blob.size()};
  whole(y.idx, y.worker, y.result);
  BOOST_CHECK(!whole.failed() && whole.at_end());
  BOOST_CHECK_EQUAL(y.result.attempt_log.size(), 2u);
}

BOOST_AUTO_TEST_SUITE_END()
