// The checks behind the troupe command's options: each throws a usage error
// worded as product.md shows it ("--workers: must be an integer from ...").

#include "tools/troupe/cli_parts.hpp"

#include <cerrno>
#include <cstdlib>

namespace troupe::cli {

std::optional<uint64_t> integer_in(const std::string& value, uint64_t lo,
                                   uint64_t hi) {
  errno = 0;
  char* end = nullptr;
  auto n = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || value[0] == '-' || n < lo
      || n > hi)
    return std::nullopt;
  return n;
}

CLI::Validator non_empty(std::string flag) {
  return CLI::Validator(
    [flag](std::string& value) -> std::string {
      if (value.empty())
        throw usage_failure{flag + " needs a value"};
      return {};
    },
    "");
}

CLI::Validator range(std::string flag, uint64_t lo, uint64_t hi,
                     std::string range) {
  return CLI::Validator(
    [=](std::string& value) -> std::string {
      if (!integer_in(value, lo, hi))
        throw usage_failure{flag + ": must be an integer from " + range
                            + ", got \"" + value + "\""};
      return {};
    },
    "");
}

std::optional<double> seconds_in(const std::string& value, double hi) {
  errno = 0;
  char* end = nullptr;
  auto x = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || errno != 0 || !(x >= 0) || x > hi)
    return std::nullopt;
  return x;
}

CLI::Validator seconds_range(std::string flag, double hi, std::string range) {
  return CLI::Validator(
    [=](std::string& value) -> std::string {
      if (!seconds_in(value, hi))
        throw usage_failure{flag + ": must be a number of seconds from " + range
                            + ", got \"" + value + "\""};
      return {};
    },
    "");
}

CLI::Option* add_value(CLI::App& app, const std::string& name,
                       const std::string& type, const std::string& help,
                       std::function<void(const std::string&)> take) {
  return app.add_option_function<std::string>(name, std::move(take), help)
    ->type_name(type)
    ->trigger_on_parse(); // checked where it stands, not after the line
}

} // namespace troupe::cli
