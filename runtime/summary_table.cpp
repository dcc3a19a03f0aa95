// Formats a run summary for people.

#include "runtime/summary_table.hpp"

#include <fmt/format.h>

#include <iterator>
#include <utility>

namespace troupe::runtime {

namespace {

std::string ms_text(int64_t us) {
  if (us < 0)
    return "-";
  return fmt::format("{:.1f}", static_cast<double>(us) / 1e3);
}

std::string wall_text(int64_t us) {
  return fmt::format("{:.3f} s", static_cast<double>(us) / 1e6);
}

template <class... Ts>
void line(std::string& out, fmt::format_string<Ts...> text, Ts&&... xs) {
  fmt::format_to(std::back_inserter(out), text, std::forward<Ts>(xs)...);
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
    case run_end::no_nodes:
      how = "stopped: no node left";
      break;
  }
  line(out, "run \"{}\" {} in {}", name, how, wall_text(s.wall_us));
  if (!s.reason.empty())
    line(out, "  reason: {}", s.reason);
  line(out, "  {:<10} {:>10}", "status", "tasks");
  for (size_t i = static_cast<size_t>(task_status::succeeded);
       i < task_status_count; ++i)
    line(out, "  {:<10} {:>10}", status_name(static_cast<task_status>(i)),
         s.counts[i]);
  line(out, "  {:<10} {:>10}", "total", s.total);
  line(out, "  attempts {}, retries {}, wall {}, {:.1f} tasks/s", s.attempts,
       s.retries, wall_text(s.wall_us), s.tasks_per_second());
  line(out, "  latency ms: p50 {}  p90 {}  p99 {}  max {}", ms_text(s.p50_us),
       ms_text(s.p90_us), ms_text(s.p99_us), ms_text(s.max_us));
  if (s.tokens > 0)
    line(out, "  tokens: {}", s.tokens);
  if (s.concurrency_final > 0)
    line(out, "  adaptive concurrency: {} at the end, {} at the lowest",
         s.concurrency_final, s.concurrency_min);
  if (s.cached > 0)
    line(out, "  from the result cache: {}", s.cached);
  if (!s.slowest.empty()) {
    line(out, "  slowest:");
    for (auto& n : s.slowest)
      line(out, "    {:>10} ms  {}", ms_text(n.latency_us), n.task_id);
  }
  if (!s.failures.empty()) {
    line(out, "  not succeeded, by error code:");
    for (auto& g : s.failures)
      line(out, "    {:<18} {:>8}  e.g. {}: {}", g.error_code, g.count,
           g.example.task_id, g.example.error);
  }
  if (s.assertions_failed > 0) {
    line(out, "  assertions failed: {} tasks", s.assertions_failed);
    for (auto& a : s.assertion_failures)
      line(out, "    {}  {}: {}", a.task_id, a.check, a.detail);
  }
  if (!results_path.empty())
    line(out, "  results: {}", results_path);
  return out;
}

} // namespace troupe::runtime
