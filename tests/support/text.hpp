#pragma once

// Small helpers the test files share. The harness is a unity build
// (tests/CMakeLists.txt): a helper two files define for themselves clashes
// when they land in one batch, so shared ones live here.

#include <cstdint>
#include <string>

namespace troupe::test {

/// Whether `part` occurs in `text`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The run start the report tests write into their results files'
/// headers: 2025-11-24, 16:00 UTC, in microseconds.
constexpr int64_t report_epoch_us = 1'764'000'000'000'000;

} // namespace troupe::test
