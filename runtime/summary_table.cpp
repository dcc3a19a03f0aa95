// Formats a run summary for people.

#include "runtime/summary_table.hpp"

#include <cstdarg>
#include <cstdio>

namespace troupe::runtime {

namespace {

std::string ms_text(int64_t us) {
  if (us < 0)
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(us) / 1e3);
  return buf;
}

std::string wall_text(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f s", static_cast<double>(us) / 1e6);
  return buf;
}

void line(std::string& out, const char* fmt, ...)
  __attribute__((format(printf, 2, 3)));

void line(std::string& out, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  out += buf;
  out += '\n';
}

} // namespace

std::string summary_table(const run_summary& s, const std::string& name,
                          const std::string& results_path) {
  std::string out;
  const char* how = "completed";
  switch (s.end) {
    case run_end::completed:
      break;
    case run_end::cancelled:
      how = "cancelled";
      break;
    case run_end::aborted:
      how = "aborted";
      break;
    case run_end::deadline:
      how = "stopped at its deadline";
      break;
    case run_end::unwritable:
      how = "stopped: results could not be written";
      break;
  }
  line(out, "run \"%s\" %s in %s", name.c_str(), how,
       wall_text(s.wall_us).c_str());
  if (!s.reason.empty())
    line(out, "  reason: %s", s.reason.c_str());
  line(out, "  %-10s %10s", "status", "tasks");
  for (size_t i = static_cast<size_t>(task_status::succeeded);
       i < task_status_count; ++i)
    line(out, "  %-10s %10llu", status_name(static_cast<task_status>(i)),
         static_cast<unsigned long long>(s.counts[i]));
  line(out, "  %-10s %10llu", "total",
       static_cast<unsigned long long>(s.total));
  line(out, "  attempts %llu, retries %llu, wall %s, %.1f tasks/s",
       static_cast<unsigned long long>(s.attempts),
       static_cast<unsigned long long>(s.retries), wall_text(s.wall_us).c_str(),
       s.tasks_per_second());
  line(out, "  latency ms: p50 %s  p90 %s  p99 %s  max %s",
       ms_text(s.p50_us).c_str(), ms_text(s.p90_us).c_str(),
       ms_text(s.p99_us).c_str(), ms_text(s.max_us).c_str());
  if (s.tokens > 0)
    line(out, "  tokens: %llu", static_cast<unsigned long long>(s.tokens));
  if (s.concurrency_final > 0)
    line(out, "  adaptive concurrency: %u at the end, %u at the lowest",
         s.concurrency_final, s.concurrency_min);
  if (s.cached > 0)
    line(out, "  from the result cache: %llu",
         static_cast<unsigned long long>(s.cached));
  if (!s.slowest.empty()) {
    line(out, "  slowest:");
    for (auto& n : s.slowest)
      line(out, "    %10s ms  %s", ms_text(n.latency_us).c_str(),
           n.task_id.c_str());
  }
  if (!s.failures.empty()) {
    line(out, "  not succeeded, by error code:");
    for (auto& g : s.failures)
      line(out, "    %-18s %8llu  e.g. %s: %s", g.error_code.c_str(),
           static_cast<unsigned long long>(g.count), g.example.task_id.c_str(),
           g.example.error.c_str());
  }
  if (s.assertions_failed > 0) {
    line(out, "  assertions failed: %llu tasks",
         static_cast<unsigned long long>(s.assertions_failed));
    for (auto& a : s.assertion_failures)
      line(out, "    %s  %s: %s", a.task_id.c_str(), a.check.c_str(),
           a.detail.c_str());
  }
  if (!results_path.empty())
    line(out, "  results: %s", results_path.c_str());
  return out;
}

} // namespace troupe::runtime
