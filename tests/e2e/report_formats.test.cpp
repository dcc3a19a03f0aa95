// The files `troupe report` writes for other tools, checked by those tools'
// schemas: JUnit XML against tests/schemas/junit.xsd (xmllint), and the
// summary JSON of `run --summary-json` and `report --summary-json` against
// docs/summary.schema.json (python3-jsonschema). tools/setup.sh installs
// both checkers.

#include "actors/results/result_line.hpp"
#include "runtime/junit_report.hpp"
#include "runtime/report.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/text.hpp"
#include <unistd.h>

#include <cstdlib>
#include <set>

using namespace std::chrono_literals;
using namespace troupe;
using namespace troupe::test;
namespace utf = boost::unit_test;
namespace json = boost::json;

namespace {

/// `name` found on PATH, or "" (posix_spawn does not search PATH).
std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  for (size_t at = 0; at <= dirs.size();) {
    auto end = std::min(dirs.find(':', at), dirs.size());
    auto candidate = dirs.substr(at, end - at) + "/" + name;
    if (end > at && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    at = end + 1;
  }
  return {};
}

std::string schema_path(const std::string& rel) {
  return source_dir() + "/" + rel;
}

task_result result(const std::string& task_id, task_status status,
                   int64_t latency_us, const std::string& error = "") {
  task_result r;
  r.task_id = task_id;
  r.dataset = task_id.substr(0, task_id.find('/'));
  r.case_id = task_id.substr(r.dataset.size() + 1, 1);
  r.params_json = "{}";
  r.status = status;
  r.finished_us = 1'000'000;
  r.latency_us = latency_us;
  r.error = error;
  if (latency_us >= 0) {
    r.started_us = r.finished_us - latency_us;
    r.attempt_log.push_back(
      {status, r.started_us, latency_us, error, 0, false, ""});
  }
  return r;
}

// A stub run with a failed check, a fatal failure, a throttled retry under
// adaptive concurrency and a scripted cancel: every key of the summary but
// `cached`, which a second run over the same cache adds.
constexpr const char* schema_manifest = R"({
  "name": "schema", "target": {"type": "stub"},
  "datasets": [{"name": "d", "cases": [
    {"id": "ok", "inputs": {"text": "t1"}},
    {"id": "check", "inputs": {"text": "t2"},
     "expect": {"contains": "not in the output"}},
    {"id": "fatal", "inputs": {"text": "t3"}},
    {"id": "throttled", "inputs": {"text": "t4"}},
    {"id": "w1", "inputs": {"text": "t5"}},
    {"id": "w2", "inputs": {"text": "t6"}},
    {"id": "w3", "inputs": {"text": "t7"}}]}],
  "execution_policy": {"concurrency": 1, "adaptive": true},
  "retry_policy": {"max_attempts": 3, "backoff_seconds": 0.1},
  "stub": {"simulated_delay_seconds": 0.01,
    "task_behaviors": {"d/fatal#0": "fatal",
      "d/throttled#0": ["429", "success"], "d/w1#0": "delay:1000ms",
      "d/w2#0": "delay:1000ms", "d/w3#0": "delay:1000ms"},
    "events": [{"at_ms": 1500, "cancel": true}]}})";

// Validates JSON files against a draft 2020-12 schema; exit 3 when
// python3-jsonschema is not installed.
constexpr const char* validate_json = R"(import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(3)
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
bad = 0
for path in sys.argv[2:]:
    for e in validator.iter_errors(json.load(open(path))):
        print(path, "/" + "/".join(map(str, e.absolute_path)), e.message)
        bad = 1
sys.exit(bad)
)";

/// The schema object that describes `key` of the object `schema` describes
/// (following a local "$ref"), or null.
const json::object* property_schema(const json::object& root,
                                    const json::object& schema,
                                    const std::string& key) {
  auto* props = schema.if_contains("properties");
  if (props == nullptr || !props->as_object().contains(key))
    return nullptr;
  auto* sub = &props->as_object().at(key).as_object();
  if (auto* ref = sub->if_contains("$ref")) {
    auto name = std::string{ref->as_string()};
    name = name.substr(name.rfind('/') + 1);
    sub = &root.at("$defs").at(name).as_object();
  }
  return sub;
}

