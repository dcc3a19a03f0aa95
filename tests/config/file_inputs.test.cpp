// File inputs in manifests: their shape, the checks before the run (exit 2
// for a missing, unreadable or oversized file), and each task's list.

#include "config/file_inputs.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/config/manifest_fixture.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

using namespace troupe;
using namespace troupe::test;

namespace {

// A Dify workflow manifest with one dataset of `cases` and `target_extra`.
std::string dify_with(const std::string& cases,
                      const std::string& target_extra = "") {
  return R"({"target": {"type": "dify-workflow", "api_key_env": "K",
             "base_url": "http://127.0.0.1:1/v1")"
         + (target_extra.empty() ? "" : ", " + target_extra)
         + R"(}, "datasets": [{"name": "d", "cases": )" + cases + "}]}";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(file_inputs, manifest_fixture)

BOOST_AUTO_TEST_CASE(types_follow_difys_extension_lists) {
  BOOST_CHECK_EQUAL(config::dify_file_type("docs/a.PDF"), "document");
  BOOST_CHECK_EQUAL(config::dify_file_type("a.md"), "document");
  BOOST_CHECK_EQUAL(config::dify_file_type("x/y.jpeg"), "image");
  BOOST_CHECK_EQUAL(config::dify_file_type("a.webm"), "video");
  BOOST_CHECK_EQUAL(config::dify_file_type("a.m4a"), "audio");
  // The default ETL does not read .pptx: Dify counts it as custom.
  BOOST_CHECK_EQUAL(config::dify_file_type("a.pptx"), "custom");
  BOOST_CHECK_EQUAL(config::dify_file_type("Makefile"), "custom");
  BOOST_CHECK_EQUAL(config::dify_file_type("dir.v2/notes"), "custom");
  BOOST_CHECK_EQUAL(config::dify_upload_limit("document"), 15u << 20);
  BOOST_CHECK_EQUAL(config::dify_upload_limit("image"), 10u << 20);
  BOOST_CHECK_EQUAL(config::dify_upload_limit("audio"), 50u << 20);
  BOOST_CHECK_EQUAL(config::dify_upload_limit("video"), 100u << 20);
  BOOST_CHECK_EQUAL(config::dify_upload_limit("custom"), 15u << 20);
}

BOOST_AUTO_TEST_CASE(files_are_checked_once_and_carried_by_each_task) {
  std::filesystem::create_directory(dir.file("docs"));
  dir.write("docs/a.txt", "hello");
  dir.write("b.png", "png!");
  auto m = ok(dify_with(R"([
    {"id": "c1", "inputs": {"doc": {"file": "docs/a.txt"}, "n": 1}},
    {"id": "c2", "inputs": {"doc": {"file": "docs/a.txt", "type": "custom"},
                            "pics": [{"file": "b.png"},
                                     {"transfer_method": "remote_url",
                                      "url": "https://x/y.png"}]}},
    {"id": "c3", "inputs": {"text": "no files"}}])"));
  BOOST_REQUIRE_EQUAL(m.input_files.size(), 2u);
  auto& a = m.input_files.at("docs/a.txt");
  BOOST_CHECK_EQUAL(a.path, dir.path() + "/docs/a.txt");
  BOOST_CHECK_EQUAL(a.type, "document");
  BOOST_CHECK_EQUAL(a.size, 5u);
  // sha256("hello")
  BOOST_CHECK_EQUAL(
    a.hash, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  auto c1 = config::task_files(R"({"doc":{"file":"docs/a.txt"},"n":1})", m);
  BOOST_REQUIRE_EQUAL(c1.size(), 1u);
  BOOST_CHECK_EQUAL(c1[0].input, "doc");
  BOOST_CHECK_EQUAL(c1[0].index, -1);
  BOOST_CHECK_EQUAL(c1[0].path, a.path);
  BOOST_CHECK_EQUAL(c1[0].type, "document");
  BOOST_CHECK_EQUAL(c1[0].hash, a.hash);
  auto c2 = config::task_files(
    R"({"doc":{"file":"docs/a.txt","type":"custom"},"pics":[{"file":"b.png"},)"
    R"({"transfer_method":"remote_url","url":"https://x/y.png"}]})",
    m);
  BOOST_REQUIRE_EQUAL(c2.size(), 2u);
  BOOST_CHECK_EQUAL(c2[0].type, "custom"); // the input's "type" wins
  BOOST_CHECK_EQUAL(c2[1].input, "pics");
  BOOST_CHECK_EQUAL(c2[1].index, 0);
  BOOST_CHECK_EQUAL(c2[1].type, "image");
  BOOST_CHECK(config::task_files(R"({"text":"no files"})", m).empty());
}

BOOST_AUTO_TEST_CASE(a_missing_file_names_the_case_and_the_path) {
  BOOST_CHECK_EQUAL(
    error(
      dify_with(R"([{"id": "c1", "inputs": {"doc": {"file": "no.pdf"}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.doc.file: cannot open "
    "\"no.pdf\" (DIR/no.pdf): No such file or directory; expected a readable "
    "file, relative to the manifest's folder");
  // In a dataset file: its name and line.
  dir.write("cases.jsonl", "{\"id\": \"ok\"}\n\n"
                           "{\"id\": \"c2\", \"inputs\": {\"l\": "
                           "[{\"file\": \"gone.txt\"}]}}\n");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "dify-chat", "api_key_env": "K",
               "base_url": "http://127.0.0.1:1/v1"},
              "datasets": [{"name": "d", "file": "cases.jsonl"}]})"),
    "DIR/cases.jsonl:3: inputs.l[0].file: cannot open \"gone.txt\" "
    "(DIR/gone.txt): No such file or directory; expected a readable file, "
    "relative to the manifest's folder");
}

