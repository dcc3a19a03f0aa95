#pragma once

// JSON text written by hand, for speed: the results file's lines and the
// request bodies sent to Dify are made of these pieces.

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

/// Appends `x` in decimal.
void append_uint(std::string& out, uint64_t x);

/// Appends `x` in decimal, with a sign when negative.
void append_int(std::string& out, int64_t x);

/// Appends `s` as a JSON string; invalid UTF-8 becomes U+FFFD.
void append_json_string(std::string& out, std::string_view s);

/// Appends microseconds as milliseconds with up to three decimals.
void append_ms(std::string& out, int64_t us);

/// "2026-11-26T05:53:24.123Z" for microseconds since the Unix epoch.
std::string format_rfc3339(int64_t unix_us);

/// Appends the same to `out`.
void append_rfc3339(std::string& out, int64_t unix_us);

/// Whether every number in `v` is finite: Boost.JSON reads 1e400 as
/// infinity and would write it back as "Infinity", which is not JSON.
bool all_finite(const boost::json::value& v) noexcept;

} // namespace troupe
