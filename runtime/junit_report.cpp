// JUnit XML from result lines: one <testcase> per task, grouped by dataset.
// Choices (README.md, "CI reports"): ERROR is a <failure> like FAILED and
// TIMEOUT, its type naming it, so `errors` is always 0; CANCELLED is
// <skipped>; <testsuites> has no `skipped`, which Jenkins' junit-10.xsd
// refuses there.

#include "runtime/junit_report.hpp"

#include <fmt/format.h>

namespace troupe::runtime {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD"; // U+FFFD

/// A UTF-8 sequence: its length in bytes (1 for a broken byte) and whether
/// XML 1.0 allows the character.
struct utf8_char {
  size_t length = 1;
  bool allowed = false;
};

utf8_char next_char(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = byte(0);
  if (c < 0x80)
    return {1, c >= 0x20 || c == '\t' || c == '\n' || c == '\r'};
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return {};
  }
  if (i + n > s.size())
    return {};
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xC0u) != 0x80u)
      return {};
    cp = (cp << 6) | (byte(k) & 0x3Fu);
  }
  // Overlong forms and code points beyond Unicode are broken UTF-8.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return {};
  bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  return {n, !surrogate && cp != 0xFFFE && cp != 0xFFFF};
}

/// Whole milliseconds of `us`, rounded; 0 for none (-1).
uint64_t rounded_ms(int64_t us) {
  return us < 0 ? 0 : static_cast<uint64_t>((us + 500) / 1000);
}

/// "1.250": seconds with three decimals.
std::string seconds(uint64_t ms) {
  return fmt::format("{}.{:03}", ms / 1000, ms % 1000);
}

/// The failed checks, "check: detail", one per line.
std::string failed_checks(const task_result& r) {
  std::string out;
  for (auto& a : r.assertions)
    if (!a.passed)
      out += (out.empty() ? "" : "\n") + a.check + ": " + a.detail;
  return out;
}

/// "TIMEOUT after 3 attempts (HTTP 504): the error", then the failed
/// checks, if any.
std::string failure_text(const task_result& r) {
  auto n = r.attempts();
  std::string out = fmt::format("{} after {} attempt{}", status_name(r.status),
                                n, n == 1 ? "" : "s");
  if (r.http_status != 0)
    out += fmt::format(" (HTTP {})", r.http_status);
  if (!r.error.empty())
    out += ": " + r.error;
  if (auto checks = failed_checks(r); !checks.empty())
    out += "\n" + checks;
  return out;
}

void append_element(std::string& out, const char* name,
                    const std::string& message, const std::string& type,
                    const std::string& text) {
  out
    += fmt::format("      <{} message=\"{}\"", name, xml_escape(message, true));
  if (!type.empty())
    out += " type=\"" + xml_escape(type, true) + "\"";
  if (text.empty()) {
    out += "/>\n";
    return;
  }
  out += ">" + xml_escape(text, false) + "</" + name + ">\n";
}

} // namespace

std::string xml_escape(std::string_view s, bool attribute) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = next_char(s, i);
    if (!c.allowed) {
      out += replacement;
      i += c.length;
      continue;
    }
    if (c.length > 1) {
      out.append(s.substr(i, c.length));
      i += c.length;
      continue;
    }
    switch (s[i]) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      // A parser turns a raw CR into LF, and in attribute values tab and
      // LF into spaces: character references keep them.
      case '\r':
        out += "&#13;";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += s[i];
    }
    ++i;
  }
  return out;
}

void junit_builder::add(const task_result& r) {
  auto [at, added] = index_.try_emplace(r.dataset, suites_.size());
  if (added) {
    suites_.emplace_back();
    suites_.back().name = r.dataset;
  }
  auto& s = suites_[at->second];
  auto ms = rounded_ms(r.latency_us);
  ++s.tests;
  s.time_ms += ms;
  auto& out = s.cases;
  out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                     xml_escape(r.task_id, true), xml_escape(r.dataset, true),
                     seconds(ms));
  std::string body;
  switch (r.status) {
    case task_status::succeeded:
      if (r.assertions_failed()) {
        auto checks = failed_checks(r);
        std::string message;
        for (auto& a : r.assertions)
          if (!a.passed)
            message += (message.empty() ? "" : "; ") + a.check;
        append_element(body, "failure", "check failed: " + message, "assertion",
                       checks);
        ++s.failures;
      }
      break;
    case task_status::failed:
    case task_status::timeout:
    case task_status::error:
      append_element(
        body, "failure", r.error.empty() ? status_name(r.status) : r.error,
        r.error_code.empty() ? status_name(r.status) : r.error_code,
        failure_text(r));
      ++s.failures;
      break;
    case task_status::cancelled:
      append_element(body, "skipped",
                     r.error.empty() ? "CANCELLED" : "CANCELLED: " + r.error,
                     "", "");
      ++s.skipped;
      break;
    default:
      // A result line always holds a terminal status; anything else is
      // shown as it is, never dropped.
      append_element(body, "failure", status_name(r.status),
                     status_name(r.status), "");
      ++s.failures;
  }
  if (body.empty()) {
    out += "/>\n";
  } else {
    out += ">\n" + body + "    </testcase>\n";
  }
}

std::string junit_builder::finish(const std::string& run_name,
                                  uint64_t missing) const {
  uint64_t tests = missing > 0 ? 1 : 0;
  uint64_t failures = tests;
  uint64_t time_ms = 0;
  for (auto& s : suites_) {
    tests += s.tests;
    failures += s.failures;
    time_ms += s.time_ms;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" "
                     "errors=\"0\" time=\"{}\">\n",
                     xml_escape(run_name, true), tests, failures,
                     seconds(time_ms));
  for (auto& s : suites_) {
    out += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" "
                       "errors=\"0\" skipped=\"{}\" time=\"{}\">\n",
                       xml_escape(s.name, true), s.tests, s.failures, s.skipped,
                       seconds(s.time_ms));
    out += s.cases;
    out += "  </testsuite>\n";
  }
  if (missing > 0)
    out += fmt::format(
      "  <testsuite name=\"troupe\" tests=\"1\" failures=\"1\" errors=\"0\" "
      "skipped=\"0\" time=\"0.000\">\n"
      "    <testcase name=\"(no result line)\" classname=\"troupe\" "
      "time=\"0.000\">\n"
      "      <failure message=\"{0} tasks have no result line\" "
      "type=\"missing\">{0} tasks of the run have no result line: it did not "
      "finish (resume it with --resume)</failure>\n"
      "    </testcase>\n"
      "  </testsuite>\n",
      missing);
  out += "</testsuites>\n";
  return out;
}

} // namespace troupe::runtime
