#pragma once

// JSON text written by hand, for speed: the results file's lines and the
// request bodies sent to Dify are made of these pieces.

#include <boost/json/fwd.hpp>

#include <charconv>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

// The hot parts are inline: the sink runs them some twenty times a line
// (benchmark B1), where calls into another file cost 6 %.

/// Appends `x` in decimal.
inline void append_uint(std::string& out, uint64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

/// Appends `x` in decimal, with a sign when negative.
inline void append_int(std::string& out, int64_t x) {
  if (x < 0) {
    out += '-';
    append_uint(out, static_cast<uint64_t>(-(x + 1)) + 1);
  } else {
    append_uint(out, static_cast<uint64_t>(x));
  }
}

namespace detail {

/// Appends s[i..] escaped, as the rest of a JSON string's body.
void append_json_rest(std::string& out, std::string_view s, size_t i);

/// Writes "YYYY-MM-DDTHH:MM:SS" (19 characters) for seconds since the Unix
/// epoch.
void format_civil_seconds(char* out, size_t size, int64_t secs);

} // namespace detail

/// Appends `s` as a JSON string; invalid UTF-8 becomes U+FFFD.
inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Most text needs no escape: append it in one piece.
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
      break;
    ++i;
  }
  out.append(s.data(), i);
  if (i < s.size())
    detail::append_json_rest(out, s, i);
  out += '"';
}

/// Appends microseconds as milliseconds with up to three decimals.
inline void append_ms(std::string& out, int64_t us) {
  if (us < 0) {
    out += '-';
    us = -us;
  }
  append_uint(out, static_cast<uint64_t>(us / 1000));
  auto frac = static_cast<int>(us % 1000);
  if (frac != 0) {
    char buf[5] = {'.', static_cast<char>('0' + frac / 100),
                   static_cast<char>('0' + frac / 10 % 10),
                   static_cast<char>('0' + frac % 10), 0};
    size_t len = 4;
    while (buf[len - 1] == '0')
      --len;
    out.append(buf, len);
  }
}

/// "2026-11-26T05:53:24.123Z" for microseconds since the Unix epoch.
std::string format_rfc3339(int64_t unix_us);

/// Appends the same to `out`.
inline void append_rfc3339(std::string& out, int64_t unix_us) {
  int64_t secs
    = unix_us >= 0 ? unix_us / 1000000 : -((-unix_us + 999999) / 1000000);
  int64_t millis = (unix_us - secs * 1000000) / 1000;
  // Results come in bursts within one second: reuse its text.
  thread_local int64_t cached_secs = INT64_MIN;
  thread_local char cached[64];
  if (secs != cached_secs) {
    detail::format_civil_seconds(cached, sizeof(cached), secs);
    cached_secs = secs;
  }
  out.append(cached, 19);
  char frac[5] = {'.', static_cast<char>('0' + millis / 100),
                  static_cast<char>('0' + millis / 10 % 10),
                  static_cast<char>('0' + millis % 10), 'Z'};
  out.append(frac, 5);
}

/// Whether every number in `v` is finite: Boost.JSON reads 1e400 as
/// infinity and would write it back as "Infinity", which is not JSON.
bool all_finite(const boost::json::value& v) noexcept;

} // namespace troupe
