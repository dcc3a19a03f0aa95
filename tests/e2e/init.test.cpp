// `troupe init` end to end: each target's starter passes `troupe validate`
// and the manifest schema, nothing is ever overwritten, a bad --target is a
// usage error, and the Dify and http starters run clean against fake-dify.

#include "config/json_checks.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/fake_dify_process.hpp"
#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace utf = boost::unit_test;

namespace {

const std::vector<std::string> targets{"dify-workflow", "dify-chat",
                                       "dify-completion", "http", "stub"};

struct init_fixture {
  temp_dir dir;

  process_result troupe(std::vector<std::string> args) {
    args.insert(args.begin(), troupe_binary());
    return run_process(std::move(args), 30s, dir.path());
  }

  /// The names and contents of the files in `folder`.
  static std::map<std::string, std::string>
  files_in(const std::string& folder) {
    std::map<std::string, std::string> out;
    for (auto& e : fs::directory_iterator(folder))
      out[e.path().filename().string()] = read_file(e.path().string());
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(init, init_fixture)

BOOST_AUTO_TEST_CASE(each_target_writes_a_starter_that_validates,
                     *utf::timeout(120)) {
  std::vector<std::string> plain; // the manifests as plain JSON
  for (auto& t : targets) {
    BOOST_TEST_CONTEXT("--target " << t) {
      // A folder that does not exist yet, two levels deep.
      auto folder = dir.file("new/" + t);
      auto r = troupe({"init", "--target", t, folder});
      BOOST_REQUIRE_EQUAL(r.code, 0);
      BOOST_CHECK_EQUAL(r.err, "");
      BOOST_CHECK(r.out.find("wrote " + folder + "/troupe.json (a " + t
                             + " manifest) and " + folder
                             + "/cases.jsonl (3 cases)\nnext:\n")
                  == 0);
      BOOST_CHECK(r.out.find("troupe run " + folder + "/troupe.json\n")
                  != std::string::npos);
      auto files = files_in(folder);
      BOOST_REQUIRE_EQUAL(files.size(), 2u);
      auto& manifest = files["troupe.json"];
      BOOST_CHECK(manifest.find("\"type\": \"" + t + "\"")
                  != std::string::npos);
      BOOST_CHECK(manifest.compare(0, 3, "// ") == 0); // commented
      if (t != "stub")
        BOOST_CHECK(manifest.find("troupe fake-dify --listen 127.0.0.1:5001")
                    != std::string::npos);
      auto v = troupe({"validate", folder + "/troupe.json"});
      BOOST_CHECK_EQUAL(v.code, 0);
      BOOST_CHECK(v.out.find(folder + "/troupe.json: ok, 3 tasks")
                  != std::string::npos);
      auto value = troupe::config::parse_relaxed(manifest, "troupe.json");
      plain.push_back(dir.write(t + ".json", json::serialize(value)));
    }
  }
  // The manifests validate against config/manifest.schema.json too.
  std::vector<std::string> args{
    "/usr/bin/python3", source_dir() + "/tests/config/validate_manifests.py",
    source_dir() + "/config/manifest.schema.json"};
  args.insert(args.end(), plain.begin(), plain.end());
  auto r = run_process(args, 60s);
  BOOST_REQUIRE_EQUAL(r.code, 0);
  std::string expected;
  for (auto& p : plain)
    expected += "ok " + p + "\n";
  BOOST_CHECK_EQUAL(r.out, expected);
}

BOOST_AUTO_TEST_CASE(the_default_is_dify_workflow_in_the_current_folder,
                     *utf::timeout(30)) {
  auto r = troupe({"init"});
  BOOST_REQUIRE_EQUAL(r.code, 0);
  BOOST_CHECK(r.out.find("wrote troupe.json (a dify-workflow manifest) and "
                         "cases.jsonl (3 cases)\n")
              == 0);
  auto files = files_in(dir.path());
  BOOST_CHECK_EQUAL(files.size(), 2u);
  BOOST_CHECK(files["troupe.json"].find(R"("type": "dify-workflow")")
              != std::string::npos);
  BOOST_CHECK(files["troupe.json"].find(R"("api_key_env": "DIFY_API_KEY")")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_folder_named_with_percent_s_is_just_a_name,
                     *utf::timeout(30)) {
  // The next-steps text fills "%s" in with the manifest's path, which may
  // hold "%s" itself.
  auto r = troupe({"init", "--target", "stub", "a%sb"});
  BOOST_REQUIRE_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.out.find("troupe validate a%sb/troupe.json\n"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(init_never_overwrites_and_changes_nothing_when_refused,
                     *utf::timeout(30)) {
  BOOST_REQUIRE_EQUAL(troupe({"init", "--target", "stub", "d"}).code, 0);
  auto before = files_in(dir.file("d"));
  for (auto& t : targets) {
    auto r = troupe({"init", "--target", t, "d"});
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_EQUAL(r.out, "");
    BOOST_CHECK_EQUAL(r.err, "troupe: init: d/troupe.json exists; init never "
                             "overwrites a file (move it away or give "
                             "another DIR)\n");
    BOOST_CHECK(files_in(dir.file("d")) == before);
  }
  // One of the two files is enough to refuse, and the other is not written.
  fs::create_directory(dir.file("e"));
  dir.write("e/cases.jsonl", "{\"id\": \"mine\"}\n");
  auto r = troupe({"init", "e"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, "troupe: init: e/cases.jsonl exists; init never "
                           "overwrites a file (move it away or give another "
                           "DIR)\n");
  BOOST_CHECK_EQUAL(files_in(dir.file("e")).size(), 1u);
  BOOST_CHECK_EQUAL(read_file(dir.file("e/cases.jsonl")),
                    "{\"id\": \"mine\"}\n");
  // A DIR that is a file.
  dir.write("f", "x");
  r = troupe({"init", "f"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, "troupe: init: f: exists and is not a folder\n");
}

BOOST_AUTO_TEST_CASE(a_bad_target_is_a_usage_error_listing_the_targets,
                     *utf::timeout(30)) {
  auto r = troupe({"init", "--target", "dify-agent"});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.out, "");
  BOOST_CHECK_EQUAL(r.err,
                    "troupe: init: --target: must be one of dify-workflow, "
                    "dify-chat, dify-completion, http, stub, got "
                    "\"dify-agent\"\n"
                    "Run `troupe init --help` for usage.\n");
  BOOST_CHECK(files_in(dir.path()).empty());
  BOOST_CHECK_EQUAL(troupe({"init", "a", "b"}).code, 2);
  BOOST_CHECK(files_in(dir.path()).empty());
}

BOOST_AUTO_TEST_CASE(the_service_starters_run_clean_against_fake_dify,
                     *utf::timeout(240)) {
  fake_dify_process fake{{}, "app-init"};
  struct service {
    std::string target, key_env, path;
    int calls; // the chat starter's conversation has two turns
  };
  for (auto& s :
       {service{"dify-workflow", "DIFY_API_KEY", "/v1/workflows/run", 3},
        service{"dify-chat", "DIFY_API_KEY", "/v1/chat-messages", 4},
        service{"dify-completion", "DIFY_API_KEY", "/v1/completion-messages",
                3},
        service{"http", "SERVICE_TOKEN", "/v1/workflows/run", 3}}) {
    BOOST_TEST_CONTEXT("--target " << s.target) {
      auto before = fake.calls(s.path);
      BOOST_REQUIRE_EQUAL(troupe({"init", "--target", s.target, s.target}).code,
                          0);
      // The starter names fake-dify's usual address; this one has its own
      // port.
      auto manifest = dir.file(s.target + "/troupe.json");
      auto text = read_file(manifest);
      const std::string usual = "http://127.0.0.1:5001/v1";
      auto pos = text.find("\"" + usual);
      BOOST_REQUIRE(pos != std::string::npos);
      text.replace(pos + 1, usual.size(), fake.base_url());
      dir.write(s.target + "/troupe.json", text);
      child_process run{{troupe_binary(), "run", manifest, "--out",
                         s.target + ".jsonl", "--progress", "never"},
                        dir.path(),
                        {s.key_env + "=app-init"}};
      auto r = run.wait(90s);
      BOOST_REQUIRE_MESSAGE(r.code == 0, "exit " << r.code << ": " << r.err);
      auto f = read_results(dir.file(s.target + ".jsonl"));
      BOOST_CHECK_EQUAL(f.results.size(), 3u);
      BOOST_CHECK_EQUAL(f.count("SUCCEEDED"), 3u);
      for (auto& [id, line] : f.results)
        for (auto& a : line.at("assertions").as_array())
          BOOST_CHECK_MESSAGE(a.at("passed").as_bool(),
                              id << ": " << json::serialize(a));
      BOOST_CHECK_EQUAL(fake.calls(s.path) - before, s.calls);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
