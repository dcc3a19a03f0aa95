// config/manifest.schema.json kept in step with the parser: every example
// and test manifest validates; the schema lists exactly the keys of the
// parser's table (config/manifest_keys.hpp) at each place, and a target
// type's keys as target.cpp gives them; and for a set of manifests the
// schema says yes or no as the parser does. The schema checks run in Debian's
// python3-jsonschema (tests/config/validate_manifests.py).

#include "config/json_checks.hpp"
#include "config/manifest.hpp"
#include "config/manifest_keys.hpp"
#include "config/target.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace config = troupe::config;
namespace fs = std::filesystem;
namespace json = boost::json;
namespace utf = boost::unit_test;

namespace {

/// Debian's interpreter, which has python3-jsonschema (tools/setup.sh).
constexpr const char* python = "/usr/bin/python3";

std::string schema_path() {
  return source_dir() + "/config/manifest.schema.json";
}

json::value schema() {
  return json::parse(read_file(schema_path()));
}

std::set<std::string> strings_of(const std::vector<std::string_view>& xs) {
  return {xs.begin(), xs.end()};
}

std::string joined(const std::set<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ", ") + x;
  return out;
}

struct schema_fixture {
  temp_dir dir;
  int files = 0;

  /// Writes `v` as plain JSON (no comments) and returns its path.
  std::string write(const json::value& v) {
    return dir.write("m" + std::to_string(files++) + ".json",
                     json::serialize(v));
  }

  /// The schema's verdict on each file: "" if valid, else its first error.
  std::map<std::string, std::string>
  validate(const std::vector<std::string>& paths) {
    std::vector<std::string> args{
      python, source_dir() + "/tests/config/validate_manifests.py",
      schema_path()};
    args.insert(args.end(), paths.begin(), paths.end());
    auto r = run_process(args, 60s);
    BOOST_REQUIRE_MESSAGE(r.code == 0 && !r.timed_out,
                          "validate_manifests.py failed ("
                            << r.code << "; is python3-jsonschema installed? "
                            << "tools/setup.sh installs it): " << r.err);
    std::map<std::string, std::string> out;
    std::istringstream lines{r.out};
    for (std::string line; std::getline(lines, line);) {
      if (line.compare(0, 3, "ok ") == 0) {
        out[line.substr(3)] = "";
      } else if (line.compare(0, 8, "invalid ") == 0) {
        auto colon = line.find(": ", 8);
        out[line.substr(8, colon - 8)] = line.substr(colon + 2);
      }
    }
    BOOST_REQUIRE_EQUAL(out.size(), paths.size());
    return out;
  }

  /// The parser's verdict: "" if it takes `text`, else its error.
  static std::string parse(const std::string& text) {
    auto r = config::parse_manifest(text, "m.json");
    if (auto* err = std::get_if<config::config_error>(&r))
      return err->message;
    return "";
  }
};

