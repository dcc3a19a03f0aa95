// File inputs end to end against a fake-dify process (issue 10, item 9):
// each distinct file is uploaded once per run, a failed upload is retried
// as a call is, a refused one is final, remote_url objects pass through,
// and runs with nodes are refused.

#include <boost/test/unit_test.hpp>

#include "tests/e2e/dify_fixture.hpp"

#include <filesystem>
#include <string>

using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

int64_t num(const json::value& v) {
  return v.to_number<int64_t>();
}

int64_t path_calls(const json::object& stats, const char* path) {
  auto& by = stats.at("by_path").as_object();
  auto* n = by.if_contains(path);
  return n == nullptr ? 0 : num(*n);
}

std::string output_text(const json::object& result) {
  return std::string{result.at("output").at("text").as_string()};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(dify_files, dify_fixture)

BOOST_AUTO_TEST_CASE(ten_cases_sharing_two_files_upload_each_once,
                     *utf::timeout(60)) {
  fake_dify_process server;
  std::filesystem::create_directory(dir.file("docs"));
  dir.write("docs/contract.txt", "the contract"); // 12 bytes
  dir.write("scan.png", "not really a png");      // 16 bytes
  std::string cases = "[";
  for (int i = 0; i < 10; ++i) {
    cases += i == 0 ? "" : ",";
    cases += R"({"id": "c)" + std::to_string(i) + R"(", "inputs": {"doc": )"
             + (i % 2 == 0 ? R"({"file": "docs/contract.txt"})"
                           : R"([{"file": "scan.png"}])")
             + "}}";
  }
  cases += "]";
  auto m = manifest(target(server), cases,
                    R"("execution_policy": {"concurrency": 10})");
  auto r = run(m);
  BOOST_REQUIRE_EQUAL(r.code, 0);
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(num(stats.at("uploads")), 2);
  BOOST_CHECK_EQUAL(path_calls(stats, "/v1/files/upload"), 2);
  BOOST_CHECK_EQUAL(path_calls(stats, "/v1/workflows/run"), 10);
  auto f = results();
  BOOST_REQUIRE_EQUAL(f.results.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    auto id = "d/c" + std::to_string(i) + "#0";
    BOOST_TEST_CONTEXT(id) {
      auto& res = f.results.at(id);
      BOOST_CHECK_EQUAL(res.at("status").as_string(), "SUCCEEDED");
      BOOST_CHECK_EQUAL(num(res.at("attempts")), 1);
      // The app got Dify's file object; the fake echoes what it resolved.
      BOOST_CHECK_EQUAL(output_text(res),
                        i % 2 == 0
                          ? R"(echo: {"doc":{"name":"contract.txt","size":12,)"
                            R"("created_by":"troupe","type":"document"}})"
                          : R"(echo: {"doc":[{"name":"scan.png","size":16,)"
                            R"("created_by":"troupe","type":"image"}]})");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_upload_is_retried_and_the_task_succeeds,
                     *utf::timeout(60)) {
  fake_dify_process server;
  // fake-dify answers the first upload of this name with a 500.
  dir.write("_fault-500-1.txt", "flaky");
  auto m
    = manifest(target(server, "streaming"),
               R"([{"id": "a", "inputs": {"f": {"file": "_fault-500-1.txt"}}},
                        {"id": "b", "inputs": {"f": {"file": "_fault-500-1.txt"}}}])",
               quick_retry);
  auto r = run(m);
  BOOST_REQUIRE_EQUAL(r.code, 0);
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(path_calls(stats, "/v1/files/upload"), 2);
  BOOST_CHECK_EQUAL(num(stats.at("by_status").at("500")), 1);
  BOOST_CHECK_EQUAL(num(stats.at("uploads")), 1);
  auto f = results();
  for (auto* id : {"d/a#0", "d/b#0"}) {
    BOOST_TEST_CONTEXT(id) {
      auto& res = f.results.at(id);
      BOOST_CHECK_EQUAL(res.at("status").as_string(), "SUCCEEDED");
      BOOST_CHECK_EQUAL(output_text(res),
                        R"(echo: {"f":{"name":"_fault-500-1.txt","size":5,)"
                        R"("created_by":"troupe","type":"document"}})");
    }
  }
  // The task that started the upload waited on it and retried once; the
  // other did too if it came before the 500 (it almost always does), else
  // it uploaded the file itself. Two uploads either way.
  auto calls = path_calls(stats, "/v1/workflows/run");
  BOOST_CHECK_EQUAL(calls, 2);
  int retried = 0;
  for (auto* id : {"d/a#0", "d/b#0"}) {
    auto& res = f.results.at(id);
    if (num(res.at("attempts")) == 2) {
      ++retried;
      auto& first = res.at("attempt_log").at(0).as_object();
      BOOST_CHECK_EQUAL(first.at("status").as_string(), "FAILED");
      BOOST_CHECK(
        starts(str(first.at("error")), "upload of _fault-500-1.txt: "));
    }
  }
  BOOST_CHECK_GE(retried, 1);
}

BOOST_AUTO_TEST_CASE(an_upload_the_server_finds_too_large_fails_unretried,
                     *utf::timeout(60)) {
  fake_dify_process server{{"--max-upload-bytes", "10"}};
  dir.write("big.txt", std::string(20, 'b'));
  auto m = manifest(target(server),
                    R"([{"id": "a", "inputs": {"f": {"file": "big.txt"}}}])",
                    quick_retry);
  BOOST_CHECK_EQUAL(run(m).code, 1);
  auto f = results();
  auto& res = f.results.at("d/a#0");
  BOOST_CHECK_EQUAL(res.at("status").as_string(), "FAILED");
  BOOST_CHECK_EQUAL(num(res.at("attempts")), 1);
  BOOST_CHECK_EQUAL(num(res.at("http_status")), 413);
  BOOST_CHECK(starts(str(res.at("error")), "upload of big.txt: "));
  auto stats = server.stats();
  BOOST_CHECK_EQUAL(path_calls(stats, "/v1/files/upload"), 1);
  BOOST_CHECK_EQUAL(path_calls(stats, "/v1/workflows/run"), 0);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_on_upload_aborts_the_run, *utf::timeout(60)) {
  fake_dify_process server;
  dir.write("a.txt", "a");
  key = "app-wrong";
  auto m = manifest(target(server),
                    R"([{"id": "a", "inputs": {"f": {"file": "a.txt"}}}])");
  auto r = run(m);
  BOOST_CHECK_EQUAL(r.code, 3);
  BOOST_CHECK_EQUAL(r.err.find(key), std::string::npos);
  BOOST_CHECK_EQUAL(results().status("d/a#0"), "FAILED");
  BOOST_CHECK_EQUAL(read_file(out).find(key), std::string::npos);
}

BOOST_AUTO_TEST_CASE(remote_url_files_pass_through_as_given,
                     *utf::timeout(60)) {
  fake_dify_process server;
  auto w = manifest(target(server),
                    R"([{"id": "r", "inputs": {"img": [{"type": "image",
         "transfer_method": "remote_url", "url": "https://example.com/a.png"}]}}])");
  BOOST_REQUIRE_EQUAL(run(w).code, 0);
  auto f = results();
  BOOST_CHECK_EQUAL(output_text(f.results.at("d/r#0")),
                    R"(echo: {"img":[{"type":"image","transfer_method":)"
                    R"("remote_url","url":"https://example.com/a.png"}]})");
  BOOST_CHECK_EQUAL(num(server.stats().at("uploads")), 0);
  BOOST_CHECK_EQUAL(path_calls(server.stats(), "/v1/files/upload"), 0);
}

