// `cmake --install build --prefix P` (tools/cmake/troupe-install.cmake):
// the files it puts under P, the installed binary's --version, and the man
// page and bash completion that tools/gen-docs.sh writes from the help,
// checked against the help of the installed binary.

#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using namespace std::chrono_literals;
using namespace troupe::test;
namespace fs = std::filesystem;
namespace utf = boost::unit_test;

namespace {

using flag_set = std::set<std::string>;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

/// Installs the build tree into a fresh prefix.
struct install_fixture {
  temp_dir prefix;

  install_fixture() {
    auto r = run_process({TROUPE_CMAKE_COMMAND, "--install", TROUPE_BUILD_DIR,
                          "--prefix", prefix.path()},
                         60s);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.out + r.err);
  }

  std::string path(const std::string& name) const {
    return prefix.path() + "/" + name;
  }

  /// The installed troupe's output for `argv` (which must exit 0).
  std::string troupe(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), path("bin/troupe"));
    auto r = run_process(argv, 30s);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    return r.out;
  }

  /// Each subcommand that `troupe --help` lists, with the flags of its own
  /// --help ("-h" and "--help" apart).
  std::map<std::string, flag_set> help_flags() const {
    std::map<std::string, flag_set> out;
    std::regex sub_line{"  troupe ([a-z][a-z0-9-]*) .*"};
    std::regex option_line{"  (-[a-zA-Z], ?)?(--[a-z0-9-]+).*"};
    std::smatch m;
    for (auto& line : lines_of(troupe({"--help"}))) {
      if (!std::regex_match(line, m, sub_line))
        continue;
      auto& flags = out[m[1]];
      for (auto& opt : lines_of(troupe({m[1], "--help"}))) {
        std::smatch o;
        if (!std::regex_match(opt, o, option_line))
          continue;
        if (o[1].matched)
          flags.insert(o[1].str().substr(0, 2));
        flags.insert(o[2]);
      }
    }
    return out;
  }

  /// The words the installed completion offers for `words`, the last one
  /// being completed.
  flag_set complete(const std::vector<std::string>& words) const {
    std::string script = "source "
                         + path("share/bash-completion/completions/troupe")
                         + "\nCOMP_WORDS=(";
    for (auto& w : words)
      script += " '" + w + "'";
    script += ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_troupe\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    auto r = run_process({"/usr/bin/env", "bash", "-c", script}, 30s);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    flag_set got;
    for (auto& line : lines_of(r.out))
      if (!line.empty()) // printf's one empty line for no words
        got.insert(line);
    return got;
  }
};