/// Every key of `value`, at any depth, that `schema` does not describe
/// ("counts.X", "failures[].example.Y").
void undescribed_keys(const json::object& root, const json::object& schema,
                      const json::value& value, const std::string& at,
                      std::set<std::string>& out) {
  if (value.is_array()) {
    if (auto* items = schema.if_contains("items"))
      for (auto& v : value.as_array())
        undescribed_keys(root, items->as_object(), v, at + "[]", out);
    return;
  }
  if (!value.is_object())
    return;
  for (auto& kv : value.as_object()) {
    auto key = std::string{kv.key()};
    auto name = at.empty() ? key : at + "." + key;
    if (auto* sub = property_schema(root, schema, key))
      undescribed_keys(root, *sub, kv.value(), name, out);
    else
      out.insert(name);
  }
}

struct formats_fixture {
  temp_dir dir;

  process_result troupe(std::vector<std::string> args,
                        std::chrono::milliseconds limit = 60s) {
    args.insert(args.begin(), troupe_binary());
    child_process child{args, dir.path()};
    return child.wait(limit);
  }

  /// xmllint's verdict on `xml` against tests/schemas/junit.xsd.
  process_result xmllint(const std::string& xml) {
    auto program = find_program("xmllint");
    BOOST_REQUIRE_MESSAGE(!program.empty(),
                          "xmllint not found: install libxml2-utils "
                          "(tools/setup.sh)");
    child_process child{{program, "--noout", "--schema",
                         schema_path("tests/schemas/junit.xsd"), xml},
                        dir.path()};
    return child.wait(30s);
  }

