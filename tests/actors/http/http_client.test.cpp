// The libcurl client on its own, against a fake-dify process: statuses and
// bodies as the server sent them, Retry-After, transport failures, the size
// cap, streaming chunks, aborts that report nothing, the transfer's times,
// and transfers spread over several multi handles.

#include "actors/http/http_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/fake_dify_process.hpp"
#include <netdb.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using namespace troupe;
namespace utf = boost::unit_test;
using client_type = troupe::http_client;

namespace {

/// Collects what the client's thread reports, and lets the test wait.
struct collector {
  std::mutex mx;
  std::condition_variable cv;
  std::map<uint64_t, http_outcome> done;
  std::map<uint64_t, std::string> streamed;
  std::map<uint64_t, int> stream_status;

  /// Waits until `id` is done (30 s at most, for a loaded machine).
  http_outcome wait(uint64_t id, std::chrono::seconds limit = 30s) {
    std::unique_lock<std::mutex> guard{mx};
    BOOST_REQUIRE_MESSAGE(
      cv.wait_for(guard, limit, [&] { return done.count(id) > 0; }),
      "no completion for " << id);
    return done[id];
  }
};

struct http_client_fixture {
  test::fake_dify_process server;
  collector got;
  http_client_options opts;
  // Not `http_client`: the suite has the class's name.
  std::unique_ptr<client_type> client;

  void start() {
    client = std::make_unique<client_type>(opts);
    client->start(
      [this](std::vector<http_result>&& xs) {
        std::lock_guard<std::mutex> guard{got.mx};
        for (auto& x : xs)
          got.done[x.id] = std::move(x.outcome);
        got.cv.notify_all();
      },
      [this](std::vector<http_chunk>&& chunks) {
        std::lock_guard<std::mutex> guard{got.mx};
        for (auto& c : chunks) {
          got.stream_status[c.id] = c.status;
          got.streamed[c.id] += c.bytes;
        }
      });
  }

  http_call workflow_call(const std::string& inputs,
                          const std::string& key = "app-test",
                          const std::string& mode = "blocking") {
    http_call c;
    c.url = server.base_url() + "/workflows/run";
    c.headers
      = {"Authorization: Bearer " + key, "Content-Type: application/json"};
    c.body = R"({"inputs":)" + inputs + R"(,"response_mode":")" + mode
             + R"(","user":"u"})";
    c.stream = mode == "streaming";
    return c;
  }

  ~http_client_fixture() {
    if (client)
      client->stop();
  }
};

/// This machine's name, if it resolves to 127.0.0.1 alone (/etc/hosts
/// usually says so); empty otherwise. "localhost" would not do: libcurl
/// 7.88 answers it itself, without its threaded resolver.
std::string loopback_hostname() {
  char name[256] = {0};
  if (::gethostname(name, sizeof(name) - 1) != 0)
    return {};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(name, "80", &hints, &found) != 0)
    return {};
  bool loopback = true;
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    auto* in = reinterpret_cast<sockaddr_in*>(a->ai_addr);
    loopback = loopback && a->ai_family == AF_INET
               && ntohl(in->sin_addr.s_addr) == 0x7f000001;
  }
  ::freeaddrinfo(found);
  return loopback ? name : "";
}

