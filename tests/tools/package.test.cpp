// The library as a program outside the tree uses it: `cmake --install` into
// a fresh prefix, then each project under tools/examples/ configured on its
// own with find_package(troupe) (CMAKE_PREFIX_PATH = that prefix), built,
// and run; each example exits 0 only when its run went as it expects.

#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <filesystem>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {

/// The example projects: folders of tools/examples with a CMakeLists.txt.
std::vector<std::string> example_projects() {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator{source_dir() + "/tools/examples"})
    if (fs::is_regular_file(e.path() / "CMakeLists.txt"))
      out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(package)

BOOST_AUTO_TEST_CASE(examples_build_against_the_installed_package,
                     *utf::timeout(900)) {
  temp_dir prefix;
  temp_dir work;
  auto r = run_process({TROUPE_CMAKE_COMMAND, "--install", TROUPE_BUILD_DIR,
                        "--prefix", prefix.path()},
                       60s);
  BOOST_REQUIRE_MESSAGE(r.code == 0, r.out + r.err);
  BOOST_CHECK(
    fs::is_regular_file(prefix.path() + "/include/troupe/troupe.hpp"));
  BOOST_CHECK(fs::is_regular_file(prefix.path()
                                  + "/lib/cmake/troupe/troupe-config.cmake"));
  auto names = example_projects();
  BOOST_REQUIRE_EQUAL(names.size(), 2u);
  for (auto& name : names) {
    BOOST_TEST_CONTEXT(name) {
      auto build = work.path() + "/" + name;
      std::vector<std::string> configure{
        TROUPE_CMAKE_COMMAND,
        "-S",
        source_dir() + "/tools/examples/" + name,
        "-B",
        build,
        "-G",
        TROUPE_CMAKE_GENERATOR,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DCMAKE_CXX_COMPILER=" TROUPE_CXX_COMPILER,
        "-DCMAKE_PREFIX_PATH=" + prefix.path()};
      r = run_process(configure, 120s);
      BOOST_REQUIRE_MESSAGE(r.code == 0, r.out + r.err);
      r = run_process({TROUPE_CMAKE_COMMAND, "--build", build}, 600s);
      BOOST_REQUIRE_MESSAGE(r.code == 0, r.out + r.err);
      r = run_process({build + "/" + name}, 120s, work.path());
      BOOST_CHECK_MESSAGE(r.code == 0, r.out + r.err);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
