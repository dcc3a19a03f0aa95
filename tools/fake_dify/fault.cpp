// Fault names to the fault enum, in one table.

#include "tools/fake_dify/fault.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <utility>

namespace troupe::fake_dify {

namespace {

constexpr std::array<std::pair<std::string_view, fault>, 26> names{{
  {"500", fault::server_error},  {"502", fault::bad_gateway},
  {"503", fault::unavailable},   {"504", fault::gateway_timeout},
  {"429", fault::rate_limited},  {"daily", fault::daily_limit},
  {"too_many", fault::too_many}, {"400", fault::invalid_param},
  {"401", fault::unauthorized},  {"403", fault::forbidden},
  {"404", fault::not_found},     {"quota", fault::quota},
  {"failed", fault::failed},     {"stopped", fault::stopped},
  {"reset", fault::reset},       {"malformed", fault::malformed},
  {"cut", fault::cut},           {"stream_error", fault::stream_error},
  {"hang", fault::hang},         {"large", fault::large},
  {"echo_key", fault::echo_key}, {"echo_key_error", fault::echo_key_error},
  {"chatflow", fault::chatflow}, {"chatflow_failed", fault::chatflow_failed},
  {"linger", fault::linger},     {"long", fault::long_run},
}};

constexpr std::string_view retry_after_prefix = "429:retry-after=";
constexpr std::string_view retry_date_prefix = "429-date:";

// The seconds after a 429 prefix, read as the server always has: the
// leading digits, 0 when there are none.
int64_t seconds_after(std::string_view name, std::string_view prefix) {
  std::string digits{name.substr(prefix.size())};
  return std::strtoll(digits.c_str(), nullptr, 10);
}

} // namespace

std::optional<fault_spec> parse_fault(std::string_view name) {
  if (name.empty())
    return fault_spec{};
  for (auto& [n, kind] : names)
    if (n == name)
      return fault_spec{kind, std::nullopt, std::nullopt};
  if (name.substr(0, retry_after_prefix.size()) == retry_after_prefix)
    return fault_spec{fault::rate_limited,
                      seconds_after(name, retry_after_prefix), std::nullopt};
  if (name.substr(0, retry_date_prefix.size()) == retry_date_prefix)
    return fault_spec{fault::rate_limited, std::nullopt,
                      seconds_after(name, retry_date_prefix)};
  // Any other "429..." has always been a plain 429.
  if (name.substr(0, 3) == "429")
    return fault_spec{fault::rate_limited, std::nullopt, std::nullopt};
  return std::nullopt;
}

std::string fault_names(std::string_view indent) {
  std::string out;
  size_t line = 0; // where the current line starts
  auto add = [&](std::string_view n) {
    auto item = fmt::format("{}\"{}\"", out.empty() ? "" : " | ", n);
    if (out.size() - line + item.size() > 66) {
      out += fmt::format(" |\n{}", indent);
      line = out.size() - indent.size();
      item = fmt::format("\"{}\"", n);
    }
    out += item;
  };
  for (auto& [n, kind] : names) {
    add(n);
    if (kind == fault::rate_limited) {
      add("429:retry-after=S");
      add("429-date:S");
    }
  }
  return out;
}

} // namespace troupe::fake_dify
