// Temporary folders for tests.

#include "tests/support/temp_dir.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace troupe::test {

temp_dir::temp_dir() {
  auto base = std::filesystem::temp_directory_path() / "troupe-test-XXXXXX";
  std::string templ = base.string();
  BOOST_REQUIRE(::mkdtemp(templ.data()) != nullptr);
  path_ = templ;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::file(const std::string& name) const {
  return path_ + "/" + name;
}

std::string temp_dir::write(const std::string& name,
                            const std::string& text) const {
  auto p = file(name);
  std::ofstream out{p, std::ios::binary};
  out << text;
  BOOST_REQUIRE(out.good());
  return p;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace troupe::test