/// Manifests (comments and trailing commas allowed) that the examples and
/// tests hold: the files of config/examples/ and tests/manifests/, and
/// the "manifest" of each tests/scenarios/ file.
std::vector<std::pair<std::string, json::value>> known_manifests() {
  std::vector<std::pair<std::string, json::value>> out;
  for (auto* folder : {"config/examples", "tests/manifests", "tests/scenarios"})
    for (auto& entry : fs::directory_iterator(source_dir() + "/" + folder)) {
      if (entry.path().extension() != ".json")
        continue;
      auto name = std::string{folder} + "/" + entry.path().filename().string();
      auto v = config::parse_relaxed(read_file(entry.path().string()), name);
      if (std::string{folder} == "tests/scenarios")
        v = v.at("manifest");
      out.emplace_back(name, std::move(v));
    }
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(manifest_schema, schema_fixture)

BOOST_AUTO_TEST_CASE(every_example_and_test_manifest_validates,
                     *utf::timeout(120)) {
  auto manifests = known_manifests();
  BOOST_TEST(manifests.size() > 30u);
  std::vector<std::string> paths;
  std::map<std::string, std::string> names;
  for (auto& [name, v] : manifests) {
    paths.push_back(write(v));
    names[paths.back()] = name;
  }
  for (auto& [path, error] : validate(paths))
    BOOST_CHECK_MESSAGE(error.empty(), names[path] << ": " << error);
}

BOOST_AUTO_TEST_CASE(the_schema_lists_every_key_the_parser_takes_and_no_more) {
  auto s = schema();
  for (auto& obj : config::manifest_objects()) {
    auto pointer = std::string{obj.schema_pointer};
    BOOST_TEST_CONTEXT("schema at \"" << pointer << "\"") {
      json::error_code ec;
      auto* def = s.find_pointer(pointer, ec);
      BOOST_REQUIRE(def != nullptr);
      std::set<std::string> listed;
      for (auto& kv : def->at("properties").as_object())
        listed.emplace(kv.key());
      BOOST_CHECK_EQUAL(joined(listed), joined(strings_of(obj.keys)));
      // Other keys are errors in the parser, so in the schema too.
      BOOST_CHECK(def->at("additionalProperties") == json::value(false));
    }
  }
}

BOOST_AUTO_TEST_CASE(each_target_type_takes_the_keys_the_parser_gives_it) {
  auto s = schema();
  auto& target = s.at_pointer("/$defs/target");
  std::set<std::string> types;
  for (auto& t : target.at_pointer("/properties/type/enum").as_array())
    types.emplace(t.as_string());
  std::set<std::string> parser_types;
  for (auto t :
       {config::target_type::stub, config::target_type::dify_workflow,
        config::target_type::dify_chat, config::target_type::dify_completion,
        config::target_type::http, config::target_type::exec,
        config::target_type::custom}) {
    std::string name = config::target_type_name(t);
    parser_types.insert(name);
    BOOST_TEST_CONTEXT("target type " << name) {
      const json::value* then = nullptr;
      for (auto& branch : target.at("allOf").as_array())
        if (branch.at_pointer("/if/properties/type/const") == json::value(name))
          then = &branch.at("then");
      BOOST_REQUIRE(then != nullptr);
      std::set<std::string> listed;
      for (auto& k : then->at_pointer("/propertyNames/enum").as_array())
        listed.emplace(k.as_string());
      BOOST_CHECK_EQUAL(joined(listed),
                        joined(strings_of(config::target_keys_of(t))));
    }
  }
  BOOST_CHECK_EQUAL(joined(types), joined(parser_types));
}

// One manifest per kind of object, with an unknown key "zz" in an object of
// that kind: both the parser and the schema must refuse each.
BOOST_AUTO_TEST_CASE(an_unknown_key_anywhere_is_refused_by_both,
                     *utf::timeout(120)) {
  using k = config::manifest_object;
  auto base = [](const std::string& target, const std::string& ds,
                 const std::string& extra = "") {
    return R"({"target": )" + target + R"(, "datasets": [)" + ds + "]" + extra
           + "}";
  };
  const std::string stub = R"({"type": "stub"})";
  const std::string ds = R"({"name": "d", "cases": [{"id": "c"}]})";
  std::map<k, std::string> texts{
    {k::manifest, base(stub, ds, R"(, "zz": 1)")},
    {k::target, base(R"({"type": "stub", "zz": 1})", ds)},
    {k::dataset,
     base(stub, R"({"name": "d", "cases": [{"id": "c"}], "zz": 1})")},
    {k::test_case,
     base(stub, R"({"name": "d", "cases": [{"id": "c", "zz": 1}]})")},
    {k::turn, base(stub, R"({"name": "d", "cases": [{"id": "c",
                    "turns": [{"query": "q", "zz": 1}]}]})")},
    {k::expect,
     base(stub,
          R"({"name": "d", "cases": [{"id": "c", "expect": {"zz": 1}}]})")},
    {k::execution_policy, base(stub, ds, R"(, "execution_policy": {"zz": 1})")},
    {k::rate_limit, base(stub, ds,
                         R"(, "execution_policy": {"rate_limit":
               {"requests_per_second": 1, "zz": 1}})")},
    {k::limits,
     base(stub, ds, R"(, "execution_policy": {"limits": {"zz": 1}})")},
    {k::retry_policy, base(stub, ds, R"(, "retry_policy": {"zz": 1})")},
    {k::stub, base(stub, ds, R"(, "stub": {"zz": 1})")},
    {k::stub_event,
     base(stub, ds,
          R"(, "stub": {"events": [{"at_ms": 1, "cancel": true, "zz": 1}]})")},
  };
  std::vector<std::string> paths;
  for (auto& obj : config::manifest_objects()) {
    auto i = texts.find(obj.kind);
    BOOST_REQUIRE_MESSAGE(i != texts.end(), "no manifest for the object at \""
                                              << obj.schema_pointer << "\"");
    BOOST_TEST_CONTEXT(obj.schema_pointer) {
      auto error = parse(i->second);
      BOOST_CHECK_MESSAGE(error.find("zz: unknown key") != std::string::npos,
                          error);
    }
    paths.push_back(write(json::parse(i->second)));
  }
  for (auto& [path, error] : validate(paths))
    BOOST_CHECK_MESSAGE(error.find("'zz'") != std::string::npos,
                        path << ": " << error);
}

