// An exec target's keys, its command found (or not) when the manifest is
// loaded, and the pool size a run uses.

#include "config/target.hpp"

#include "tests/config/manifest_fixture.hpp"
#include <sys/stat.h>

#include <thread>

using namespace troupe;
using namespace troupe::config;
using troupe::test::manifest_fixture;

namespace {

std::string exec_manifest(const std::string& target_keys) {
  return R"({"target": {"type": "exec", )" + target_keys + R"(},
             "datasets": [{"name": "d", "cases": [{"id": "c"}]}]})";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(manifest, manifest_fixture)

BOOST_AUTO_TEST_CASE(an_exec_target_keeps_argv_pool_and_the_manifest_folder) {
  auto m = ok(exec_manifest(R"("argv": ["sh", "-c", "cat"], "pool": 3)"));
  BOOST_CHECK(m.target.type == target_type::exec);
  BOOST_CHECK_EQUAL(target_type_name(m.target.type), "exec");
  BOOST_REQUIRE_EQUAL(m.target.argv.size(), 3u);
  BOOST_CHECK_EQUAL(m.target.argv[2], "cat");
  BOOST_CHECK_EQUAL(m.target.pool, 3u);
  BOOST_CHECK_EQUAL(m.target.working_dir, dir.path());
  BOOST_CHECK(!is_http_target(m.target.type));
  // A script next to the manifest, named by a relative path.
  auto script = dir.write("judge.sh", "#!/bin/sh\necho '{}'\n");
  ::chmod(script.c_str(), 0755);
  auto j = ok(exec_manifest(R"("argv": ["./judge.sh"])"));
  BOOST_CHECK_EQUAL(j.target.pool, 0u);
}

BOOST_AUTO_TEST_CASE(exec_target_errors_name_their_json_path) {
  BOOST_CHECK_EQUAL(error(exec_manifest(R"("pool": 2)")),
                    "DIR/m.json: target.argv: missing key");
  BOOST_CHECK_EQUAL(
    error(exec_manifest(R"("argv": [])")),
    "DIR/m.json: target.argv: must hold the command and its "
    "arguments, at least one non-empty string, got an array []");
  BOOST_CHECK_EQUAL(error(exec_manifest(R"("argv": "python3 judge.py")")),
                    "DIR/m.json: target.argv: must be an array, got "
                    "\"python3 judge.py\"");
  BOOST_CHECK_EQUAL(error(exec_manifest(R"("argv": ["sh", 5])")),
                    "DIR/m.json: target.argv[1]: must be a string, got 5");
  BOOST_CHECK_EQUAL(
    error(exec_manifest(R"("argv": ["sh", ""])")),
    "DIR/m.json: target.argv[1]: must be a non-empty string, got "
    "\"\"");
  BOOST_CHECK_EQUAL(error(exec_manifest(R"("argv": ["sh"], "pool": 0)")),
                    "DIR/m.json: target.pool: must be an integer from 1 "
                    "to 10000, got 0");
  BOOST_CHECK_EQUAL(
    error(exec_manifest(R"("argv": ["sh"], "url": "http://x")")),
    "DIR/m.json: target.url: is not used by a \"exec\" target");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub", "pool": 2},
                              "datasets": []})"),
                    "DIR/m.json: target.pool: is not used by a \"stub\" "
                    "target");
}

BOOST_AUTO_TEST_CASE(an_exec_command_that_cannot_run_is_refused_at_load) {
  auto msg = error(exec_manifest(R"("argv": ["no-such-troupe-judge"])"));
  BOOST_CHECK_MESSAGE(
    msg.rfind("DIR/m.json: target.argv[0]: \"no-such-troupe-judge\" is not "
              "an executable file on PATH (",
              0)
      == 0,
    msg);
  BOOST_CHECK_EQUAL(error(exec_manifest(R"("argv": ["./judge.py"])")),
                    "DIR/m.json: target.argv[0]: \"./judge.py\" cannot be "
                    "run: DIR/./judge.py: No such file or directory");
  dir.write("judge.py", "print('{}')\n"); // not executable
  BOOST_CHECK_EQUAL(error(exec_manifest(R"("argv": ["./judge.py"])")),
                    "DIR/m.json: target.argv[0]: \"./judge.py\" cannot be "
                    "run: DIR/./judge.py: not executable");
}

BOOST_AUTO_TEST_CASE(the_default_pool_is_the_concurrency_capped_at_the_cores) {
  target_config t;
  t.type = target_type::exec;
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  BOOST_CHECK_EQUAL(exec_pool_size(t, 1), 1u);
  BOOST_CHECK_EQUAL(exec_pool_size(t, 100000), cores);
  t.pool = 8;
  BOOST_CHECK_EQUAL(exec_pool_size(t, 2), 8u);
}

BOOST_AUTO_TEST_SUITE_END()
