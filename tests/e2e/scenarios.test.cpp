// The scenario suite: every tests/scenarios/*.json is a manifest and the
// outcome it must have, run through the real binary with --virtual-time
// (twice: the two results files must be byte-identical). Each file becomes
// a test case "scenarios/<file name>"; see tests/scenarios/README.md.

#include "actors/results/result_line_reader.hpp"
#include "config/json_checks.hpp"
#include "runtime/results_file.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/results_file.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <filesystem>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace json = boost::json;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {

constexpr int64_t virtual_epoch_us = 946'684'800'000'000;

double number(const json::value& v) {
  return v.to_number<double>();
}

void run_scenario(const fs::path& file) {
  auto text = read_file(file.string());
  BOOST_REQUIRE_MESSAGE(!text.empty(), "cannot read " << file);
  json::value scenario;
  try {
    scenario = troupe::config::parse_relaxed(text, file.string());
  } catch (const std::exception& e) {
    BOOST_FAIL(e.what());
  }
  auto& s = scenario.as_object();
  BOOST_TEST_MESSAGE(file.filename().string()
                     << ": " << s.at("description").as_string());
  // The manifest, with dataset files made absolute.
  auto manifest = s.at("manifest");
  for (auto& ds : manifest.as_object().at("datasets").as_array())
    if (auto* f = ds.as_object().if_contains("file"))
      *f = (file.parent_path() / std::string{f->as_string()}).string();
  temp_dir dir;
  auto m = dir.write("manifest.json", json::serialize(manifest));
  std::vector<std::string> args{
    troupe_binary(), "run",   m,  "--virtual-time", "--progress",
    "never",         "--out", "", "--timeline",     dir.file("timeline.txt")};
  if (auto* extra = s.if_contains("args"))
    for (auto& a : extra->as_array())
      args.emplace_back(a.as_string());
  auto& expect = s.at("expect").as_object();
  std::string first_run;
  for (int round = 0; round < 2; ++round) {
    auto out = dir.file("r" + std::to_string(round) + ".jsonl");
    args[7] = out;
    child_process child{args, dir.path()};
    auto r = child.wait(60s);
    BOOST_REQUIRE_MESSAGE(r.code == expect.at("exit_code").as_int64(),
                          "exit code " << r.code << "; stderr: " << r.err);
    if (round == 1) {
      BOOST_CHECK_MESSAGE(read_file(out) == first_run,
                          "a second run gave a different results file");
      break;
    }
    first_run = read_file(out);
    auto f = read_results(out);
    auto& summary = f.summary();
    if (auto* counts = expect.if_contains("counts"))
      for (auto& kv : counts->as_object())
        BOOST_CHECK_MESSAGE(summary.at("counts").at(kv.key()) == kv.value(),
                            kv.key()
                              << ": got " << summary.at("counts").at(kv.key())
                              << ", expected " << kv.value());
    if (auto* fields = expect.if_contains("summary"))
      for (auto& kv : fields->as_object()) {
        auto* got = summary.if_contains(kv.key());
        BOOST_CHECK_MESSAGE(
          got != nullptr && *got == kv.value(),
          "summary." << kv.key() << ": got "
                     << (got ? json::serialize(*got) : std::string{"nothing"})
                     << ", expected " << kv.value());
      }
    for (auto key : {"attempts", "retries", "wall_ms"})
      if (auto* want = expect.if_contains(key))
        BOOST_CHECK_MESSAGE(number(summary.at(key)) == number(*want),
                            key << ": got " << summary.at(key) << ", expected "
                                << *want);
    auto* tasks = expect.if_contains("tasks");
    if (tasks == nullptr)
      continue;
    for (auto& kv : tasks->as_object()) {
      std::string id{kv.key()};
      BOOST_TEST_CONTEXT("task " << id) {
        auto i = f.results.find(id);
        BOOST_REQUIRE_MESSAGE(i != f.results.end(), "no result for " << id);
        auto& got = i->second;
        auto& want = kv.value().as_object();
        if (auto* st = want.if_contains("status"))
          BOOST_CHECK_EQUAL(got.at("status").as_string(), st->as_string());
        if (auto* n = want.if_contains("attempts"))
          BOOST_CHECK_EQUAL(got.at("attempts").as_int64(), n->as_int64());
        if (auto* e = want.if_contains("error"))
          BOOST_CHECK_EQUAL(got.at("error").as_string(), e->as_string());
        if (auto* fin = want.if_contains("finished_ms")) {
          // finished_at counts from the virtual epoch, 2000-01-01.
          auto at = troupe::parse_rfc3339(got.at("finished_at").as_string());
          BOOST_CHECK_EQUAL(static_cast<double>(at - virtual_epoch_us) / 1e3,
                            number(*fin));
        }
        auto* timeline = want.if_contains("timeline");
        if (timeline == nullptr)
          continue;
        auto& log = got.at("attempt_log").as_array();
        auto& steps = timeline->as_array();
        BOOST_REQUIRE_EQUAL(log.size(), steps.size());
        for (size_t k = 0; k < steps.size(); ++k) {
          auto& step = steps[k].as_array();
          BOOST_CHECK_MESSAGE(
            number(log[k].at("started_ms")) == number(step[0]),
            "attempt " << k + 1 << " started at " << log[k].at("started_ms")
                       << " ms, expected " << step[0]);
          BOOST_CHECK_MESSAGE(
            number(log[k].at("duration_ms")) == number(step[1]),
            "attempt " << k + 1 << " took " << log[k].at("duration_ms")
                       << " ms, expected " << step[1]);
          BOOST_CHECK_EQUAL(log[k].at("status").as_string(),
                            step[2].as_string());
        }
      }
    }
  }
}

// Registers one test case per scenario file, at start-up.
struct scenario_registrar {
  scenario_registrar() {
    auto* suite = BOOST_TEST_SUITE("scenarios");
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto& e :
         fs::directory_iterator(source_dir() + "/tests/scenarios", ec))
      if (e.path().extension() == ".json")
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& file : files) {
      auto name = file.stem().string();
      std::replace(name.begin(), name.end(), '-', '_');
      auto* tc = utf::make_test_case([file] { run_scenario(file); }, name,
                                     __FILE__, __LINE__);
      tc->p_timeout.set(120);
      suite->add(tc);
    }
    utf::framework::master_test_suite().add(suite);
  }
};

scenario_registrar registrar;

} // namespace