// Types, ranges and the rules between keys: the schema agrees with the
// parser on each of these, valid or not.
BOOST_AUTO_TEST_CASE(the_schema_and_the_parser_agree_on_rules_between_keys,
                     *utf::timeout(120)) {
  const std::string ds
    = R"("datasets": [{"name": "d", "cases": [{"id": "c"}]}])";
  const std::string stub = R"("target": {"type": "stub"}, )" + ds;
  const std::string dify
    = R"("target": {"type": "dify-chat", "base_url": "http://h/v1",
                    "api_key_env": "K"}, )"
      + ds;
  struct sample {
    std::string text;
    bool valid;
  };
  const std::vector<sample> samples{
    {"{" + stub + R"(, "$schema": "./config/manifest.schema.json"})", true},
    {"{" + stub + R"(, "$schema": 5})", false},
    {"{" + dify + "}", true},
    {"{" + dify + R"(, "stub": {}})", false},
    {"{" + ds + R"(, "target": {"type": "dify-chat", "base_url": "http://h"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "stub", "base_url": "http://h"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "dify-workflow", "base_url": "h",
                                "api_key_env": "K"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "dify-workflow", "base_url": "http://h",
                                "api_key_env": "1K"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "dify-workflow", "base_url": "http://h",
                                "api_key_env": "K", "auto_generate_name": true}})",
     false},
    {"{" + ds + R"(, "target": {"type": "http", "url": "http://h/{{case_id}}",
                   "method": "post", "success_status": [200, "300-302"],
                   "output_pointer": "/a"}})",
     true},
    {"{" + ds + R"(, "target": {"type": "http", "url": "http://h",
                   "method": "FETCH"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "http", "url": "http://h",
                   "success_status": "200-"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "http", "url": "http://h",
                   "output_pointer": "a"}})",
     false},
    {"{" + ds + R"(, "target": {"type": "exec", "argv": ["sh", "-c", "x"],
                   "pool": 2, "max_response_bytes": 4096}})",
     true},
    {"{" + ds + R"(, "target": {"type": "exec", "argv": []}})", false},
    {"{" + ds + R"(, "target": {"type": "exec", "argv": ["sh", ""]}})", false},
    {"{" + ds + R"(, "target": {"type": "exec", "argv": ["sh"], "pool": 0}})",
     false},
    {"{" + ds + R"(, "target": {"type": "exec", "argv": ["sh"],
                   "url": "http://h"}})",
     false},
    {R"({"target": {"type": "stub"}, "datasets": []})", false},
    {R"({"datasets": [{"name": "d", "cases": [{"id": "c"}]}]})", false},
    {R"({"target": {"type": "stub"}, "datasets": [{"name": "d/e",
         "cases": [{"id": "c"}]}]})",
     false},
    {R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
         "cases": [{"id": "c"}], "file": "x.jsonl"}]})",
     false},
    {R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
         "cases": [{"id": "c", "query": "q", "turns": [{"query": "a"}]}]}]})",
     false},
    {R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
         "cases": [{"id": 7, "expect": {"json": {"/a~1b": 1},
                    "contains": ["x", ""], "max_latency_ms": 5}}]}]})",
     true},
    {R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
         "cases": [{"id": "c", "expect": {"json": {"a": 1}}}]}]})",
     false},
    {"{" + stub + R"(, "execution_policy": {"concurrency": 0}})", false},
    {"{" + stub + R"(, "execution_policy": {"concurrency": 8.0,
                      "timeout_seconds": 0.5, "nodes": ["[::1]:7100"]}})",
     true},
    {"{" + stub + R"(, "execution_policy": {"timeout_seconds": 0}})", false},
    {"{" + stub + R"(, "execution_policy": {"nodes": ["h:70000"]}})", false},
    {"{" + stub + R"(, "execution_policy": {"rate_limit":
                      {"requests_per_second": 1, "requests_per_minute": 1}}})",
     false},
    {"{" + stub + R"(, "execution_policy": {"rate_limit": {"burst": 2}}})",
     false},
    {"{" + stub + R"(, "retry_policy": {"jitter": "some"}})", false},
    {"{" + stub + R"(, "retry_policy": {"backoff_multiplier": 0.5}})", false},
    {"{" + stub + R"(, "stub": {"dataset_behaviors": {"d": ["delay:5ms",
                      "429:retry-after=2", "crash"]}}})",
     true},
    {"{" + stub + R"(, "stub": {"dataset_behaviors": {"d": "delay:5"}}})",
     false},
    {"{" + stub + R"(, "stub": {"dataset_behaviors": {"d": []}}})", false},
    {"{" + stub + R"(, "stub": {"failure_rate": 1.5}})", false},
    {"{" + stub + R"(, "stub": {"events": [{"at_ms": 1, "cancel": true,
                      "set_failure_rate": 0.5}]}})",
     false},
    {"{" + stub + R"(, "stub": {"events": [{"at_ms": 1, "cancel": false}]}})",
     false},
    {"{" + stub + R"(, "stub": {"events": [{"cancel": true}]}})", false},
  };
  std::vector<std::string> paths;
  for (auto& x : samples) {
    auto error = parse(x.text);
    BOOST_CHECK_MESSAGE(error.empty() == x.valid,
                        "the parser says \"" << error << "\" to " << x.text);
    paths.push_back(write(json::parse(x.text)));
  }
  auto verdicts = validate(paths);
  for (size_t i = 0; i < samples.size(); ++i) {
    auto& error = verdicts[paths[i]];
    BOOST_CHECK_MESSAGE(error.empty() == samples[i].valid,
                        "the schema says \"" << error << "\" to "
                                             << samples[i].text);
  }
}

BOOST_AUTO_TEST_SUITE_END()