BOOST_AUTO_TEST_CASE(file_inputs_with_nodes_are_refused, *utf::timeout(30)) {
  fake_dify_process server;
  dir.write("a.txt", "a");
  auto m = manifest(target(server),
                    R"([{"id": "a", "inputs": {"f": {"file": "a.txt"}}}])");
  auto r = run(m, {"--nodes", "127.0.0.1:1"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_NE(r.err.find("inputs name files (\"file\": \"a.txt\"...), "
                            "which runs with nodes cannot upload"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(path_calls(server.stats(), "/v1/files/upload"), 0);
}

BOOST_AUTO_TEST_CASE(the_files_example_runs_against_the_fake_server,
                     *utf::timeout(60)) {
  fake_dify_process server{{}, "app-demo"};
  key = "app-demo";
  auto examples = source_dir() + "/config/examples/";
  std::filesystem::create_directory(dir.file("files"));
  for (auto* name : {"files/contract.txt", "files/notes.md"})
    dir.write(name, read_file(examples + name));
  auto m = example_for(server, "dify-files.json");
  // The example names DIFY_API_KEY.
  env.push_back("DIFY_API_KEY=" + key);
  BOOST_REQUIRE_EQUAL(run(m).code, 0);
  auto f = results();
  BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 3u);
  BOOST_CHECK_EQUAL(num(server.stats().at("uploads")), 2);
}

BOOST_AUTO_TEST_SUITE_END()
