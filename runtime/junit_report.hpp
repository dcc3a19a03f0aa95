#pragma once

// `troupe report RESULTS --junit FILE`: the results as JUnit XML, the format
// CI systems read (Jenkins' junit step, GitHub's test-report actions). It
// validates against tests/schemas/junit.xsd (xmllint, in the tests).
//
//   <testsuites name=RUN>           tests, failures, errors, time
//     <testsuite name=DATASET>      tests, failures, errors, skipped, time
//       <testcase name=TASK_ID classname=DATASET time=LATENCY_S>
//         <failure>   FAILED, TIMEOUT, ERROR, or a SUCCEEDED task's failed
//                     checks
//         <skipped>   CANCELLED

#include "messages/task.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::runtime {

/// `s` as XML 1.0 text (`attribute`: an attribute value in double quotes):
/// markup characters escaped, characters XML 1.0 does not allow (controls
/// other than tab, newline and carriage return, U+FFFE, U+FFFF, broken
/// UTF-8) replaced by U+FFFD.
std::string xml_escape(std::string_view s, bool attribute);

/// Builds the JUnit XML of a results file from the last line of each task,
/// in file order: datasets in order of their first task, tasks in the
/// order their lines come.
class junit_builder {
public:
  /// Adds one task's last result line.
  void add(const task_result& r);

  /// The whole document; `run_name` names the <testsuites>. `missing`
  /// tasks of the run have no result line (an interrupted run): they come
  /// as one failed testcase of a suite "troupe", so that CI does not see
  /// a green report of a run that never finished.
  std::string finish(const std::string& run_name, uint64_t missing = 0) const;

private:
  struct suite {
    std::string name;
    uint64_t tests = 0;
    uint64_t failures = 0;
    uint64_t skipped = 0;
    /// Sum of the testcases' times, in whole milliseconds.
    uint64_t time_ms = 0;
    /// The <testcase> elements, already written.
    std::string cases;
  };

  std::vector<suite> suites_;
  std::unordered_map<std::string, size_t> index_;
};

} // namespace troupe::runtime
