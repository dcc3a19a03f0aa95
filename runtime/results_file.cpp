// Results files, read back.

#include "runtime/results_file.hpp"

#include "actors/results/result_line.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace json = boost::json;

namespace troupe::runtime {

namespace {

/// The longest line a results file may hold: a result's output is capped
/// at target.max_response_bytes (256 MiB at most), escaped at most 6-fold.
constexpr size_t max_results_line_bytes = size_t{2} << 30;

using line_fn = std::function<void(std::string_view, uint32_t, bool)>;

// Calls f(line, line number, complete?) for each line of an open file.
bool for_each_line(std::FILE* file, const std::string& path, const line_fn& f,
                   std::string& error) {
  std::vector<char> buf(1 << 16);
  std::string line;
  uint32_t number = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), file)) > 0) {
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        line.append(buf.data() + start, i - start);
        f(line, ++number, true);
        line.clear();
        start = i + 1;
      }
    }
    line.append(buf.data() + start, n - start);
    // A file without line breaks must not fill memory.
    if (line.size() > max_results_line_bytes) {
      error = path + ":" + std::to_string(number + 1) + ": line longer than "
              + std::to_string(max_results_line_bytes)
              + " bytes; is this a troupe results file?";
      return false;
    }
  }
  if (std::ferror(file)) {
    error = path + ": cannot read results file";
    return false;
  }
  if (!line.empty())
    f(line, ++number, false);
  return true;
}

// The same for the file at `path`.
bool for_each_line(const std::string& path, const line_fn& f,
                   std::string& error) {
  if (auto err = config::check_input_file(path, "results file")) {
    error = err->message;
    return false;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": cannot open results file (" + std::strerror(errno) + ")";
    return false;
  }
  bool ok = for_each_line(file, path, f, error);
  std::fclose(file);
  return ok;
}

// One line as JSON; a number beyond a double (1e400, which troupe never
// writes) makes it as broken as bad syntax, since it would be written back
// (report, diff) as "Infinity", which is not JSON.
json::value parse_line(std::string_view line, json::error_code& ec) {
  auto v = json::parse(line, ec);
  if (!ec && !all_finite(v))
    ec = json::make_error_code(json::error::exponent_overflow);
  return v;
}

task_status status_from(std::string_view name, bool& ok) {
  for (size_t i = 0; i < task_status_count; ++i)
    if (name == status_name(static_cast<task_status>(i))) {
      ok = true;
      return static_cast<task_status>(i);
    }
  ok = false;
  return task_status::pending;
}

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string{v->get_string()}
                                        : std::string{};
}

// Milliseconds as microseconds; -1 when absent or beyond an int64_t (a
// hand-edited 1e300 must not overflow the conversion).
int64_t ms_as_us(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number())
    return -1;
  auto us = v->to_number<double>() * 1000 + 0.5;
  return us > -9.2e18 && us < 9.2e18 ? static_cast<int64_t>(us) : -1;
}

// An integer, or -1 when absent or out of range; a fraction is cut off
// (to_number<int64_t> would throw on 1.5 or 1e300).
int64_t integer(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_number())
    return -1;
  if (v->is_int64())
    return v->get_int64();
  if (v->is_uint64())
    return v->get_uint64() <= INT64_MAX ? static_cast<int64_t>(v->get_uint64())
                                        : -1;
  auto d = v->get_double();
  return d > -9.2e18 && d < 9.2e18 ? static_cast<int64_t>(d) : -1;
}

} // namespace

