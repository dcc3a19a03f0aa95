// troupe diff: reads both files (last line of each task), then compares
// task by task.

#include "runtime/diff.hpp"

#include "actors/results/status_order.hpp"
#include "messages/task.hpp"
#include "runtime/results_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unordered_map>

namespace troupe::runtime {

namespace {

/// What diff keeps of one task.
struct kept_task {
  std::string dataset;
  task_status status = task_status::pending;
  std::string error;
  int64_t latency_us = -1;
  int64_t tokens = -1;
  std::string output;
  /// Check name to passed; a name used twice keeps its last entry.
  std::map<std::string, bool> checks;
};

struct side {
  results_header header;
  /// In file order, for stable listings.
  std::vector<std::string> order;
  std::unordered_map<std::string, kept_task> tasks;
};

config::result<side> read_side(const std::string& path) {
  auto loaded = results_index::read(path, false);
  if (auto* err = std::get_if<config::config_error>(&loaded))
    return *err;
  auto& idx = std::get<results_index>(loaded);
  side s;
  s.header = idx.header();
  bool ok = idx.for_each_last([&](task_result& r) {
    kept_task t;
    t.dataset = r.dataset;
    t.status = r.status;
    t.error = r.error.empty() ? r.error_code : r.error;
    t.latency_us = r.status == task_status::cancelled ? -1 : r.latency_us;
    t.tokens = r.tokens;
    t.output = std::move(r.output_json);
    for (auto& a : r.assertions)
      t.checks[a.check] = a.passed;
    s.order.push_back(r.task_id);
    s.tasks.emplace(std::move(r.task_id), std::move(t));
  });
  if (!ok)
    return config::config_error{path + ": cannot read it again ("
                                + std::strerror(errno) + ")"};
  return s;
}

// The nearest-rank percentile of `xs`, sorted.
int64_t percentile(const std::vector<int64_t>& xs, double p) {
  if (xs.empty())
    return -1;
  auto rank
    = static_cast<size_t>(std::ceil(p * static_cast<double>(xs.size())));
  return xs[std::max<size_t>(rank, 1) - 1];
}

std::string ms_text(int64_t us) {
  return fmt::format("{:.1f}", static_cast<double>(us) / 1e3);
}

void compare_task(run_diff& d, const std::string& id, const kept_task& a,
                  const kept_task& b, double slower) {
  bool was_ok = a.status == task_status::succeeded;
  bool is_ok = b.status == task_status::succeeded;
  auto before = std::string{to_string(a.status)};
  auto after = std::string{to_string(b.status)};
  if (was_ok && !is_ok)
    d.newly_failing.push_back({id, before, after, b.error});
  else if (!was_ok && is_ok)
    d.fixed.push_back({id, before, after, a.error});
  else if (a.status != b.status)
    d.other_status.push_back({id, before, after, b.error});
  for (auto& [check, passed] : b.checks) {
    auto old = a.checks.find(check);
    // A check the base did not have counts as passing before.
    bool passed_before = old == a.checks.end() || old->second;
    if (passed_before && !passed)
      d.checks_newly_failing.push_back({id, "passed", "failed", check});
    else if (old != a.checks.end() && !old->second && passed)
      d.checks_newly_passing.push_back({id, "failed", "passed", check});
  }
  if (a.latency_us > 0 && b.latency_us > 0
      && static_cast<double>(b.latency_us)
           > slower * static_cast<double>(a.latency_us)
      && b.latency_us - a.latency_us >= 1000)
    d.slower.push_back(
      {id, ms_text(a.latency_us), ms_text(b.latency_us),
       fmt::format("{:.1f}x", static_cast<double>(b.latency_us)
                                / static_cast<double>(a.latency_us))});
  if (a.output != b.output && was_ok && is_ok)
    d.outputs_changed.push_back({id, a.output, b.output, {}});
}

} // namespace

config::result<run_diff> compare_runs(const diff_options& opts) {
  auto base_read = read_side(opts.base);
  if (auto* err = std::get_if<config::config_error>(&base_read))
    return *err;
  auto next_read = read_side(opts.next);
  if (auto* err = std::get_if<config::config_error>(&next_read))
    return *err;
  auto& base = std::get<side>(base_read);
  auto& next = std::get<side>(next_read);
  run_diff d;
  d.base_path = opts.base;
  d.next_path = opts.next;
  d.base_name = base.header.name;
  d.next_name = next.header.name;
  if (base.header.manifest_hash != next.header.manifest_hash)
    d.manifest_warning = fmt::format(
      "the runs' manifests differ (hash {} and {}): tasks are matched by id "
      "all the same",
      base.header.manifest_hash, next.header.manifest_hash);
  d.base_tasks = base.tasks.size();
  d.next_tasks = next.tasks.size();
  std::map<std::string, std::pair<std::vector<int64_t>, std::vector<int64_t>>>
    latencies;
  std::array<std::pair<uint64_t, uint64_t>, task_status_count> counts{};
  auto count_side = [&](const side& s, bool is_base) {
    for (auto& [id, t] : s.tasks) {
      auto& c = counts[static_cast<size_t>(t.status)];
      (is_base ? c.first : c.second) += 1;
      auto& ds = d.datasets[t.dataset];
      auto tokens = t.tokens > 0 ? static_cast<uint64_t>(t.tokens) : 0;
      (is_base ? ds.base_tokens : ds.next_tokens) += tokens;
      (is_base ? d.base_tokens : d.next_tokens) += tokens;
      if (t.latency_us >= 0) {
        auto& l = latencies[t.dataset];
        (is_base ? l.first : l.second).push_back(t.latency_us);
      }
    }
  };
  count_side(base, true);
  count_side(next, false);
  for (auto& look : status_order) {
    auto& c = counts[static_cast<size_t>(look.status)];
    if (c.first + c.second > 0)
      d.status_counts.emplace_back(to_string(look.status), c);
  }
  for (auto& [name, l] : latencies) {
    auto& ds = d.datasets[name];
    std::sort(l.first.begin(), l.first.end());
    std::sort(l.second.begin(), l.second.end());
    const double ps[3] = {0.5, 0.9, 0.99};
    for (int i = 0; i < 3; ++i) {
      ds.base_p[i] = percentile(l.first, ps[i]);
      ds.next_p[i] = percentile(l.second, ps[i]);
    }
  }
  for (auto& id : base.order) {
    auto n = next.tasks.find(id);
    if (n == next.tasks.end())
      d.only_in_base.push_back(id);
    else
      compare_task(d, id, base.tasks.at(id), n->second, opts.slower);
  }
  for (auto& id : next.order)
    if (base.tasks.count(id) == 0)
      d.only_in_next.push_back(id);
  return d;
}

namespace {

// `at`, moved back to the start of a UTF-8 character.
size_t char_start(const std::string& s, size_t at) {
  while (at > 0 && at < s.size()
         && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80)
    --at;
  return at;
}

} // namespace

std::string cut_text(const std::string& s, size_t width) {
  if (s.size() <= width)
    return s;
  return s.substr(0, char_start(s, width)) + "...";
}

std::pair<std::string, std::string> short_change(const std::string& before,
                                                 const std::string& after,
                                                 size_t width) {
  if (before.size() <= width && after.size() <= width)
    return {before, after};
  size_t prefix = 0;
  while (prefix < before.size() && prefix < after.size()
         && before[prefix] == after[prefix])
    ++prefix;
  size_t suffix = 0;
  while (suffix < before.size() - prefix && suffix < after.size() - prefix
         && before[before.size() - 1 - suffix]
              == after[after.size() - 1 - suffix])
    ++suffix;
  // Some context around the part that differs.
  constexpr size_t before_context = 12;
  constexpr size_t after_context = 5;
  auto from = prefix > before_context ? prefix - before_context : 0;
  auto view = [&](const std::string& s) {
    auto start = char_start(s, from);
    auto end = std::min(s.size(), s.size() - suffix + after_context);
    auto stop = std::min(end, start + width);
    if (stop < s.size())
      stop = char_start(s, stop);
    return (start > 0 ? "..." : "") + s.substr(start, stop - start)
           + (stop < s.size() ? "..." : "");
  };
  return {view(before), view(after)};
}

int diff(const diff_options& opts) {
  auto compared = compare_runs(opts);
  if (auto* err = std::get_if<config::config_error>(&compared)) {
    std::fprintf(stderr, "troupe: %s\n", err->message.c_str());
    return 2;
  }
  auto& d = std::get<run_diff>(compared);
  if (!opts.html.empty()) {
    std::ofstream out{opts.html, std::ios::binary | std::ios::trunc};
    out << render_diff_html(d);
    out.close();
    if (!out) {
      std::fprintf(stderr, "troupe: %s: cannot write the HTML diff (%s)\n",
                   opts.html.c_str(), std::strerror(errno));
      return 2;
    }
  }
  auto text = opts.json ? render_diff_json(d) + "\n" : render_diff_text(d);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  return d.worse() ? 1 : 0;
}

} // namespace troupe::runtime
