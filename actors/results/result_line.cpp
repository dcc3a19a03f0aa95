// Encodes header, result and summary lines. Keys are compile-time text
// (result_fields.hpp) and numbers go through to_chars: this runs once per
// finished task on the sink's thread (benchmark B1).

#include "actors/results/result_line.hpp"

#include "actors/results/result_fields.hpp"

#include <fmt/format.h>

#include <charconv>
#include <iterator>

namespace troupe {

namespace {

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

void append_status(std::string& out, task_status s) {
  out += '"';
  out += status_name(s);
  out += '"';
}

// The text, or null when empty.
void append_text_or_null(std::string& out, const std::string& text) {
  if (text.empty())
    out += "null";
  else
    append_json_string(out, text);
}

// Dify's identifiers and figures, as far as the call produced them.
void append_dify(std::string& out, const dify_info& d) {
  out.append(fields::dify.key());
  out += '{';
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
  if (!d.files_json.empty()) {
    field("files");
    out += d.files_json; // JSON already, built by the stream's reader
  }
  out += '}';
}

// `key` and the milliseconds, or null when unknown (< 0).
void append_ms_or_null(std::string& out, std::string_view key, int64_t us) {
  out.append(key);
  if (us >= 0)
    append_ms(out, us);
  else
    out += "null";
}

void append_attempt(std::string& out, const attempt_record& a) {
  out.append(fields::status.open_key());
  if (a.lost)
    append_json_string(out, lost_attempt_status);
  else
    append_status(out, a.status);
  out.append(fields::started_ms.key());
  append_ms(out, a.started_us);
  out.append(fields::duration_ms.key());
  append_ms(out, a.duration_us);
  out.append(fields::error.key());
  append_text_or_null(out, a.error);
  if (a.http_status != 0) {
    out.append(fields::http_status.key());
    append_int(out, a.http_status);
  }
  if (!a.node.empty()) {
    out.append(fields::node.key());
    append_json_string(out, a.node);
  }
  if (a.latency_us >= 0) {
    out.append(fields::latency_ms.key());
    append_ms(out, a.latency_us);
    append_ms_or_null(out, fields::queue_ms.key(), a.queue_us);
    append_ms_or_null(out, fields::connect_ms.key(), a.connect_us);
  }
  out += '}';
}

void append_assertion(std::string& out, const assertion_result& a) {
  out.append(fields::check.open_key());
  append_json_string(out, a.check);
  out.append(fields::passed.key());
  out.append(a.passed ? "true" : "false");
  out.append(fields::detail.key());
  append_json_string(out, a.detail);
  out += '}';
}

// One turn of a conversation, in the order of the turn_result fields.
void append_turn(std::string& out, const turn_result& t) {
  namespace f = fields;
  out.append(f::query.open_key());
  append_json_string(out, t.query);
  out.append(f::status.key());
  append_status(out, t.status);
  out.append(f::attempts.key());
  append_uint(out, t.attempts);
  out.append(f::latency_ms.key());
  if (t.latency_us >= 0)
    append_ms(out, t.latency_us);
  else
    out += "null";
  out.append(f::output.key());
  out += t.output_json.empty() ? "null" : t.output_json;
  out.append(f::error.key());
  append_text_or_null(out, t.error);
  // tokens and assertions always, as product.md lists them per turn.
  out.append(f::tokens.key());
  if (t.tokens >= 0)
    append_int(out, t.tokens);
  else
    out += "null";
  if (!t.conversation_id.empty()) {
    out.append(f::conversation_id.key());
    append_json_string(out, t.conversation_id);
  }
  if (!t.message_id.empty()) {
    out.append(f::message_id.key());
    append_json_string(out, t.message_id);
  }
  out.append(f::assertions.key());
  append_array(out, t.assertions,
               [&](const assertion_result& a) { append_assertion(out, a); });
  out += '}';
}

} // namespace

std::string encode_header(const header_info& h) {
  namespace f = fields;
  std::string out{header_line_prefix};
  out.append(f::manifest_hash.key());
  append_json_string(out, h.manifest_hash);
  out.append(f::version.key());
  append_json_string(out, h.version);
  out.append(f::started_at.key());
  out += '"' + format_rfc3339(h.started_at_us) + '"';
  out.append(f::manifest.key());
  append_json_string(out, h.manifest);
  out.append(f::name.key());
  append_json_string(out, h.name);
  out.append(f::target.key());
  append_json_string(out, h.target);
  out.append(f::tasks.key());
  append_uint(out, h.tasks);
  if (h.resumed) {
    out.append(f::resumed.key());
    out += "true";
  }
  if (!h.executor.empty()) {
    out.append(f::executor.key());
    append_json_string(out, h.executor);
  }
  out += "}\n";
  return out;
}

void append_result_line(std::string& out, const task_result& r,
                        int64_t epoch_us) {
  namespace f = fields;
  out.append(result_line_prefix);
  out.append(f::task_id.key());
  append_json_string(out, r.task_id);
  out.append(f::dataset.key());
  append_json_string(out, r.dataset);
  out.append(f::case_id.key());
  append_json_string(out, r.case_id);
  out.append(f::params.key());
  out += r.params_json.empty() ? "{}" : r.params_json;
  out.append(f::status.key());
  append_status(out, r.status);
  out.append(f::attempts.key());
  append_uint(out, r.attempts());
  out.append(f::attempt_log.key());
  append_array(out, r.attempt_log,
               [&](const attempt_record& a) { append_attempt(out, a); });
  out.append(f::started_at.key());
  if (r.started_us >= 0)
    append_time(out, epoch_us, r.started_us);
  else
    out += "null";
  out.append(f::finished_at.key());
  append_time(out, epoch_us, r.finished_us);
  append_ms_or_null(out, f::latency_ms.key(), r.latency_us);
  append_ms_or_null(out, f::queue_ms.key(), r.queue_us);
  append_ms_or_null(out, f::connect_ms.key(), r.connect_us);
  out.append(f::output.key());
  out += r.output_json.empty() ? "null" : r.output_json;
  out.append(f::error.key());
  append_text_or_null(out, r.error);
  if (!r.error_code.empty()) {
    out.append(f::error_code.key());
    append_json_string(out, r.error_code);
  }
  if (r.http_status != 0) {
    out.append(f::http_status.key());
    append_int(out, r.http_status);
  }
  if (r.tokens >= 0) {
    out.append(f::tokens.key());
    append_int(out, r.tokens);
  }
  if (r.first_event_us >= 0) {
    out.append(f::first_event_ms.key());
    append_ms(out, r.first_event_us);
  }
  if (!r.dify.empty())
    append_dify(out, r.dify);
  if (!r.assertions.empty()) {
    out.append(f::assertions.key());
    append_array(out, r.assertions,
                 [&](const assertion_result& a) { append_assertion(out, a); });
  }
  if (r.cached) {
    out.append(f::cached.key());
    out += "true";
  }
  if (!r.node.empty()) {
    out.append(f::node.key());
    append_json_string(out, r.node);
  }
  if (!r.turns.empty()) {
    out.append(f::turns.key());
    append_array(out, r.turns,
                 [&](const turn_result& t) { append_turn(out, t); });
  }
  out += "}\n";
}

std::string encode_summary(const run_summary& s, int64_t epoch_us, bool type) {
  std::string out = type ? std::string{summary_line_prefix} + ',' : "{";
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
  fmt::format_to(std::back_inserter(out), "{:.1f}", s.tasks_per_second());
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

} // namespace troupe
