#pragma once

// The timeline that --virtual-time prints: each attempt's start, duration
// and outcome in virtual milliseconds.

#include <string>

namespace troupe::runtime {

/// Prints the timeline of the results file `results` (its first 150 and
/// last 50 attempts), and writes all of it to `file` unless that is empty.
void print_timeline(const std::string& results, const std::string& file);

} // namespace troupe::runtime
