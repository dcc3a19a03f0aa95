// Output checks.

#include "actors/worker/assertions.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/regex.hpp>

#include <fmt/format.h>

#include <unordered_map>

namespace json = boost::json;

namespace troupe {

namespace {

constexpr size_t detail_limit = 160;

std::string shorten(std::string s) {
  if (s.size() > detail_limit) {
    s.resize(detail_limit);
    s += "...";
  }
  return s;
}

std::string quoted(const std::string& s) {
  return "\"" + shorten(s) + "\"";
}

json::value parse_or_null(const std::string& text) {
  json::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value{} : v;
}

// Compiled expressions, per thread: a pattern is compiled once per worker
// thread, not once per task.
const boost::regex& compiled(const std::string& pattern) {
  thread_local std::unordered_map<std::string, boost::regex> cache;
  auto i = cache.find(pattern);
  if (i == cache.end()) {
    if (cache.size() > 256)
      cache.clear();
    i = cache.emplace(pattern, boost::regex{pattern, boost::regex::perl}).first;
  }
  return i->second;
}

std::string ms_text(int64_t us) {
  return fmt::format("{:.3g}", static_cast<double>(us) / 1e3);
}

} // namespace

std::string output_text(const std::string& output_json) {
  if (output_json.empty())
    return {};
  auto v = parse_or_null(output_json);
  if (v.is_string())
    return std::string{v.get_string()};
  return output_json;
}

std::vector<assertion_result> check_expectation(const expectation& e,
                                                const std::string& output_json,
                                                int64_t latency_us) {
  std::vector<assertion_result> out;
  if (e.empty())
    return out;
  auto text = output_text(output_json);
  for (auto& s : e.contains) {
    bool ok = text.find(s) != std::string::npos;
    out.push_back(
      {"contains", ok,
       ok ? "found " + quoted(s) : quoted(s) + " is not in the output"});
  }
  for (auto& s : e.not_contains) {
    bool ok = text.find(s) == std::string::npos;
    out.push_back(
      {"not_contains", ok,
       ok ? quoted(s) + " is not in the output" : "found " + quoted(s)});
  }
  for (auto& pattern : e.regex) {
    assertion_result r{"regex", false, {}};
    try {
      r.passed = boost::regex_search(text, compiled(pattern));
      r.detail
        = (r.passed ? "matches /" : "no match for /") + shorten(pattern) + "/";
    } catch (const std::exception& err) {
      r.detail = "regex /" + shorten(pattern) + "/ failed: " + err.what();
    }
    out.push_back(std::move(r));
  }
  json::value value;
  bool parsed = false;
  auto output_value = [&]() -> const json::value& {
    if (!parsed) {
      value = output_json.empty() ? json::value{} : parse_or_null(output_json);
      parsed = true;
    }
    return value;
  };
  if (!e.equals_json.empty()) {
    auto want = parse_or_null(e.equals_json);
    bool ok = output_value() == want;
    out.push_back({"equals", ok,
                   ok ? "the output equals " + shorten(e.equals_json)
                      : "the output is "
                          + shorten(json::serialize(output_value()))
                          + ", expected " + shorten(e.equals_json)});
  }
  for (size_t i = 0; i < e.json_pointers.size(); ++i) {
    auto& pointer = e.json_pointers[i];
    auto want = parse_or_null(e.json_values[i]);
    json::error_code ec;
    auto* got = output_value().find_pointer(pointer, ec);
    assertion_result r{"json " + pointer, false, {}};
    if (got == nullptr) {
      r.detail = "no value at " + pointer;
    } else {
      r.passed = *got == want;
      r.detail = r.passed ? pointer + " is " + shorten(e.json_values[i])
                          : pointer + " is " + shorten(json::serialize(*got))
                              + ", expected " + shorten(e.json_values[i]);
    }
    out.push_back(std::move(r));
  }
  if (e.max_latency_us >= 0 && latency_us >= 0) {
    bool ok = latency_us <= e.max_latency_us;
    out.push_back({"max_latency_ms", ok,
                   "latency " + ms_text(latency_us) + " ms, limit "
                     + ms_text(e.max_latency_us) + " ms"});
  }
  return out;
}

} // namespace troupe
