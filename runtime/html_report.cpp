// Renders report data as one HTML page with inline SVG charts.

#include "runtime/html_report.hpp"

#include "actors/results/result_line.hpp"
#include "actors/results/status_order.hpp"
#include "runtime/html_matrix.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace troupe::runtime {

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string esc(const std::string& s) {
  return html_escape(s);
}

std::string num(double x, int decimals = 0) {
  return fmt::format("{:.{}f}", x, decimals);
}

std::string ms(int64_t us) {
  if (us < 0)
    return "-";
  return num(static_cast<double>(us) / 1e3, us < 10'000 ? 2 : 1) + " ms";
}

std::string latency_label(double us) {
  if (us < 1e3)
    return num(us, 0) + "us";
  if (us < 1e6)
    return num(us / 1e3, us < 1e4 ? 1 : 0) + "ms";
  return num(us / 1e6, us < 1e7 ? 1 : 0) + "s";
}

// The status breakdown: one stacked bar with a legend.
std::string status_chart(const run_summary& s) {
  const double width = 860;
  uint64_t total = 0;
  for (auto c : s.counts)
    total += c;
  std::string svg = "<svg viewBox=\"0 0 880 90\" width=\"880\" height=\"90\" "
                    "role=\"img\" aria-label=\"status breakdown\">";
  double x = 10;
  for (auto& look : status_order) {
    auto i = static_cast<size_t>(look.status);
    if (s.counts[i] == 0 || total == 0)
      continue;
    double w
      = width * static_cast<double>(s.counts[i]) / static_cast<double>(total);
    svg += "<rect x=\"" + num(x, 1) + "\" y=\"10\" width=\""
           + num(std::max(w, 1.0), 1) + "\" height=\"34\" fill=\""
           + std::string{look.colour} + "\"><title>" + status_name(look.status)
           + ": " + std::to_string(s.counts[i]) + "</title></rect>";
    x += w;
  }
  double lx = 10;
  for (auto& look : status_order) {
    auto i = static_cast<size_t>(look.status);
    if (s.counts[i] == 0)
      continue;
    svg += "<rect x=\"" + num(lx)
           + "\" y=\"60\" width=\"12\" height=\"12\" "
             "fill=\""
           + std::string{look.colour} + "\"/><text x=\"" + num(lx + 17)
           + "\" y=\"71\" class=\"t\">" + status_name(look.status) + " "
           + std::to_string(s.counts[i]) + "</text>";
    lx += 150;
  }
  return svg + "</svg>";
}

// Vertical bars with labels under some of them.
std::string bar_chart(const std::vector<double>& values,
                      const std::vector<std::string>& labels,
                      const std::string& title, const std::string& unit) {
  const double left = 50, right = 870, top = 10, bottom = 200;
  double peak = 0;
  for (auto v : values)
    peak = std::max(peak, v);
  if (peak <= 0)
    peak = 1;
  std::string svg = "<svg viewBox=\"0 0 880 240\" width=\"880\" "
                    "height=\"240\" role=\"img\" aria-label=\""
                    + esc(title) + "\">";
  // Axis and grid.
  for (int g = 0; g <= 4; ++g) {
    double y = bottom - (bottom - top) * g / 4.0;
    svg += "<line x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\""
           + num(y, 1) + "\" y2=\"" + num(y, 1)
           + "\" class=\"grid\"/><text x=\"" + num(left - 6) + "\" y=\""
           + num(y + 4, 1) + "\" class=\"t\" text-anchor=\"end\">"
           + num(peak * g / 4.0, peak < 10 ? 1 : 0) + "</text>";
  }
  auto n = values.size();
  double slot = n > 0 ? (right - left) / static_cast<double>(n) : 0;
  size_t label_every = std::max<size_t>(1, n / 10);
  for (size_t i = 0; i < n; ++i) {
    double h = (bottom - top) * values[i] / peak;
    double x = left + slot * static_cast<double>(i);
    svg += "<rect x=\"" + num(x + slot * 0.1, 1) + "\" y=\""
           + num(bottom - h, 1) + "\" width=\"" + num(slot * 0.8, 1)
           + "\" height=\"" + num(h, 1) + "\" class=\"bar\"><title>"
           + esc(labels[i]) + ": " + num(values[i], values[i] < 10 ? 1 : 0)
           + " " + esc(unit) + "</title></rect>";
    if (i % label_every == 0)
      svg += "<text x=\"" + num(x + slot / 2, 1) + "\" y=\"" + num(bottom + 16)
             + "\" class=\"t\" text-anchor=\"middle\">" + esc(labels[i])
             + "</text>";
  }
  svg += "<text x=\"" + num(left) + "\" y=\"236\" class=\"t\">" + esc(unit)
         + "</text>";
  return svg + "</svg>";
}

std::string latency_chart(const report_data& d) {
  size_t lo = d.latency_buckets.size();
  size_t hi = 0;
  for (size_t i = 0; i < d.latency_buckets.size(); ++i)
    if (d.latency_buckets[i] > 0) {
      lo = std::min(lo, i);
      hi = i;
    }
  if (lo > hi)
    return "<p class=\"muted\">No latencies recorded.</p>";
  std::vector<double> values;
  std::vector<std::string> labels;
  for (size_t i = lo; i <= hi; ++i) {
    values.push_back(static_cast<double>(d.latency_buckets[i]));
    labels.push_back(latency_label(latency_edge_us(i)));
  }
  return bar_chart(values, labels, "latency histogram",
                   "tasks per latency bucket (log scale)");
}

std::string throughput_chart(const report_data& d) {
  if (d.finished_per_second.empty())
    return "<p class=\"muted\">No finished tasks.</p>";
  auto last = d.finished_per_second.rbegin()->first;
  int64_t seconds = last + 1;
  int64_t bins = std::min<int64_t>(seconds, 60);
  double per_bin = static_cast<double>(seconds) / static_cast<double>(bins);
  std::vector<double> values(static_cast<size_t>(bins), 0.0);
  for (auto& [sec, n] : d.finished_per_second) {
    auto b = std::min<int64_t>(
      bins - 1, static_cast<int64_t>(static_cast<double>(sec) / per_bin));
    values[static_cast<size_t>(b)] += static_cast<double>(n);
  }
  std::vector<std::string> labels;
  for (int64_t b = 0; b < bins; ++b) {
    values[static_cast<size_t>(b)] /= per_bin;
    labels.push_back(num(static_cast<double>(b) * per_bin, per_bin < 1 ? 1 : 0)
                     + "s");
  }
  return bar_chart(values, labels, "throughput over time",
                   "tasks finished per second, by time since the start");
}

int64_t median(std::vector<int64_t> xs) {
  if (xs.empty())
    return -1;
  std::nth_element(xs.begin(), xs.begin() + static_cast<long>(xs.size() / 2),
                   xs.end());
  return xs[xs.size() / 2];
}

// A status pill takes its status's colour; CANCELLED's grey is the
// default (unfinished tasks have no rule of their own). The rules start
// after SUCCEEDED and end with it, as the page has always had them.
std::string pill_css() {
  std::string css = ".pill{border-radius:9px;padding:1px 7px;color:#fff;"
                    "font-size:11px;background:"
                    + std::string{look_of(task_status::cancelled).colour} + "}";
  for (size_t k = 1; k <= status_order.size(); ++k) {
    auto& look = status_order[k % status_order.size()];
    if (is_terminal(look.status) && look.status != task_status::cancelled)
      css += ".pill[data-s=" + std::string{status_name(look.status)}
             + "]{background:" + std::string{look.colour} + "}";
  }
  return css;
}

// The terminal statuses, in the order of the status chart.
template <class F>
void for_each_terminal(F f) {
  for (auto& look : status_order)
    if (is_terminal(look.status))
      f(look.status);
}

std::string rows_table(const std::vector<report_row>& rows, uint64_t total,
                       const char* what) {
  if (rows.empty())
    return std::string{"<p class=\"muted\">No "} + what + ".</p>";
  std::string html = "<table><tr><th>task</th><th>status</th>"
                     "<th>attempts</th><th>error / failed checks</th></tr>";
  for (auto& r : rows)
    html += "<tr><td class=\"id\">" + esc(r.task_id)
            + "</td><td><span "
              "class=\"pill\" data-s=\""
            + esc(r.status) + "\">" + esc(r.status) + "</span></td><td>"
            + std::to_string(r.attempts) + "</td><td>" + esc(r.error)
            + "</td></tr>";
  html += "</table>";
  if (total > rows.size())
    html += "<p class=\"muted\">" + std::to_string(total - rows.size())
            + " more not shown.</p>";
  return html;
}

} // namespace

