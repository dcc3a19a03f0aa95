// The text form of a stub behaviour: "success", "delay:250ms",
// "429:retry-after=3", ...

#include "config/stub_behavior.hpp"

#include <cerrno>
#include <cstdlib>

namespace troupe::config {

namespace {

// Parses a non-negative decimal number followed by a unit suffix into
// microseconds: "250ms", "1.5s", "3" (seconds when unit is empty).
bool parse_duration(const std::string& text, const char* default_unit,
                    int64_t& out) {
  if (text.empty())
    return false;
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || errno != 0 || !(value >= 0) || value > 1e9)
    return false;
  std::string unit{end};
  if (unit.empty())
    unit = default_unit;
  double scale;
  if (unit == "ms")
    scale = 1e3;
  else if (unit == "s")
    scale = 1e6;
  else if (unit == "us")
    scale = 1;
  else
    return false;
  out = static_cast<int64_t>(value * scale + 0.5);
  return true;
}

} // namespace

bool parse_stub_behavior(const std::string& text, stub_behavior& out) {
  stub_behavior result;
  if (text == "success")
    result.action = stub_action::success;
  else if (text == "failure")
    result.action = stub_action::failure;
  else if (text == "fatal")
    result.action = stub_action::fatal;
  else if (text == "timeout")
    result.action = stub_action::timeout;
  else if (text == "error")
    result.action = stub_action::error;
  else if (text == "429")
    result.action = stub_action::throttle;
  else if (text == "auth")
    result.action = stub_action::auth;
  else if (text == "crash")
    result.action = stub_action::crash;
  else if (text.compare(0, 6, "delay:") == 0) {
    result.action = stub_action::success;
    if (!parse_duration(text.substr(6), "", result.delay_us))
      return false;
  } else if (text.compare(0, 16, "429:retry-after=") == 0) {
    result.action = stub_action::throttle;
    if (!parse_duration(text.substr(16), "s", result.retry_after_us))
      return false;
  } else {
    return false;
  }
  out = result;
  return true;
}

} // namespace troupe::config