/// A flag as the man page writes it: each dash as \- (a real minus).
std::string roff(const std::string& flag) {
  return std::regex_replace(flag, std::regex{"-"}, "\\-");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(install, install_fixture)

BOOST_AUTO_TEST_CASE(install_puts_the_binary_docs_completion_and_examples,
                     *utf::timeout(60)) {
  auto bin = fs::status(path("bin/troupe"));
  BOOST_CHECK(fs::is_regular_file(bin));
  BOOST_CHECK((bin.permissions() & fs::perms::owner_exec) != fs::perms::none);
  BOOST_CHECK(fs::file_size(path("share/man/man1/troupe.1")) > 0);
  BOOST_CHECK(fs::file_size(path("share/bash-completion/completions/troupe"))
              > 0);
  // Every example, byte for byte, datasets included (manifests name them
  // relative to themselves).
  size_t examples = 0;
  auto source = source_dir() + "/config/examples";
  for (auto& e : fs::recursive_directory_iterator{source}) {
    if (!e.is_regular_file())
      continue;
    auto name = fs::relative(e.path(), source).string();
    BOOST_CHECK_MESSAGE(
      fs::is_regular_file(path("share/troupe/examples/" + name))
        && read_file(path("share/troupe/examples/" + name))
             == read_file(e.path().string()),
      name);
    ++examples;
  }
  BOOST_CHECK_GE(examples, 10u);
  // The manifest's schema, for editors.
  BOOST_CHECK(read_file(path("share/troupe/manifest.schema.json"))
              == read_file(source_dir() + "/config/manifest.schema.json"));
  size_t installed = 0;
  for (auto& e :
       fs::recursive_directory_iterator{path("share/troupe/examples")})
    installed += e.is_regular_file() ? 1 : 0;
  BOOST_CHECK_EQUAL(installed, examples);
}

BOOST_AUTO_TEST_CASE(installed_binary_prints_its_and_its_libraries_versions,
                     *utf::timeout(60)) {
  std::regex format{"troupe " TROUPE_PROJECT_VERSION
                    " \\(CAF [0-9]+\\.[0-9]+\\.[0-9]+, Boost "
                    "[0-9]+\\.[0-9]+(\\.[0-9]+)?, libcurl "
                    "[0-9]+\\.[0-9]+\\.[0-9]+\\)\n"};
  auto text = troupe({"--version"});
  BOOST_CHECK_MESSAGE(std::regex_match(text, format), text);
  BOOST_CHECK_EQUAL(troupe({"version"}), text);
  // No RPATH into the build tree (or anywhere): CAF and the rest are
  // system libraries.
  auto elf
    = run_process({"/usr/bin/env", "readelf", "-d", path("bin/troupe")}, 30s);
  BOOST_REQUIRE_EQUAL(elf.code, 0);
  BOOST_CHECK_NE(elf.out.find("(NEEDED)"), std::string::npos);
  BOOST_CHECK_EQUAL(elf.out.find("PATH)"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(man_page_has_every_subcommand_and_flag_of_the_help,
                     *utf::timeout(60)) {
  auto page = read_file(path("share/man/man1/troupe.1"));
  BOOST_CHECK_EQUAL(page.rfind(".TH TROUPE 1 ", 0), 0u);
  auto subs = help_flags();
  BOOST_REQUIRE_GE(subs.size(), 6u); // run validate report diff node fake-dify
  for (auto& [sub, flags] : subs) {
    // The subcommand's section: from its heading to the next one.
    auto begin = page.find(".SS \"troupe " + sub + " ");
    BOOST_REQUIRE_MESSAGE(begin != std::string::npos, sub);
    auto end = page.find("\n.S", begin + 1);
    auto section = page.substr(begin, end - begin);
    BOOST_CHECK_GE(flags.size(), 2u);
    for (auto& flag : flags) {
      // An entry of its own: "\fB\-\-out\fR \fIFILE\fR", "\fB\-h, \-\-help".
      auto entry = section.find("\\fB" + roff(flag) + "\\fR") != section.npos
                   || section.find(roff(flag) + ", ") != section.npos
                   || section.find(", " + roff(flag) + "\\fR") != section.npos;
      BOOST_CHECK_MESSAGE(entry, sub + " " + flag);
    }
  }
  BOOST_CHECK_NE(page.find(".SH EXIT STATUS"), std::string::npos);
  BOOST_CHECK_NE(page.find("130 cancelled"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(completion_offers_every_subcommand_and_flag_of_the_help,
                     *utf::timeout(60)) {
  auto subs = help_flags();
  flag_set top{"--help", "--version"};
  for (auto& [sub, flags] : subs)
    top.insert(sub);
  BOOST_CHECK(complete({"troupe", ""}) == top);
  for (auto& [sub, flags] : subs)
    BOOST_CHECK_MESSAGE(complete({"troupe", sub, "-"}) == flags, sub);
  // Values: a fixed set, a file, free text.
  BOOST_CHECK(complete({"troupe", "run", "m.json", "--progress", "a"})
              == (flag_set{"always", "auto"}));
  auto examples = path("share/troupe/examples/stub-smoke");
  BOOST_CHECK(complete({"troupe", "run", "--out", examples})
              == (flag_set{examples + "-cases.jsonl", examples + ".json"}));
  BOOST_CHECK(complete({"troupe", "run", "--concurrency", ""}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