boost::test_tools::assertion_result hostname_is_loopback(utf::test_unit_id) {
  boost::test_tools::assertion_result ok(!loopback_hostname().empty());
  ok.message() << "needs the machine's hostname to resolve to 127.0.0.1";
  return ok;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(http_client, http_client_fixture)

BOOST_AUTO_TEST_CASE(a_blocking_call_gets_the_status_and_the_whole_body,
                     *utf::timeout(60)) {
  start();
  client->submit(1, workflow_call(R"({"text":"hi"})"));
  auto o = got.wait(1);
  BOOST_CHECK_EQUAL(o.status, 200);
  BOOST_CHECK_EQUAL(o.transport_error, 0);
  BOOST_CHECK(!o.too_large);
  BOOST_CHECK_EQUAL(o.content_type.rfind("application/json", 0), 0u);
  auto v = boost::json::parse(o.body);
  BOOST_CHECK_EQUAL(v.at("data").at("status").as_string(), "succeeded");
}

BOOST_AUTO_TEST_CASE(an_error_status_comes_back_with_the_server_body,
                     *utf::timeout(60)) {
  start();
  client->submit(1, workflow_call(R"({"text":"hi"})", "app-wrong"));
  auto o = got.wait(1);
  BOOST_CHECK_EQUAL(o.status, 401);
  BOOST_CHECK_EQUAL(o.transport_error, 0);
  BOOST_CHECK_EQUAL(
    o.body,
    R"({"code":"unauthorized","message":"Access token is invalid","status":401})");
}

BOOST_AUTO_TEST_CASE(retry_after_is_passed_on_as_the_server_wrote_it,
                     *utf::timeout(60)) {
  start();
  client->submit(1, workflow_call(R"({"_fault":"429:retry-after=3"})"));
  auto o = got.wait(1);
  BOOST_CHECK_EQUAL(o.status, 429);
  BOOST_CHECK_EQUAL(o.retry_after, "3");
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_a_transport_error,
                     *utf::timeout(60)) {
  start();
  auto call = workflow_call("{}");
  // Port 1 on loopback: nothing listens there.
  call.url = "http://127.0.0.1:1/v1/workflows/run";
  client->submit(1, call);
  auto o = got.wait(1);
  BOOST_CHECK_EQUAL(o.status, 0);
  BOOST_CHECK_NE(o.transport_error, 0);
  BOOST_CHECK(!o.transport_message.empty());
  BOOST_CHECK(!o.tls_error);
}

BOOST_AUTO_TEST_CASE(a_response_over_the_cap_is_cut_off, *utf::timeout(60)) {
  opts.max_response_bytes = 64 * 1024;
  start();
  client->submit(1, workflow_call(R"({"_fault":"large"})"));
  auto o = got.wait(1);
  BOOST_CHECK(o.too_large);
  BOOST_CHECK_EQUAL(o.status, 200);
  BOOST_CHECK_EQUAL(o.transport_error, 0);
  BOOST_CHECK(o.body.size() <= 64 * 1024);
}

BOOST_AUTO_TEST_CASE(a_stream_delivers_its_bytes_as_chunks, *utf::timeout(60)) {
  start();
  client->submit(1, workflow_call(R"({"text":"hi"})", "app-test", "streaming"));
  auto o = got.wait(1);
  BOOST_CHECK_EQUAL(o.transport_error, 0);
  std::lock_guard<std::mutex> guard{got.mx};
  BOOST_CHECK_EQUAL(got.stream_status[1], 200);
  BOOST_CHECK(got.streamed[1].find("data: ") != std::string::npos);
  BOOST_CHECK(got.streamed[1].find("\"workflow_finished\"")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_aborted_transfer_reports_nothing_and_drains,
                     *utf::timeout(60)) {
  start();
  client->submit(1, workflow_call(R"({"_fault":"hang"})"));
  client->submit(2, workflow_call(R"({"text":"hi"})"));
  BOOST_CHECK_EQUAL(got.wait(2).status, 200);
  client->abort(1);
  BOOST_CHECK(client->drain(20s));
  std::lock_guard<std::mutex> guard{got.mx};
  BOOST_CHECK_EQUAL(got.done.count(1), 0u);
}

BOOST_AUTO_TEST_CASE(a_call_reports_its_wire_time_and_a_new_connection,
                     *utf::timeout(60)) {
  start();
  auto before = client_type::now_us();
  client->submit(1, workflow_call(R"({"_latency_ms":50})"));
  auto first = got.wait(1);
  auto after = client_type::now_us();
  BOOST_CHECK_EQUAL(first.status, 200);
  BOOST_CHECK_GE(first.wire_start_us, before);
  // The server held the answer 50 ms: the wire time holds that, and no more
  // than the whole wait.
  BOOST_CHECK_GE(first.wire_end_us - first.wire_start_us, 50'000);
  BOOST_CHECK_LE(first.wire_end_us, after);
  BOOST_CHECK_GE(first.connect_us, 0);
  // The next call reuses the kept-alive connection: no set-up.
  client->submit(2, workflow_call(R"({"text":"hi"})"));
  auto second = got.wait(2);
  BOOST_CHECK_EQUAL(second.connect_us, 0);
  BOOST_CHECK_GE(second.wire_end_us, second.wire_start_us);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_has_no_wire_time, *utf::timeout(60)) {
  start();
  auto call = workflow_call("{}");
  call.url = "http://127.0.0.1:1/v1/workflows/run";
  client->submit(1, call);
  auto o = got.wait(1);
  BOOST_CHECK_EQUAL(o.wire_start_us, -1);
  BOOST_CHECK_EQUAL(o.wire_end_us, -1);
}

BOOST_AUTO_TEST_CASE(calls_beyond_one_shard_spread_over_more_and_all_finish,
                     *utf::timeout(60)) {
  // Three transfers per multi handle: 20 calls at once need 7 handles on
  // the one loop, streams among them.
  opts.transfers_per_shard = 3;
  start();
  for (uint64_t id = 1; id <= 20; ++id)
    client->submit(id, workflow_call(R"({"_latency_ms":100})", "app-test",
                                     id % 4 == 0 ? "streaming" : "blocking"));
  for (uint64_t id = 1; id <= 20; ++id) {
    auto o = got.wait(id);
    BOOST_CHECK_EQUAL(o.status, 200);
    BOOST_CHECK_EQUAL(o.transport_error, 0);
  }
  // And again, on the connections kept in each shard.
  for (uint64_t id = 21; id <= 40; ++id)
    client->submit(id, workflow_call(R"({"text":"hi"})"));
  for (uint64_t id = 21; id <= 40; ++id)
    BOOST_CHECK_EQUAL(got.wait(id).status, 200);
  BOOST_CHECK(client->drain(20s));
  std::lock_guard<std::mutex> guard{got.mx};
  for (uint64_t id = 4; id <= 20; id += 4)
    BOOST_CHECK(got.streamed[id].find("\"workflow_finished\"")
                != std::string::npos);
}

BOOST_AUTO_TEST_CASE(resolves_by_name_in_waves_over_many_shards_all_finish,
                     *utf::precondition(hostname_is_loopback)
                       * utf::timeout(90)) {
  // One transfer per multi handle, so each new call starts a fresh name
  // lookup on libcurl's threaded resolver, whose socketpair libcurl closes
  // without the close callback. A second wave, while the first still
  // holds, gets the lookups' freed descriptor numbers: each must be
  // watched again, or its call waits for nothing until the deadline.
  opts.transfers_per_shard = 1;
  start();
  auto host = loopback_hostname();
  auto url = server.base_url();
  url.replace(url.find("127.0.0.1"), 9, host);
  uint64_t id = 0;
  for (int wave = 0; wave < 4; ++wave) {
    for (int i = 0; i < 40; ++i) {
      auto call = workflow_call(R"({"_latency_ms":1500})");
      call.url = url + "/workflows/run";
      client->submit(++id, std::move(call));
    }
    std::this_thread::sleep_for(200ms);
  }
  for (uint64_t i = 1; i <= id; ++i) {
    auto o = got.wait(i, 15s);
    BOOST_CHECK_EQUAL(o.status, 200);
    BOOST_CHECK_EQUAL(o.transport_error, 0);
  }
}

BOOST_AUTO_TEST_SUITE_END()
