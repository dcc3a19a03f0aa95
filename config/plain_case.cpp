// The plain dataset line's reader (plain_case.hpp): one pass over the text,
// no tree. It accepts only what it can copy through as the full parser
// would serialize it; the differential tests (tests/config/plain_case.test
// and the dataset_jsonl fuzzer) hold it to that.

#include "config/plain_case.hpp"

#include <algorithm>

namespace troupe::config {

namespace {

// How many input keys a plain case may have: checking for a key given twice
// compares each with those before it.
constexpr size_t most_plain_keys = 32;

// Integers of at most 18 digits fit an int64, which the full parser keeps
// and serializes as written (no leading zero, no "-0").
constexpr size_t most_plain_digits = 18;

// Boost.JSON refuses a string over 0x7ffffffe bytes ("string too large"):
// anything near that is the full parser's to refuse.
constexpr size_t most_plain_string_bytes = size_t{1} << 30;

struct cursor {
  const char* p;
  const char* end;

  void skip_space() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      ++p;
  }

  // Skips whitespace, then `c` if it comes next.
  bool eat(char c) {
    skip_space();
    if (p < end && *p == c) {
      ++p;
      return true;
    }
    return false;
  }

  bool next_is(char c) {
    skip_space();
    return p < end && *p == c;
  }
};

// A string with no escape and no control character, in valid UTF-8: what
// lies between its quotes, which serializing it writes back unchanged.
bool plain_string(cursor& c, std::string_view& out) {
  if (!c.eat('"'))
    return false;
  const char* begin = c.p;
  bool ascii = true;
  for (; c.p < c.end && *c.p != '"'; ++c.p) {
    auto ch = static_cast<unsigned char>(*c.p);
    if (ch == '\\' || ch < 0x20)
      return false;
    ascii = ascii && ch < 0x80;
  }
  if (c.p == c.end
      || static_cast<size_t>(c.p - begin) > most_plain_string_bytes)
    return false;
  out = std::string_view(begin, static_cast<size_t>(c.p - begin));
  ++c.p;
  return ascii || valid_utf8(out);
}

// An integer as serializing it writes it: no fraction or exponent, no
// leading zero, not "-0", at most most_plain_digits digits.
bool plain_integer(cursor& c, std::string_view& out) {
  c.skip_space();
  const char* begin = c.p;
  if (c.p < c.end && *c.p == '-')
    ++c.p;
  const char* digits = c.p;
  while (c.p < c.end && *c.p >= '0' && *c.p <= '9')
    ++c.p;
  auto n = static_cast<size_t>(c.p - digits);
  if (n == 0 || n > most_plain_digits || (*digits == '0' && c.p - begin > 1))
    return false;
  if (c.p < c.end && (*c.p == '.' || *c.p == 'e' || *c.p == 'E'))
    return false;
  out = std::string_view(begin, static_cast<size_t>(c.p - begin));
  return true;
}

// A plain value of an input, appended to `out` as serializing it would.
bool plain_value(cursor& c, std::string& out) {
  c.skip_space();
  if (c.p == c.end)
    return false;
  std::string_view text;
  if (*c.p == '"') {
    if (!plain_string(c, text))
      return false;
    out += '"';
    out += text;
    out += '"';
    return true;
  }
  if (*c.p == '-' || (*c.p >= '0' && *c.p <= '9')) {
    if (!plain_integer(c, text))
      return false;
    out += text;
    return true;
  }
  for (std::string_view word : {"true", "false", "null"})
    if (static_cast<size_t>(c.end - c.p) >= word.size()
        && std::equal(word.begin(), word.end(), c.p)) {
      c.p += word.size();
      out += word;
      return true;
    }
  return false;
}

// A flat inputs object, compact into `out`.
bool plain_inputs(cursor& c, std::string& out) {
  if (!c.eat('{'))
    return false;
  out.assign(1, '{');
  if (c.eat('}')) {
    out += '}';
    return true;
  }
  std::string_view keys[most_plain_keys];
  size_t n = 0;
  for (;;) {
    std::string_view key;
    if (n == most_plain_keys || !plain_string(c, key)
        || std::find(keys, keys + n, key) != keys + n || !c.eat(':'))
      return false;
    keys[n++] = key;
    out += '"';
    out += key;
    out += "\":";
    if (!plain_value(c, out))
      return false;
    if (c.eat('}')) {
      out += '}';
      return true;
    }
    if (!c.eat(','))
      return false;
    out += ',';
  }
}

} // namespace

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      lo = c == 0xE0 ? 0xA0 : 0x80;
      hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      lo = c == 0xF0 ? 0x90 : 0x80;
      hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
      return false;
    }
    if (s.size() - i <= n)
      return false;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi)
      return false;
    for (size_t k = 2; k <= n; ++k) {
      auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF)
        return false;
    }
    i += n + 1;
  }
  return true;
}

bool parse_plain_case(std::string_view text, case_config& out) {
  cursor c{text.data(), text.data() + text.size()};
  if (!c.eat('{'))
    return false;
  bool id = false;
  bool inputs = false;
  for (;;) {
    std::string_view key;
    if (!plain_string(c, key) || !c.eat(':'))
      return false;
    if (key == "id" && !id) {
      id = true;
      std::string_view value;
      if (c.next_is('"') ? !plain_string(c, value) || value.empty()
                         : !plain_integer(c, value))
        return false;
      out.id.assign(value.data(), value.size());
    } else if (key == "inputs" && !inputs) {
      inputs = true;
      if (!plain_inputs(c, out.inputs_json))
        return false;
    } else {
      return false; // another key, or one given twice: the full parser's
    }
    if (c.eat('}'))
      break;
    if (!c.eat(','))
      return false;
  }
  c.skip_space();
  if (c.p != c.end || !id)
    return false;
  if (!inputs)
    out.inputs_json = "{}";
  out.query.clear();
  out.conversation_id.clear();
  out.expect = expectation{};
  out.turns.clear();
  return true;
}

} // namespace troupe::config
