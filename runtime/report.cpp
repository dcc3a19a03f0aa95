// troupe report.

#include "runtime/report.hpp"

#include "actors/results/result_line.hpp"
#include "actors/supervisor/run_stats.hpp"
#include "runtime/html_report.hpp"
#include "runtime/junit_report.hpp"
#include "runtime/results_target.hpp"
#include "runtime/summary_table.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace troupe::runtime {

namespace {

constexpr size_t latency_bucket_count = 72; // 10 us .. 10^9 us
constexpr size_t row_limit = 500;

size_t latency_bucket(int64_t us) {
  if (us < 10)
    return 0;
  auto i = static_cast<size_t>(std::floor(std::log10(us / 10.0) * 8));
  return std::min(i, latency_bucket_count - 1);
}

} // namespace

double latency_edge_us(size_t i) {
  return 10.0 * std::pow(10.0, static_cast<double>(i) / 8.0);
}

config::result<report_data>
build_report(const std::string& path,
             const std::function<void(const task_result&)>& each,
             bool with_matrix) {
  auto loaded = results_index::read(path, false);
  if (auto* err = std::get_if<config::config_error>(&loaded))
    return *err;
  auto& idx = std::get<results_index>(loaded);
  report_data d;
  d.header = idx.header();
  d.runs = idx.runs();
  d.partial_bytes = idx.partial_bytes();
  d.broken_lines = idx.broken_lines();
  d.latency_buckets.assign(latency_bucket_count, 0);
  run_stats stats;
  d.first_start_us = d.header.started_at_us;
  d.matrix.cell_cap
    = matrix_cell_cap(std::min<uint64_t>(idx.tasks(), matrix_cell_limit));
  bool ok = idx.for_each_last([&](task_result& r) {
    if (each)
      each(r);
    stats.add(r);
    if (with_matrix)
      add_to_matrix(d.matrix, r);
    auto& ds = d.datasets[r.dataset];
    ds.counts[static_cast<size_t>(r.status)] += 1;
    if (r.tokens > 0)
      ds.tokens += static_cast<uint64_t>(r.tokens);
    if (r.latency_us >= 0 && r.status != task_status::cancelled) {
      d.latency_buckets[latency_bucket(r.latency_us)] += 1;
      ++ds.latency_count;
      // A systematic sample keeps memory bounded on huge files.
      if (ds.latencies_sample.size() < 2000)
        ds.latencies_sample.push_back(r.latency_us);
    }
    if (r.finished_us > 0) {
      d.last_finish_us = std::max(d.last_finish_us, r.finished_us);
      // The header's start, unless a line is older (a hand-made header).
      if (d.first_start_us < 0 || r.finished_us < d.first_start_us)
        d.first_start_us = r.finished_us;
    }
    if (r.status != task_status::succeeded) {
      ++d.failed_total;
      if (d.failed.size() < row_limit)
        d.failed.push_back(
          {r.task_id, status_name(r.status), r.attempts(), r.error});
    } else if (r.assertions_failed()) {
      ++ds.assertions_failed;
      ++d.assertion_failed_total;
      if (d.assertion_failed.size() < row_limit) {
        std::string what;
        for (auto& a : r.assertions)
          if (!a.passed)
            what += (what.empty() ? "" : "; ") + a.check + ": " + a.detail;
        d.assertion_failed.push_back(
          {r.task_id, status_name(task_status::succeeded), r.attempts(), what});
      }
    }
  });
  if (!ok)
    return config::config_error{path + ": cannot read results file"};
  // Throughput: a second look at finish times, now that the start is known.
  idx.for_each_last([&](task_result& r) {
    if (r.finished_us > 0 && d.first_start_us >= 0)
      d.finished_per_second[(r.finished_us - d.first_start_us) / 1'000'000]
        += 1;
  });
  sort_matrix(d.matrix);
  d.summary = stats.summary();
  d.summary.total = std::max<uint64_t>(d.header.tasks, idx.tasks());
  d.missing = d.summary.total > idx.tasks() ? d.summary.total - idx.tasks() : 0;
  d.summary.counts[static_cast<size_t>(task_status::pending)] = d.missing;
  d.summary.finished_this_run = idx.tasks();
  if (d.first_start_us >= 0 && d.last_finish_us > d.first_start_us)
    d.summary.wall_us = d.last_finish_us - d.first_start_us;
  if (d.missing > 0) {
    d.summary.end = run_end::cancelled;
    d.summary.reason = std::to_string(d.missing)
                       + " tasks have no result line (the run was "
                         "interrupted); --resume runs them";
  }
  return d;
}

int report(const report_options& opts) {
  // An output naming the results file would destroy what it sums up.
  for (auto* out : {&opts.html, &opts.summary_json, &opts.junit}) {
    std::error_code ec;
    if (!out->empty() && std::filesystem::equivalent(*out, opts.results, ec)) {
      std::fprintf(stderr,
                   "troupe: %s: this is the results file; report never "
                   "overwrites it (choose another file)\n",
                   out->c_str());
      return 2;
    }
  }
  junit_builder junit;
  std::function<void(const task_result&)> each;
  if (!opts.junit.empty())
    each = [&junit](const task_result& r) { junit.add(r); };
  auto built = build_report(opts.results, each, !opts.html.empty());
  if (auto* err = std::get_if<config::config_error>(&built)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return 2;
  }
  auto& d = std::get<report_data>(built);
  if (d.partial_bytes > 0)
    std::fprintf(stderr,
                 "troupe: %s: ignored a partial last line (%llu bytes) left "
                 "by an interrupted writer\n",
                 opts.results.c_str(),
                 static_cast<unsigned long long>(d.partial_bytes));
  if (d.broken_lines > 0)
    std::fprintf(stderr, "troupe: %s: skipped %llu lines that are not JSON\n",
                 opts.results.c_str(),
                 static_cast<unsigned long long>(d.broken_lines));
  auto summary_json = encode_summary(d.summary, d.first_start_us, false);
  if (opts.json)
    std::printf("%s\n", summary_json.c_str());
  else
    std::fputs(summary_table(d.summary, d.header.name, opts.results).c_str(),
               stdout);
  // Each file asked for, in a fixed order; the first that cannot be
  // written ends the command with exit 2, as --html always has.
  struct output {
    const std::string& path;
    const char* label; // on the closing lines of the table
    const char* noun;  // in the error
    std::function<std::string()> text;
  };
  output outputs[] = {
    {opts.html, "html report", "report",
     [&] { return render_html_report(d, opts.results); }},
    {opts.summary_json, "summary json", "summary",
     [&] { return summary_json + "\n"; }},
    {opts.junit, "junit xml", "JUnit XML",
     [&] { return junit.finish(d.header.name, d.missing); }},
  };
  for (auto& o : outputs) {
    if (o.path.empty())
      continue;
    if (!write_text_file(o.path, o.text())) {
      std::fprintf(stderr, "troupe: %s: cannot write the %s (%s)\n",
                   o.path.c_str(), o.noun, std::strerror(errno));
      return 2;
    }
    if (!opts.json)
      std::printf("  %s: %s\n", o.label, o.path.c_str());
  }
  return 0;
}

} // namespace troupe::runtime
