#pragma once

// The checks of `expect` on a succeeded task's output: contains,
// not_contains, regex, equals, json (JSON Pointer to an exact value) and
// max_latency_ms. A failed check does not change the task's status.

#include "messages/task.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// Runs every check of `e` on an output (JSON text, empty for none) and its
/// latency (-1 when not measured, which skips max_latency_ms).
std::vector<assertion_result> check_expectation(const expectation& e,
                                                const std::string& output_json,
                                                int64_t latency_us);

/// The text that contains, not_contains and regex look at: a JSON string's
/// own text, or the compact JSON of any other output.
std::string output_text(const std::string& output_json);

} // namespace troupe
