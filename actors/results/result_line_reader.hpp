#pragma once

// Reading results lines back: the decoder beside the encoder
// (result_line.hpp), for --resume, `troupe report` and the result cache.
// Lenient by design: a field that is missing or of the wrong type reads as
// absent, so that hand-edited and older files still load.

#include "messages/task.hpp"

#include <boost/json/error.hpp>
#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

/// The first line of a results file, as read back.
struct results_header {
  std::string manifest_hash;
  std::string version;
  std::string started_at;
  int64_t started_at_us = 0;
  std::string manifest;
  std::string name;
  std::string target;
  uint64_t tasks = 0;
};

/// The two fields that identify a result line.
struct result_key {
  std::string task_id;
  task_status status = task_status::pending;
};

/// One line as JSON. A number beyond a double (1e400, which troupe never
/// writes) sets `ec` as bad syntax does: it would be written back (report,
/// diff) as "Infinity", which is not JSON.
boost::json::value parse_results_json(std::string_view line,
                                      boost::json::error_code& ec);

/// The line's "type" ("header", "result", "summary"), empty if none.
std::string_view line_type(const boost::json::object& line);

/// Reads a header line; false if `line` is not one.
bool parse_header_line(const boost::json::object& line, results_header& out);

/// Reads only the task id and status of a result line; false if it is not
/// one or either is missing.
bool parse_result_key(const boost::json::object& line, result_key& out);

/// Turns a result line into a task_result, its turns included; false if it
/// is not one.
bool parse_result_line(const boost::json::object& line, task_result& out);

/// The status named `name` ("SUCCEEDED"), if it is one.
std::optional<task_status> parse_status(std::string_view name);

/// Microseconds since the Unix epoch of an RFC 3339 UTC time, -1 if bad.
int64_t parse_rfc3339(std::string_view text);

} // namespace troupe
