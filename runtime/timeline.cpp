// The --virtual-time timeline, read back from the results file.

#include "runtime/timeline.hpp"

#include "actors/results/result_line.hpp"
#include "runtime/results_file.hpp"
#include "runtime/results_target.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace troupe::runtime {

// Prints each attempt's start, duration and outcome, in virtual ms, from
// the results file; all of them to `file` when given.
void print_timeline(const std::string& results, const std::string& file) {
  struct row {
    int64_t start;
    int64_t duration;
    std::string task;
    size_t attempt;
    task_status status;
  };
  std::vector<row> rows;
  auto loaded = results_index::read(results, false);
  if (auto* idx = std::get_if<results_index>(&loaded))
    idx->for_each_last([&](task_result& r) {
      for (size_t i = 0; i < r.attempt_log.size(); ++i)
        rows.push_back({r.attempt_log[i].started_us,
                        r.attempt_log[i].duration_us, r.task_id, i + 1,
                        r.attempt_log[i].status});
    });
  std::stable_sort(rows.begin(), rows.end(),
                   [](auto& x, auto& y) { return x.start < y.start; });
  auto format = [](const row& r) {
    std::string start;
    std::string duration;
    append_ms(start, r.start);
    append_ms(duration, r.duration);
    return fmt::format("{:>12} {:>12}  {:<10} {:>3}  {}\n", start, duration,
                       status_name(r.status), r.attempt, r.task);
  };
  const char* head = "timeline (virtual ms):\n    start_ms  duration_ms  "
                     "outcome   try  task\n";
  if (!file.empty()) {
    std::string text = head;
    for (auto& r : rows)
      text += format(r);
    if (!write_text_file(file, text))
      std::fprintf(stderr, "troupe: %s: cannot write the timeline\n",
                   file.c_str());
  }
  std::fputs(head, stdout);
  const size_t first = 150;
  const size_t last = 50;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows.size() > first + last && i == first) {
      std::printf("  ... %zu attempts left out (--timeline FILE has them "
                  "all) ...\n",
                  rows.size() - first - last);
      i = rows.size() - last;
    }
    std::fputs(format(rows[i]).c_str(), stdout);
  }
}

} // namespace troupe::runtime
