#pragma once

// Shared by the libFuzzer harnesses: checks that abort on a broken
// invariant, so that libFuzzer keeps the input as a crash.

#include <boost/json/parse.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace troupe::fuzz {

/// Aborts with `what` (and the offending text) unless `ok`.
inline void require(bool ok, const char* what, std::string_view text = {}) {
  if (ok)
    return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n%.*s\n", what,
               static_cast<int>(text.size()), text.data());
  std::abort();
}

/// Whether `text` is one valid JSON value.
inline bool is_json(std::string_view text) {
  boost::json::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

} // namespace troupe::fuzz
