#pragma once

// Catches what config/'s checkers throw, for tests of their messages.

#include "config/json_checks.hpp"

#include <functional>
#include <string>

namespace troupe::test {

/// The message of the check_failure `f` throws, or "" if none.
inline std::string failure_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const config::check_failure& e) {
    return e.what();
  }
  return "";
}

} // namespace troupe::test
