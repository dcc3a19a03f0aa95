// Decodes header and result lines.

#include "actors/results/result_line_reader.hpp"

#include "actors/results/json_text.hpp"
#include "actors/results/result_fields.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <climits>
#include <cstdio>

namespace json = boost::json;

namespace troupe {

namespace {

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

int32_t http_status_of(const json::object& o) {
  return static_cast<int32_t>(
    std::max<int64_t>(0, integer(o, fields::http_status.name())));
}

attempt_record parse_attempt(const json::object& o) {
  namespace f = fields;
  attempt_record rec;
  auto status = str(o, f::status.name());
  rec.lost = status == lost_attempt_status;
  rec.status = rec.lost ? task_status::running
                        : parse_status(status).value_or(task_status::pending);
  rec.node = str(o, f::node.name());
  rec.started_us = ms_as_us(o, f::started_ms.name());
  rec.duration_us = ms_as_us(o, f::duration_ms.name());
  rec.error = str(o, f::error.name());
  rec.http_status = http_status_of(o);
  rec.latency_us = ms_as_us(o, f::latency_ms.name());
  rec.queue_us = ms_as_us(o, f::queue_ms.name());
  rec.connect_us = ms_as_us(o, f::connect_ms.name());
  return rec;
}

assertion_result parse_assertion(const json::object& o) {
  namespace f = fields;
  assertion_result ar;
  ar.check = str(o, f::check.name());
  auto* p = o.if_contains(f::passed.name());
  ar.passed = p != nullptr && p->is_bool() && p->get_bool();
  ar.detail = str(o, f::detail.name());
  return ar;
}

// Calls `f` with each object in the array `key`, skipping other values.
template <class F>
void for_each_object(const json::object& o, std::string_view key, F f) {
  auto* list = o.if_contains(key);
  if (list == nullptr || !list->is_array())
    return;
  for (auto& x : list->get_array())
    if (x.is_object())
      f(x.get_object());
}

turn_result parse_turn(const json::object& o) {
  namespace f = fields;
  turn_result t;
  t.query = str(o, f::query.name());
  t.status
    = parse_status(str(o, f::status.name())).value_or(task_status::pending);
  t.attempts = static_cast<uint32_t>(
    std::clamp<int64_t>(integer(o, f::attempts.name()), 0, UINT32_MAX));
  t.latency_us = ms_as_us(o, f::latency_ms.name());
  if (auto* out = o.if_contains(f::output.name()); out && !out->is_null())
    t.output_json = json::serialize(*out);
  t.error = str(o, f::error.name());
  t.tokens = integer(o, f::tokens.name());
  t.conversation_id = str(o, f::conversation_id.name());
  t.message_id = str(o, f::message_id.name());
  for_each_object(o, f::assertions.name(), [&](const json::object& a) {
    t.assertions.push_back(parse_assertion(a));
  });
  return t;
}

} // namespace

json::value parse_results_json(std::string_view line, json::error_code& ec) {
  auto v = json::parse(line, ec);
  if (!ec && !all_finite(v))
    ec = json::make_error_code(json::error::exponent_overflow);
  return v;
}

std::string_view line_type(const json::object& line) {
  auto* v = line.if_contains(fields::type.name());
  return v != nullptr && v->is_string() ? std::string_view{v->get_string()}
                                        : std::string_view{};
}

std::optional<task_status> parse_status(std::string_view name) {
  for (size_t i = 0; i < task_status_count; ++i)
    if (name == status_name(static_cast<task_status>(i)))
      return static_cast<task_status>(i);
  return std::nullopt;
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

bool parse_header_line(const json::object& o, results_header& h) {
  namespace f = fields;
  if (line_type(o) != line_type_of(header_line_prefix))
    return false;
  h.manifest_hash = str(o, f::manifest_hash.name());
  h.version = str(o, f::version.name());
  h.started_at = str(o, f::started_at.name());
  h.started_at_us = parse_rfc3339(h.started_at);
  h.manifest = str(o, f::manifest.name());
  h.name = str(o, f::name.name());
  h.target = str(o, f::target.name());
  h.tasks
    = static_cast<uint64_t>(std::max<int64_t>(0, integer(o, f::tasks.name())));
  return true;
}

bool parse_result_key(const json::object& o, result_key& key) {
  if (line_type(o) != line_type_of(result_line_prefix))
    return false;
  key.task_id = str(o, fields::task_id.name());
  auto status = parse_status(str(o, fields::status.name()));
  if (!status || key.task_id.empty())
    return false;
  key.status = *status;
  return true;
}

bool parse_result_line(const json::object& o, task_result& r) {
  namespace f = fields;
  result_key key;
  if (!parse_result_key(o, key))
    return false;
  r = task_result{};
  r.task_id = std::move(key.task_id);
  r.status = key.status;
  r.dataset = str(o, f::dataset.name());
  r.case_id = str(o, f::case_id.name());
  if (auto* p = o.if_contains(f::params.name()))
    r.params_json = json::serialize(*p);
  for_each_object(o, f::attempt_log.name(), [&](const json::object& a) {
    r.attempt_log.push_back(parse_attempt(a));
  });
  auto started = str(o, f::started_at.name());
  // Absolute times (since the epoch) stand in for run-relative ones.
  r.started_us = started.empty() ? -1 : parse_rfc3339(started);
  r.finished_us = parse_rfc3339(str(o, f::finished_at.name()));
  r.latency_us = ms_as_us(o, f::latency_ms.name());
  r.queue_us = ms_as_us(o, f::queue_ms.name());
  r.connect_us = ms_as_us(o, f::connect_ms.name());
  if (auto* out = o.if_contains(f::output.name()); out && !out->is_null())
    r.output_json = json::serialize(*out);
  r.error = str(o, f::error.name());
  r.error_code = str(o, f::error_code.name());
  r.http_status = http_status_of(o);
  r.tokens = integer(o, f::tokens.name());
  r.first_event_us = ms_as_us(o, f::first_event_ms.name());
  if (auto* c = o.if_contains(f::cached.name()); c && c->is_bool())
    r.cached = c->get_bool();
  r.node = str(o, f::node.name());
  for_each_object(o, f::assertions.name(), [&](const json::object& a) {
    r.assertions.push_back(parse_assertion(a));
  });
  for_each_object(o, f::turns.name(), [&](const json::object& t) {
    r.turns.push_back(parse_turn(t));
  });
  return true;
}

} // namespace troupe
