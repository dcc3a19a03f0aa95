#pragma once

// The human-readable summary printed at the end of a run.

#include "messages/run.hpp"

#include <string>

namespace troupe::runtime {

/// The summary as a table; `results_path` is named at the end.
std::string summary_table(const run_summary& s, const std::string& name,
                          const std::string& results_path);

} // namespace troupe::runtime
