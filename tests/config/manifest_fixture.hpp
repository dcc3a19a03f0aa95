#pragma once

// The manifest suite's fixture: loads manifest text from a temp folder and
// gives its structs or its error, the folder written as "DIR".

#include "config/manifest.hpp"

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

#include <string>
#include <variant>

namespace troupe::test {

/// Loads manifests written to a temp folder.
struct manifest_fixture {
  temp_dir dir;

  config::result<config::manifest> load(const std::string& text) {
    return config::load_manifest(dir.write("m.json", text));
  }

  config::manifest ok(const std::string& text) {
    auto r = load(text);
    if (auto* err = std::get_if<config::config_error>(&r))
      BOOST_FAIL("unexpected error: " + err->message);
    return std::get<config::manifest>(std::move(r));
  }

  /// The error message, with the temp folder replaced by "DIR".
  std::string error(const std::string& text) {
    auto r = load(text);
    auto* err = std::get_if<config::config_error>(&r);
    BOOST_REQUIRE_MESSAGE(err != nullptr, "expected an error");
    auto msg = err->message;
    for (size_t pos; (pos = msg.find(dir.path())) != std::string::npos;)
      msg.replace(pos, dir.path().size(), "DIR");
    return msg;
  }

  /// A minimal valid manifest with `extra` keys spliced in at the top.
  static std::string with(const std::string& extra) {
    return R"({"target": {"type": "stub"},
               "datasets": [{"name": "d", "cases": [{"id": "c1"}]}])"
           + (extra.empty() ? std::string{} : ", " + extra) + "}";
  }
};

} // namespace troupe::test
