#pragma once

// The results file's line formats (product.md, "Results"): a header, one
// result per task, a summary. Field names are a contract with users' scripts
// (result_fields.hpp); result_line_reader.hpp reads the lines back.
// Hand-written for speed: the sink encodes every finished task.

// json_text.hpp comes along for the callers that write JSON text too.
#include "actors/results/json_text.hpp"
#include "messages/run.hpp"
#include "messages/task.hpp"

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
  /// A custom target's executor name (target.name), empty for none.
  std::string executor;
};

/// The header line, with its trailing newline.
std::string encode_header(const header_info& h);

/// Appends one result line (with newline); `epoch_us` is the wall-clock time
/// of the run's start, to turn run-relative times into RFC 3339.
void append_result_line(std::string& out, const task_result& r,
                        int64_t epoch_us);

/// The summary as a JSON object (no newline); `type` adds "type":"summary".
std::string encode_summary(const run_summary& s, int64_t epoch_us, bool type);

} // namespace troupe
