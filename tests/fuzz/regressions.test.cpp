// Every input the fuzzers (tests/fuzz/*.fuzz.cpp) found to crash or to break
// an invariant, replayed through the code it broke: each now gives a clear
// error or a sound value. The inputs live in tests/fuzz/regressions/<fuzzer>/,
// where tools/fuzz.sh also replays them.

#include "config/dataset_reader.hpp"
#include "config/manifest.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"

#include <string>

using namespace troupe;

namespace {

/// The path of a saved fuzzer input.
std::string input(const std::string& name) {
  return std::string{TROUPE_SOURCE_DIR} + "/tests/fuzz/regressions/" + name;
}

/// The error that reading the dataset file `path` stops at.
std::string dataset_error(const std::string& path) {
  config::dataset_config ds;
  ds.name = "d";
  ds.file = path;
  config::case_reader reader{ds};
  config::case_config c;
  while (reader.next(c))
    continue;
  BOOST_REQUIRE_MESSAGE(reader.error(), "expected an error");
  return reader.error()->message;
}

std::string manifest_error(const std::string& text) {
  auto m = config::parse_manifest(text, "m.json");
  auto* err = std::get_if<config::config_error>(&m);
  BOOST_REQUIRE_MESSAGE(err != nullptr, "expected an error");
  return err->message;
}

} // namespace

BOOST_AUTO_TEST_SUITE(fuzz_regressions)

// Boost.JSON reads 1e4003 as infinity and writes it back as "Infinity": the
// inputs sent to the service, and the stub's output in the results file,
// were not JSON.
BOOST_AUTO_TEST_CASE(a_dataset_number_beyond_a_double_is_an_error) {
  auto path = input("dataset_jsonl/number-beyond-double.jsonl");
  BOOST_CHECK_EQUAL(dataset_error(path),
                    path
                      + ":2: inputs.n: number out of range (beyond "
                        "+-1.8e308)");
}

BOOST_AUTO_TEST_CASE(a_manifest_number_beyond_a_double_is_an_error) {
  auto text = test::read_file(input("manifest/number-beyond-double.json"));
  BOOST_CHECK_EQUAL(manifest_error(text),
                    "m.json: datasets[0].cases[0].inputs.n: number out of "
                    "range (beyond +-1.8e308)");
  auto stub = std::string{R"({"target": {"type": "stub"},)"}
              + R"("datasets": [{"name": "d", "cases": [{"id": "c"}]}])";
  BOOST_CHECK_EQUAL(
    manifest_error(stub + R"(, "parameters": [{"p": [-1e999]}]})"),
    "m.json: parameters[0].p[0]: number out of range (beyond "
    "+-1.8e308)");
  BOOST_CHECK_EQUAL(
    manifest_error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
      "expect": {"equals": {"x": 2e308}}, "cases": [{"id": "c"}]}]})"),
    "m.json: datasets[0].expect.equals.x: number out of range (beyond "
    "+-1.8e308)");
  BOOST_CHECK_EQUAL(
    manifest_error(R"({"target": {"type": "http", "url": "http://x.test",
      "body": {"n": 1e400}}, "datasets": [{"name": "d",
      "cases": [{"id": "c"}]}]})"),
    "m.json: target.body.n: number out of range (beyond +-1.8e308)");
}

// A CSV file saved as Latin-1 gave inputs and task ids that were not UTF-8,
// so not JSON: the results file's lines, and --resume's ids, broke.
BOOST_AUTO_TEST_CASE(a_csv_file_that_is_not_utf8_is_an_error) {
  auto header = input("dataset_csv/latin1-header.csv");
  BOOST_CHECK_EQUAL(dataset_error(header),
                    header
                      + ":1: column 3 of the header row is not valid UTF-8 "
                        "(save the file as UTF-8)");
  auto field = input("dataset_csv/latin1-field.csv");
  BOOST_CHECK_EQUAL(dataset_error(field),
                    field
                      + ":2: column 2 is not valid UTF-8 (save the file as "
                        "UTF-8)");
}

BOOST_AUTO_TEST_SUITE_END()
