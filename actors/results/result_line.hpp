#pragma once

// The results file's line formats (product.md, "Results"): a header, one
// result per task, a summary. Field names are a contract with users' scripts.
// Hand-written for speed: the sink encodes every finished task.

#include "messages/run.hpp"
#include "messages/task.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

/// What the header line says about the run.
struct header_info {
  std::string manifest_hash;
  std::string version;
  /// Wall-clock start of the run, microseconds since the Unix epoch.
  int64_t started_at_us = 0;
  std::string manifest;
  std::string name;
  std::string target;
  uint64_t tasks = 0;
  /// Whether this run resumes an earlier one in the same file.
  bool resumed = false;
};

/// The header line, with its trailing newline.
std::string encode_header(const header_info& h);

/// Appends one result line (with newline); `epoch_us` is the wall-clock time
/// of the run's start, to turn run-relative times into RFC 3339.
void append_result_line(std::string& out, const task_result& r,
                        int64_t epoch_us);

/// The summary as a JSON object (no newline); `type` adds "type":"summary".
std::string encode_summary(const run_summary& s, int64_t epoch_us, bool type);

/// "2026-11-26T05:53:24.123Z" for microseconds since the Unix epoch.
std::string format_rfc3339(int64_t unix_us);

/// Appends the same to `out`.
void append_rfc3339(std::string& out, int64_t unix_us);

/// Appends `s` as a JSON string; invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

/// Appends microseconds as milliseconds with up to three decimals.
void append_ms(std::string& out, int64_t us);

/// Whether every number in `v` is finite: Boost.JSON reads 1e400 as
/// infinity and would write it back as "Infinity", which is not JSON.
bool all_finite(const boost::json::value& v) noexcept;

} // namespace troupe