std::string render_html_report(const report_data& d,
                               const std::string& results_path) {
  auto& s = d.summary;
  std::string h;
  h += "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width\">"
       "<title>troupe report: "
       + esc(d.header.name)
       + "</title><style>"
         "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
         "margin:24px auto;max-width:920px;color:#1d2430;background:#fff}"
         "h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;"
         "border-bottom:1px solid #e3e6ea;padding-bottom:4px}"
         ".muted{color:#6b7380}.cards{display:flex;flex-wrap:wrap;gap:10px}"
         ".card{border:1px solid #e3e6ea;border-radius:6px;padding:8px 12px;"
         "min-width:120px}.card b{display:block;font-size:18px}"
         "table{border-collapse:collapse;width:100%;font-size:13px}"
         "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid "
         "#eef0f2;vertical-align:top}th{background:#f6f7f9}"
         "td.id{font-family:ui-monospace,monospace;white-space:nowrap}"
       + pill_css() + matrix_css()
       + "svg .t{font-size:11px;fill:#4a5260}svg .grid{stroke:#eef0f2}"
         "svg .bar{fill:#3b7dd8}</style></head><body>";
  h += "<h1>" + esc(d.header.name) + "</h1><div class=\"muted\">"
       + esc(results_path) + " &middot; manifest " + esc(d.header.manifest)
       + " &middot; started " + esc(d.header.started_at) + " &middot; "
       + std::to_string(d.runs) + (d.runs == 1 ? " run" : " runs")
       + " &middot; troupe " + esc(d.header.version) + "</div>";
  if (d.missing > 0 || d.partial_bytes > 0)
    h += "<p><b>Interrupted:</b> " + std::to_string(d.missing) + " of "
         + std::to_string(s.total)
         + " tasks have no result line yet; <code>troupe run --resume</code>"
           " runs them.</p>";
  uint64_t succeeded = s.counts[static_cast<size_t>(task_status::succeeded)];
  h += "<h2>Summary</h2><div class=\"cards\">";
  auto card = [&](const std::string& label, const std::string& value) {
    h += "<div class=\"card\"><span class=\"muted\">" + esc(label)
         + "</span><b>" + esc(value) + "</b></div>";
  };
  card("tasks", std::to_string(s.total));
  card("succeeded", std::to_string(succeeded));
  card("not succeeded", std::to_string(d.failed_total));
  card("assertions failed", std::to_string(s.assertions_failed));
  card("attempts", std::to_string(s.attempts));
  card("retries", std::to_string(s.retries));
  card("tokens", std::to_string(s.tokens));
  card("wall", num(static_cast<double>(s.wall_us) / 1e6, 1) + " s");
  card("tasks/s",
       num(s.wall_us > 0 ? static_cast<double>(succeeded + d.failed_total) * 1e6
                             / static_cast<double>(s.wall_us)
                         : 0.0,
           1));
  card("latency p50", ms(s.p50_us));
  card("p90", ms(s.p90_us));
  card("p99", ms(s.p99_us));
  card("max", ms(s.max_us));
  h += "</div>";
  h += "<h2>Status breakdown</h2>" + status_chart(s);
  h += "<h2>Latency histogram</h2>" + latency_chart(d);
  h += "<h2>Throughput over time</h2>" + throughput_chart(d);
  h += "<h2>Datasets</h2><table><tr><th>dataset</th><th>tasks</th>";
  for_each_terminal(
    [&](task_status st) { h += "<th>" + lower_name(st) + "</th>"; });
  h += "<th>checks failed</th><th>latency p50</th><th>tokens</th></tr>";
  for (auto& [name, ds] : d.datasets) {
    uint64_t n = 0;
    for (auto c : ds.counts)
      n += c;
    h += "<tr><td class=\"id\">" + esc(name) + "</td><td>" + std::to_string(n)
         + "</td>";
    for_each_terminal([&](task_status st) {
      h += "<td>" + std::to_string(ds.counts[static_cast<size_t>(st)])
           + "</td>";
    });
    h += "<td>" + std::to_string(ds.assertions_failed) + "</td><td>"
         + ms(median(ds.latencies_sample)) + "</td><td>"
         + std::to_string(ds.tokens) + "</td></tr>";
  }
  h += "</table>";
  if (!s.failures.empty()) {
    h += "<h2>Not succeeded, by error code</h2><table><tr><th>error code</th>"
         "<th>tasks</th><th>example</th></tr>";
    for (auto& g : s.failures)
      h += "<tr><td class=\"id\">" + esc(g.error_code) + "</td><td>"
           + std::to_string(g.count) + "</td><td><span class=\"id\">"
           + esc(g.example.task_id) + "</span>: " + esc(g.example.error)
           + "</td></tr>";
    h += "</table>";
  }
  h += "<h2>Tasks that did not succeed</h2>"
       + rows_table(d.failed, d.failed_total, "failed tasks");
  h += "<h2>Tasks whose checks failed</h2>"
       + rows_table(d.assertion_failed, d.assertion_failed_total,
                    "failed checks");
  if (!s.slowest.empty()) {
    h += "<h2>Slowest tasks</h2><table><tr><th>task</th><th>latency</th></tr>";
    for (auto& n : s.slowest)
      h += "<tr><td class=\"id\">" + esc(n.task_id) + "</td><td>"
           + ms(n.latency_us) + "</td></tr>";
    h += "</table>";
  }
  h += render_matrix(d.matrix, results_path);
  h += "<p class=\"muted\">Generated by troupe report from " + esc(results_path)
       + "; the last result line of each task counts.</p></body></html>\n";
  return h;
}

} // namespace troupe::runtime