  /// A results file with every status, a failed check, markup and
  /// characters XML 1.0 forbids.
  std::string tricky_results() {
    header_info h;
    h.manifest_hash = "sha256:00";
    h.version = "0.1.0";
    h.started_at_us = report_epoch_us;
    h.name = "run <&\"'>\x01";
    h.target = "stub";
    h.tasks = 6;
    auto text = encode_header(h);
    auto check = result("a/c#0", task_status::succeeded, 1'500);
    check.assertions = {{"regex", false, "no <match> for \"x\"\x02"}};
    std::vector<task_result> all{
      result("a/o#0", task_status::succeeded, 250'000),
      check,
      result("a/f#0", task_status::failed, 1'000, "bad <&\"'>\x1f\xEF\xBF\xBF"),
      result("b/t#0", task_status::timeout, 500'000, "too slow\r\n"),
      result("b/e#0", task_status::error, 2'000, "reset\x0b"),
      result("b/x#0", task_status::cancelled, -1, "cancelled")};
    for (auto& r : all)
      append_result_line(text, r, report_epoch_us);
    return dir.write("tricky.jsonl", text);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(report_formats, formats_fixture)

BOOST_AUTO_TEST_CASE(junit_html_and_summary_json_come_from_one_call,
                     *utf::timeout(60)) {
  auto results = tricky_results();
  auto r = troupe({"report", results, "--junit", "j.xml", "--html", "r.html",
                   "--summary-json", "s.json"});
  // Exit codes as before: 0 once the file was read, failed tasks or not.
  BOOST_CHECK_EQUAL(r.code, 0);
  BOOST_CHECK_NE(r.out.find("  html report: r.html\n"
                            "  summary json: s.json\n"
                            "  junit xml: j.xml\n"),
                 std::string::npos);
  // The XML is what the tested builder makes of the file.
  runtime::junit_builder junit;
  auto built = runtime::build_report(
    results, [&junit](const task_result& x) { junit.add(x); });
  BOOST_REQUIRE(std::holds_alternative<runtime::report_data>(built));
  BOOST_CHECK_EQUAL(
    read_file(dir.file("j.xml")),
    junit.finish(std::get<runtime::report_data>(built).header.name));
  BOOST_CHECK_NE(read_file(dir.file("r.html")).find("<svg"), std::string::npos);
  // --summary-json holds what --json prints.
  auto printed = troupe({"report", results, "--json"});
  BOOST_CHECK_EQUAL(read_file(dir.file("s.json")), printed.out);
  auto s = json::parse(printed.out).as_object();
  BOOST_CHECK_EQUAL(s.at("counts").at("CANCELLED").as_int64(), 1);
}

BOOST_AUTO_TEST_CASE(junit_xml_validates_against_the_junit_schema,
                     *utf::timeout(120)) {
  auto results = tricky_results();
  BOOST_REQUIRE_EQUAL(troupe({"report", results, "--junit", "j.xml"}).code, 0);
  auto v = xmllint(dir.file("j.xml"));
  BOOST_CHECK_MESSAGE(v.code == 0, v.err);
  // A real run's file too, with retries and a cancelled task.
  dir.write("m.json", schema_manifest);
  auto run = troupe({"run", "m.json", "--out", "a.jsonl", "--virtual-time",
                     "--progress", "never"});
  BOOST_REQUIRE_EQUAL(run.code, 130);
  BOOST_REQUIRE_EQUAL(troupe({"report", "a.jsonl", "--junit", "a.xml"}).code,
                      0);
  v = xmllint(dir.file("a.xml"));
  BOOST_CHECK_MESSAGE(v.code == 0, v.err);
  // The check has teeth: a testsuite without `errors` is refused.
  auto text = read_file(dir.file("a.xml"));
  auto at = text.find(" errors=\"0\" skipped=");
  BOOST_REQUIRE_NE(at, std::string::npos);
  dir.write("bad.xml", text.erase(at, 11));
  v = xmllint(dir.file("bad.xml"));
  BOOST_CHECK_NE(v.code, 0);
  BOOST_CHECK_NE(v.err.find("'errors' is required"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(summary_json_validates_against_its_schema,
                     *utf::timeout(120)) {
  dir.write("m.json", schema_manifest);
  auto a
    = troupe({"run", "m.json", "--out", "a.jsonl", "--virtual-time", "--cache",
              "cache", "--summary-json", "a.json", "--progress", "never"});
  BOOST_REQUIRE_EQUAL(a.code, 130);
  auto b
    = troupe({"run", "m.json", "--out", "b.jsonl", "--virtual-time", "--cache",
              "cache", "--summary-json", "b.json", "--progress", "never"});
  BOOST_REQUIRE_EQUAL(b.code, 1);
  BOOST_REQUIRE_EQUAL(
    troupe({"report", "a.jsonl", "--summary-json", "r.json"}).code, 0);
  // Between them the outputs hold every key the schema lists.
  auto first = json::parse(read_file(dir.file("a.json"))).as_object();
  auto second = json::parse(read_file(dir.file("b.json"))).as_object();
  BOOST_CHECK(first.contains("adaptive_concurrency"));
  BOOST_CHECK(first.at("reason").is_string());
  BOOST_CHECK(!first.at("failures").as_array().empty());
  BOOST_CHECK(!first.at("assertion_failures").as_array().empty());
  BOOST_CHECK(second.contains("cached"));
  BOOST_CHECK(second.at("reason").is_null());
  auto schema_file = schema_path("docs/summary.schema.json");
  auto schema = json::parse(read_file(schema_file)).as_object();
  // Every key written is described, whatever python3 has.
  for (auto* out : {&first, &second}) {
    std::set<std::string> extra;
    undescribed_keys(schema, schema, *out, "", extra);
    for (auto& key : extra)
      BOOST_ERROR("not in docs/summary.schema.json: " << key);
  }
  // Debian's python3, with the python3-jsonschema that setup.sh installs
  // (another python3 on PATH may lack it, or hold another version).
  std::string python = "/usr/bin/python3";
  child_process check{{python, "-c", validate_json, schema_file,
                       dir.file("a.json"), dir.file("b.json"),
                       dir.file("r.json")},
                      dir.path()};
  auto v = check.wait(60s);
  BOOST_REQUIRE_MESSAGE(v.code != 3, "python3-jsonschema is not installed "
                                     "(tools/setup.sh)");
  BOOST_CHECK_MESSAGE(v.code == 0, v.out + v.err);
}

BOOST_AUTO_TEST_CASE(an_unwritable_junit_file_is_exit_2_naming_it,
                     *utf::timeout(60)) {
  auto results = tricky_results();
  auto target = dir.file("no/such/dir/j.xml");
  auto r = troupe({"report", results, "--junit", target});
  BOOST_CHECK_EQUAL(r.code, 2);
  BOOST_CHECK_EQUAL(r.err, "troupe: " + target
                             + ": cannot write the JUnit XML (No such file "
                               "or directory)\n");
}

BOOST_AUTO_TEST_CASE(no_output_overwrites_the_results_file, *utf::timeout(60)) {
  auto results = tricky_results();
  auto before = read_file(results);
  for (auto* flag : {"--junit", "--html", "--summary-json"}) {
    auto r = troupe({"report", results, flag, "./tricky.jsonl"});
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_EQUAL(r.err, "troupe: ./tricky.jsonl: this is the results "
                             "file; report never overwrites it (choose "
                             "another file)\n");
  }
  BOOST_CHECK_EQUAL(read_file(results), before);
}

BOOST_AUTO_TEST_SUITE_END()
