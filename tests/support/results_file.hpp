#pragma once

// Reads a results file back for end-to-end checks: every line must be whole
// JSON, and results are looked up by task id.

#include <boost/json/value.hpp>

#include <map>
#include <string>
#include <vector>

namespace troupe::test {

/// A results file, parsed.
struct results_file {
  /// Every line in order (the test fails on a line that is not JSON).
  std::vector<boost::json::object> lines;
  /// Result lines by task id (the last one wins).
  std::map<std::string, boost::json::object> results;
  /// Number of result lines per task id.
  std::map<std::string, int> result_count;

  const boost::json::object& header() const;
  /// The summary line; fails if the last line is not one.
  const boost::json::object& summary() const;
  bool has_summary() const;
  /// The status of one task.
  std::string status(const std::string& task_id) const;
  int64_t attempts(const std::string& task_id) const;
  /// Number of results with this status.
  size_t count(const std::string& status) const;
};

/// Reads and checks a results file.
results_file read_results(const std::string& path);

/// Number of line breaks in a file so far (0 if it cannot be read): a
/// barrier for tests that act once a run has written some lines.
size_t count_lines(const std::string& path);

} // namespace troupe::test