BOOST_AUTO_TEST_CASE(an_unreadable_file_or_a_folder_is_refused) {
  std::filesystem::create_directory(dir.file("sub"));
  BOOST_CHECK_EQUAL(
    error(dify_with(R"([{"id": "c", "inputs": {"d": {"file": "sub"}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.d.file: \"sub\" (DIR/sub) is "
    "not a regular file; expected a readable file, relative to the "
    "manifest's folder");
  if (::geteuid() == 0)
    return; // root reads anything
  auto locked = dir.write("locked.txt", "secret");
  ::chmod(locked.c_str(), 0);
  BOOST_CHECK_EQUAL(
    error(
      dify_with(R"([{"id": "c", "inputs": {"d": {"file": "locked.txt"}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.d.file: cannot read "
    "\"locked.txt\" (DIR/locked.txt): Permission denied; expected a "
    "readable file, relative to the manifest's folder");
}

BOOST_AUTO_TEST_CASE(a_file_over_its_limit_is_refused) {
  dir.write("big.txt", std::string(101, 'x'));
  dir.write("small.txt", std::string(100, 'x'));
  auto cases = R"([{"id": "c", "inputs": {"a": {"file": "small.txt"},
                                         "b": {"file": "big.txt"}}}])";
  BOOST_CHECK_EQUAL(
    error(dify_with(cases, R"("max_upload_bytes": 100)")),
    "DIR/m.json: datasets[0].cases[0].inputs.b.file: \"big.txt\" "
    "(DIR/big.txt) is 101 bytes, over the upload limit of 100 bytes for "
    "target.max_upload_bytes; expected a smaller file, or a larger "
    "target.max_upload_bytes if the server takes it");
  // Dify's default for an image: 10 MiB.
  dir.write("huge.png", std::string((10u << 20) + 1, 'p'));
  BOOST_CHECK_EQUAL(
    error(dify_with(R"([{"id": "c", "inputs": {"p": {"file": "huge.png"}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.p.file: \"huge.png\" "
    "(DIR/huge.png) is 10485761 bytes, over the upload limit of 10485760 "
    "bytes for a image (Dify's default); expected a smaller file, or a "
    "larger target.max_upload_bytes if the server takes it");
}

BOOST_AUTO_TEST_CASE(a_reference_of_the_wrong_shape_is_refused) {
  dir.write("a.txt", "a");
  BOOST_CHECK_EQUAL(
    error(dify_with(R"([{"id": "c", "inputs": {"d": {"file": 3}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.d.file: must be a string, got 3");
  BOOST_CHECK_EQUAL(
    error(dify_with(R"([{"id": "c", "inputs": {"d": {"file": ""}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.d.file: must be a non-empty "
    "string, got \"\"");
  BOOST_CHECK_EQUAL(
    error(dify_with(
      R"([{"id": "c", "inputs": {"d": [{"file": "a.txt", "url": "x"}]}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.d[0].url: unknown key "
    "(expected one of: file, type)");
  BOOST_CHECK_EQUAL(
    error(dify_with(
      R"([{"id": "c", "inputs": {"d": {"file": "a.txt", "type": "pdf"}}}])")),
    "DIR/m.json: datasets[0].cases[0].inputs.d.type: must be \"document\", "
    "\"image\", \"audio\", \"video\" or \"custom\", got \"pdf\"");
}

BOOST_AUTO_TEST_CASE(only_dify_targets_read_file_inputs) {
  // For a stub, {"file": ...} is plain data: no file is looked for.
  auto m = ok(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
                  "cases": [{"id": "c", "inputs": {"f": {"file": "no"}}}]}]})");
  BOOST_CHECK(m.input_files.empty());
  BOOST_CHECK(config::task_files(R"({"f":{"file":"no"}})", m).empty());
}

BOOST_AUTO_TEST_SUITE_END()
