// Encodes header, result and summary lines.

#include "actors/results/result_line.hpp"

#include <boost/json/value.hpp>

#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>

namespace troupe {

namespace {

void append_uint(std::string& out, uint64_t x) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), x);
  out.append(buf, res.ptr);
}

void append_int(std::string& out, int64_t x) {
  if (x < 0) {
    out += '-';
    append_uint(out, static_cast<uint64_t>(-(x + 1)) + 1);
  } else {
    append_uint(out, static_cast<uint64_t>(x));
  }
}

// `[`, each item as `each` writes it, commas between, `]`.
template <class List, class Each>
void append_array(std::string& out, const List& items, Each each) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    each(items[i]);
  }
  out += ']';
}

void append_time(std::string& out, int64_t epoch_us, int64_t run_us) {
  out += '"';
  append_rfc3339(out, epoch_us + run_us);
  out += '"';
}

// Length of the valid UTF-8 sequence at s[i], 0 if invalid.
size_t utf8_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, cp = c & 0x07;
  else
    return 0;
  if (i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
      || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

// Dify's identifiers and figures, as far as the call produced them.
void append_dify(std::string& out, const dify_info& d) {
  out.append(",\"dify\":{");
  bool first = true;
  auto field = [&](const char* name) {
    if (!first)
      out += ',';
    first = false;
    out += '"';
    out += name;
    out += "\":";
  };
  auto text = [&](const char* name, const std::string& value) {
    if (!value.empty()) {
      field(name);
      append_json_string(out, value);
    }
  };
  text("task_id", d.task_id);
  text("workflow_run_id", d.workflow_run_id);
  text("conversation_id", d.conversation_id);
  text("message_id", d.message_id);
  if (d.elapsed_time >= 0) {
    field("elapsed_time");
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof(buf), d.elapsed_time);
    out.append(buf, res.ptr);
  }
  if (d.total_steps >= 0) {
    field("total_steps");
    append_int(out, d.total_steps);
  }
  out += '}';
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
      ++i;
      continue;
    }
    auto n = utf8_length(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  out += '"';
}