uint64_t task_hash(std::string_view task_id) noexcept {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : task_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

int64_t parse_rfc3339(std::string_view t) {
  // "2026-11-26T05:53:24.123Z"
  int y, mo, d, h, mi, s, ms = 0;
  if (t.size() < 20
      || std::sscanf(std::string{t}.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo,
                     &d, &h, &mi, &s)
           != 6)
    return -1;
  if (t.size() >= 23 && t[19] == '.')
    ms = (t[20] - '0') * 100 + (t[21] - '0') * 10 + (t[22] - '0');
  // days_from_civil (Howard Hinnant)
  y -= mo <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return ((days * 86400 + h * 3600 + mi * 60 + s) * 1000 + ms) * 1000;
}

bool parse_result_line(const json::object& o, task_result& r) {
  auto* type = o.if_contains("type");
  if (type == nullptr || *type != "result")
    return false;
  r = task_result{};
  r.task_id = str(o, "task_id");
  r.dataset = str(o, "dataset");
  r.case_id = str(o, "case_id");
  if (auto* p = o.if_contains("params"))
    r.params_json = json::serialize(*p);
  bool ok = false;
  r.status = status_from(str(o, "status"), ok);
  if (!ok || r.task_id.empty())
    return false;
  if (auto* log = o.if_contains("attempt_log"); log && log->is_array())
    for (auto& a : log->get_array()) {
      if (!a.is_object())
        continue;
      auto& ao = a.get_object();
      attempt_record rec;
      bool sok = false;
      rec.status = status_from(str(ao, "status"), sok);
      rec.started_us = ms_as_us(ao, "started_ms");
      rec.duration_us = ms_as_us(ao, "duration_ms");
      rec.error = str(ao, "error");
      rec.http_status = static_cast<int32_t>(
        std::max<int64_t>(0, integer(ao, "http_status")));
      r.attempt_log.push_back(std::move(rec));
    }
  auto started = str(o, "started_at");
  auto finished = str(o, "finished_at");
  // Absolute times (since the epoch) stand in for run-relative ones.
  r.started_us = started.empty() ? -1 : parse_rfc3339(started);
  r.finished_us = parse_rfc3339(finished);
  r.latency_us = ms_as_us(o, "latency_ms");
  if (auto* out = o.if_contains("output"); out && !out->is_null())
    r.output_json = json::serialize(*out);
  r.error = str(o, "error");
  r.error_code = str(o, "error_code");
  r.http_status
    = static_cast<int32_t>(std::max<int64_t>(0, integer(o, "http_status")));
  r.tokens = integer(o, "tokens");
  r.first_event_us = ms_as_us(o, "first_event_ms");
  if (auto* c = o.if_contains("cached"); c && c->is_bool())
    r.cached = c->get_bool();
  if (auto* as = o.if_contains("assertions"); as && as->is_array())
    for (auto& a : as->get_array()) {
      if (!a.is_object())
        continue;
      auto& ao = a.get_object();
      assertion_result ar;
      ar.check = str(ao, "check");
      auto* p = ao.if_contains("passed");
      ar.passed = p != nullptr && p->is_bool() && p->get_bool();
      ar.detail = str(ao, "detail");
      r.assertions.push_back(std::move(ar));
    }
  return true;
}

config::result<results_index> results_index::read(const std::string& path,
                                                  bool strict) {
  if (auto err = config::check_input_file(path, "results file"))
    return *err;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return config::config_error{path + ": cannot open results file ("
                                + std::strerror(errno) + ")"};
  auto result = read(file, path, strict);
  std::fclose(file);
  return result;
}

config::result<results_index>
results_index::read(std::FILE* file, const std::string& path, bool strict) {
  results_index idx;
  idx.path_ = path;
  std::string error;
  std::vector<entry> all;
  bool seen_header = false;
  uint64_t offset = 0;
  std::string partial_start;
  auto on_line = [&](std::string_view line, uint32_t number, bool complete) {
    if (!error.empty())
      return;
    if (!complete) {
      idx.partial_bytes_ = line.size();
      partial_start = line.substr(0, 16);
      return;
    }
    offset += line.size() + 1;
    idx.complete_bytes_ = offset;
    json::error_code ec;
    auto v = parse_line(line, ec);
    if (!seen_header && (ec || !v.is_object())) {
      error = path + ":" + std::to_string(number)
              + ": not a troupe results file: expected a JSON header line "
                "({\"type\": \"header\", ...})";
      return;
    }
    if (ec || !v.is_object()) {
      if (strict)
        error = path + ":" + std::to_string(number)
                + ": not a JSON object; a results file holds one per line";
      else
        ++idx.broken_lines_;
      return;
    }
    auto& o = v.get_object();
    auto type = str(o, "type");
    if (!seen_header) {
      if (type != "header") {
        error = path
                + ":1: expected a header line ({\"type\": \"header\", "
                  "...}); is this a troupe results file?";
        return;
      }
      seen_header = true;
      auto& h = idx.header_;
      h.manifest_hash = str(o, "manifest_hash");
      h.version = str(o, "version");
      h.started_at = str(o, "started_at");
      h.started_at_us = parse_rfc3339(h.started_at);
      h.manifest = str(o, "manifest");
      h.name = str(o, "name");
      h.target = str(o, "target");
      h.tasks
        = static_cast<uint64_t>(std::max<int64_t>(0, integer(o, "tasks")));
      idx.runs_ = 1;
      return;
    }
    if (type == "header") {
      ++idx.runs_;
      return;
    }
    if (type != "result")
      return;
    auto id = str(o, "task_id");
    bool ok = false;
    auto status = status_from(str(o, "status"), ok);
    if (id.empty() || !ok) {
      if (strict)
        error = path + ":" + std::to_string(number)
                + ": a result line needs task_id and status";
      else
        ++idx.broken_lines_;
      return;
    }
    all.push_back({task_hash(id), number, status});
  };
  if (!for_each_line(file, path, on_line, error))
    return config::config_error{error};
  if (!error.empty())
    return config::config_error{error};
  if (!seen_header && idx.partial_bytes_ > 0
      && partial_start.compare(0, 15, "{\"type\":\"header") != 0)
    return config::config_error{
      path
      + ": not a troupe results file: " + std::to_string(idx.partial_bytes_)
      + " bytes without a line break, and no JSON header line"};
  if (!seen_header)
    return config::config_error{path
                                + ": empty results file (no header "
                                  "line)"};
  // The last line of each task wins.
  std::stable_sort(all.begin(), all.end(),
                   [](auto& x, auto& y) { return x.hash < y.hash; });
  for (size_t i = 0; i < all.size(); ++i)
    if (i + 1 == all.size() || all[i + 1].hash != all[i].hash)
      idx.entries_.push_back(all[i]);
  return idx;
}

std::optional<task_status>
results_index::last_status(const std::string& task_id) const {
  auto h = task_hash(task_id);
  auto i = std::lower_bound(entries_.begin(), entries_.end(), h,
                            [](auto& e, uint64_t x) { return e.hash < x; });
  if (i == entries_.end() || i->hash != h)
    return std::nullopt;
  return i->status;
}

bool results_index::for_each_last(
  const std::function<void(task_result&)>& f) const {
  std::string error;
  task_result r;
  auto on_line = [&](std::string_view line, uint32_t number, bool complete) {
    if (!complete)
      return;
    json::error_code ec;
    auto v = parse_line(line, ec);
    if (ec || !v.is_object() || !parse_result_line(v.get_object(), r))
      return;
    auto h = task_hash(r.task_id);
    auto i = std::lower_bound(entries_.begin(), entries_.end(), h,
                              [](auto& e, uint64_t x) { return e.hash < x; });
    if (i != entries_.end() && i->hash == h && i->line == number)
      f(r);
  };
  return for_each_line(path_, on_line, error);
}

} // namespace troupe::runtime