void append_ms(std::string& out, int64_t us) {
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

void append_rfc3339(std::string& out, int64_t unix_us) {
  int64_t secs
    = unix_us >= 0 ? unix_us / 1000000 : -((-unix_us + 999999) / 1000000);
  int64_t millis = (unix_us - secs * 1000000) / 1000;
  // Results come in bursts within one second: reuse its text.
  thread_local int64_t cached_secs = INT64_MIN;
  thread_local char cached[64];
  if (secs != cached_secs) {
    // Howard Hinnant's civil_from_days.
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
      ++y;
    std::snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
                  static_cast<int>(y % 10000), static_cast<int>(m),
                  static_cast<int>(d), static_cast<int>(sod / 3600),
                  static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
    cached_secs = secs;
  }
  out.append(cached, 19);
  char frac[6] = {'.',
                  static_cast<char>('0' + millis / 100),
                  static_cast<char>('0' + millis / 10 % 10),
                  static_cast<char>('0' + millis % 10),
                  'Z',
                  0};
  out.append(frac, 5);
}

std::string format_rfc3339(int64_t unix_us) {
  std::string out;
  append_rfc3339(out, unix_us);
  return out;
}

std::string encode_header(const header_info& h) {
  std::string out = "{\"type\":\"header\"";
  out.append(",\"manifest_hash\":");
  append_json_string(out, h.manifest_hash);
  out.append(",\"version\":");
  append_json_string(out, h.version);
  out.append(",\"started_at\":");
  out += '"' + format_rfc3339(h.started_at_us) + '"';
  out.append(",\"manifest\":");
  append_json_string(out, h.manifest);
  out.append(",\"name\":");
  append_json_string(out, h.name);
  out.append(",\"target\":");
  append_json_string(out, h.target);
  out.append(",\"tasks\":");
  append_uint(out, h.tasks);
  if (h.resumed) {
    out.append(",\"resumed\":");
    out += "true";
  }
  out += "}\n";
  return out;
}

void append_result_line(std::string& out, const task_result& r,
                        int64_t epoch_us) {
  out += "{\"type\":\"result\"";
  out.append(",\"task_id\":");
  append_json_string(out, r.task_id);
  out.append(",\"dataset\":");
  append_json_string(out, r.dataset);
  out.append(",\"case_id\":");
  append_json_string(out, r.case_id);
  out.append(",\"params\":");
  out += r.params_json.empty() ? "{}" : r.params_json;
  out.append(",\"status\":");
  out += '"';
  out += status_name(r.status);
  out += '"';
  out.append(",\"attempts\":");
  append_uint(out, r.attempts());
  out.append(",\"attempt_log\":");
  append_array(out, r.attempt_log, [&](const attempt_record& a) {
    out += "{\"status\":\"";
    out += status_name(a.status);
    out += "\",\"started_ms\":";
    append_ms(out, a.started_us);
    out += ",\"duration_ms\":";
    append_ms(out, a.duration_us);
    out += ",\"error\":";
    if (a.error.empty())
      out += "null";
    else
      append_json_string(out, a.error);
    if (a.http_status != 0) {
      out += ",\"http_status\":";
      append_int(out, a.http_status);
    }
    out += '}';
  });
  out.append(",\"started_at\":");
  if (r.started_us >= 0)
    append_time(out, epoch_us, r.started_us);
  else
    out += "null";
  out.append(",\"finished_at\":");
  append_time(out, epoch_us, r.finished_us);
  out.append(",\"latency_ms\":");
  if (r.latency_us >= 0)
    append_ms(out, r.latency_us);
  else
    out += "null";
  out.append(",\"output\":");
  out += r.output_json.empty() ? "null" : r.output_json;
  out.append(",\"error\":");
  if (r.error.empty())
    out += "null";
  else
    append_json_string(out, r.error);
  if (!r.error_code.empty()) {
    out.append(",\"error_code\":");
    append_json_string(out, r.error_code);
  }
  if (r.http_status != 0) {
    out.append(",\"http_status\":");
    append_int(out, r.http_status);
  }
  if (r.tokens >= 0) {
    out.append(",\"tokens\":");
    append_int(out, r.tokens);
  }
  if (r.first_event_us >= 0) {
    out.append(",\"first_event_ms\":");
    append_ms(out, r.first_event_us);
  }
  if (!r.dify.empty())
    append_dify(out, r.dify);
  if (!r.assertions.empty()) {
    out.append(",\"assertions\":");
    append_array(out, r.assertions, [&](const assertion_result& a) {
      out.append("{\"check\":");
      append_json_string(out, a.check);
      out.append(a.passed ? ",\"passed\":true,\"detail\":"
                          : ",\"passed\":false,\"detail\":");
      append_json_string(out, a.detail);
      out += '}';
    });
  }
  if (r.cached)
    out.append(",\"cached\":true");
  out += "}\n";
}

std::string encode_summary(const run_summary& s, int64_t epoch_us, bool type) {
  std::string out = "{";
  if (type)
    out += "\"type\":\"summary\",";
  out += "\"total\":";
  append_uint(out, s.total);
  out.append(",\"counts\":");
  out += '{';
  for (size_t i = 0; i < task_status_count; ++i) {
    if (i > 0)
      out += ',';
    out += '"';
    out += status_name(static_cast<task_status>(i));
    out += "\":";
    append_uint(out, s.counts[i]);
  }
  out += '}';
  out.append(",\"attempts\":");
  append_uint(out, s.attempts);
  out.append(",\"retries\":");
  append_uint(out, s.retries);
  out.append(",\"tokens\":");
  append_uint(out, s.tokens);
  out.append(",\"wall_ms\":");
  append_ms(out, s.wall_us);
  out.append(",\"tasks_per_second\":");
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", s.tasks_per_second());
  out += buf;
  out.append(",\"latency_ms\":");
  auto pct = [&](const char* name, int64_t us, bool first) {
    if (!first)
      out += ',';
    out += '"';
    out += name;
    out += "\":";
    if (us >= 0)
      append_ms(out, us);
    else
      out += "null";
  };
  out += '{';
  pct("p50", s.p50_us, true);
  pct("p90", s.p90_us, false);
  pct("p99", s.p99_us, false);
  pct("max", s.max_us, false);
  out += '}';
  out.append(",\"slowest\":");
  append_array(out, s.slowest, [&](const auto& x) {
    out += "{\"task_id\":";
    append_json_string(out, x.task_id);
    out += ",\"latency_ms\":";
    append_ms(out, x.latency_us);
    out += '}';
  });
  out.append(",\"failures\":");
  append_array(out, s.failures, [&](const auto& g) {
    out += "{\"error_code\":";
    append_json_string(out, g.error_code);
    out += ",\"count\":";
    append_uint(out, g.count);
    out += ",\"example\":{\"task_id\":";
    append_json_string(out, g.example.task_id);
    out += ",\"error\":";
    append_json_string(out, g.example.error);
    out += "}}";
  });
  out.append(",\"assertions_failed\":");
  append_uint(out, s.assertions_failed);
  out.append(",\"assertion_failures\":");
  append_array(out, s.assertion_failures, [&](const auto& a) {
    out.append("{\"task_id\":");
    append_json_string(out, a.task_id);
    out.append(",\"check\":");
    append_json_string(out, a.check);
    out.append(",\"detail\":");
    append_json_string(out, a.detail);
    out += '}';
  });
  if (s.cached > 0) {
    out.append(",\"cached\":");
    append_uint(out, s.cached);
  }
  if (s.concurrency_final > 0) {
    out.append(",\"adaptive_concurrency\":{\"final\":");
    append_uint(out, s.concurrency_final);
    out.append(",\"min\":");
    append_uint(out, s.concurrency_min);
    out += '}';
  }
  out.append(",\"end\":");
  append_json_string(out, to_string(s.end));
  out.append(",\"reason\":");
  if (s.reason.empty())
    out += "null";
  else
    append_json_string(out, s.reason);
  out.append(",\"finished_at\":");
  append_time(out, epoch_us, s.wall_us);
  out += '}';
  return out;
}

bool all_finite(const boost::json::value& v) noexcept {
  namespace json = boost::json;
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (auto& x : v.get_array())
        if (!all_finite(x))
          return false;
      return true;
    case json::kind::object:
      for (auto& kv : v.get_object())
        if (!all_finite(kv.value()))
          return false;
      return true;
    default:
      return true;
  }
}

} // namespace troupe
