// troupe diff's three views of one run_diff: text for a terminal or a CI
// log, JSON for scripts, HTML for people (whole outputs, no network).

#include "actors/results/json_text.hpp"
#include "runtime/diff.hpp"
#include "runtime/html_report.hpp"

#include <fmt/format.h>

#include <string_view>

namespace troupe::runtime {

namespace {

std::string ms_or_dash(int64_t us) {
  return us < 0 ? "-" : fmt::format("{:.1f}", static_cast<double>(us) / 1e3);
}

std::string tokens_change(uint64_t a, uint64_t b) {
  if (a == 0)
    return fmt::format("{} -> {}", a, b);
  auto pct = (static_cast<double>(b) - static_cast<double>(a))
             / static_cast<double>(a) * 100.0;
  return fmt::format("{} -> {} ({:+.1f}%)", a, b, pct);
}

void list(std::string& out, const char* title,
          const std::vector<task_change>& xs, size_t limit,
          const std::function<std::string(const task_change&)>& line) {
  if (xs.empty())
    return;
  out += fmt::format("\n{} ({}):\n", title, xs.size());
  for (size_t i = 0; i < xs.size() && i < limit; ++i)
    out += "  " + line(xs[i]) + "\n";
  if (xs.size() > limit)
    out += fmt::format("  ... and {} more (--json or --html for all)\n",
                       xs.size() - limit);
}

void list_ids(std::string& out, const char* title,
              const std::vector<std::string>& ids, size_t limit) {
  if (ids.empty())
    return;
  out += fmt::format("\n{} ({}):\n", title, ids.size());
  for (size_t i = 0; i < ids.size() && i < limit; ++i)
    out += "  " + ids[i] + "\n";
  if (ids.size() > limit)
    out += fmt::format("  ... and {} more\n", ids.size() - limit);
}

void json_changes(std::string& out, std::string_view key,
                  const std::vector<task_change>& xs, std::string_view a,
                  std::string_view b, std::string_view c) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (size_t i = 0; i < xs.size(); ++i) {
    out += i > 0 ? ",{\"task_id\":" : "{\"task_id\":";
    append_json_string(out, xs[i].task_id);
    for (auto [name, value] :
         {std::pair{a, &xs[i].before}, std::pair{b, &xs[i].after},
          std::pair{c, &xs[i].detail}}) {
      if (name.empty())
        continue;
      out += ",\"";
      out += name;
      out += "\":";
      append_json_string(out, *value);
    }
    out += "}";
  }
  out += "]";
}

void json_ids(std::string& out, std::string_view key,
              const std::vector<std::string>& ids) {
  out += ",\"";
  out += key;
  out += "\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      out += ",";
    append_json_string(out, ids[i]);
  }
  out += "]";
}

} // namespace

std::string render_diff_text(const run_diff& d, size_t limit) {
  std::string out = fmt::format(
    "troupe diff: {} (run \"{}\", {} tasks) -> {} (run \"{}\", {} tasks)\n",
    d.base_path, d.base_name, d.base_tasks, d.next_path, d.next_name,
    d.next_tasks);
  if (!d.manifest_warning.empty())
    out += "warning: " + d.manifest_warning + "\n";
  out += fmt::format("  {:<22}{:>8}{:>8}\n", "status", "base", "new");
  for (auto& [status, n] : d.status_counts)
    out += fmt::format("  {:<22}{:>8}{:>8}\n", status, n.first, n.second);
  out
    += fmt::format("  {:<22}{:>8}\n", "newly failing", d.newly_failing.size());
  out += fmt::format("  {:<22}{:>8}\n", "fixed", d.fixed.size());
  out += fmt::format("  {:<22}{:>8}\n", "checks newly failing",
                     d.checks_newly_failing.size());
  out += fmt::format("  {:<22}{:>8}\n", "checks newly passing",
                     d.checks_newly_passing.size());
  out += fmt::format("  {:<22}{:>8}\n", "slower", d.slower.size());
  out += fmt::format("  {:<22}{:>8}\n", "outputs changed",
                     d.outputs_changed.size());
  out += fmt::format("  {:<22}{}\n", "tokens",
                     tokens_change(d.base_tokens, d.next_tokens));
  out += "\nlatency ms by dataset, base -> new:\n";
  out += fmt::format("  {:<20}{:>18}{:>18}{:>18}\n", "dataset", "p50", "p90",
                     "p99");
  for (auto& [name, ds] : d.datasets) {
    std::string cells;
    for (int i = 0; i < 3; ++i)
      cells += fmt::format("{:>18}", ms_or_dash(ds.base_p[i]) + " -> "
                                       + ms_or_dash(ds.next_p[i]));
    out += fmt::format("  {:<20}{}\n", name, cells);
  }
  auto status_line = [](const task_change& c) {
    auto why
      = c.detail.size() > 100 ? c.detail.substr(0, 97) + "..." : c.detail;
    return fmt::format("{}  {} -> {}{}", c.task_id, c.before, c.after,
                       why.empty() ? "" : "  (" + why + ")");
  };
  list(out, "newly failing", d.newly_failing, limit, status_line);
  list(out, "fixed", d.fixed, limit, [](const task_change& c) {
    return fmt::format("{}  {} -> {}", c.task_id, c.before, c.after);
  });
  list(out, "other status changes", d.other_status, limit, status_line);
  auto check_line
    = [](const task_change& c) { return c.task_id + "  " + c.detail; };
  list(out, "checks newly failing", d.checks_newly_failing, limit, check_line);
  list(out, "checks newly passing", d.checks_newly_passing, limit, check_line);
  list(out, "slower", d.slower, limit, [](const task_change& c) {
    return fmt::format("{}  {} ms -> {} ms ({})", c.task_id, c.before, c.after,
                       c.detail);
  });
  list(out, "outputs changed", d.outputs_changed, limit,
       [](const task_change& c) {
         auto [a, b] = short_change(c.before, c.after);
         return c.task_id + "\n    - " + a + "\n    + " + b;
       });
  list_ids(out, "only in base", d.only_in_base, limit);
  list_ids(out, "only in new", d.only_in_next, limit);
  out += d.worse()
           ? fmt::format("\nverdict: worse ({} newly failing, {} "
                         "checks newly failing)\n",
                         d.newly_failing.size(), d.checks_newly_failing.size())
           : "\nverdict: nothing got worse\n";
  return out;
}

std::string render_diff_json(const run_diff& d) {
  std::string out = "{\"base\":";
  append_json_string(out, d.base_path);
  out += ",\"new\":";
  append_json_string(out, d.next_path);
  out += ",\"worse\":";
  out += d.worse() ? "true" : "false";
  out += ",\"manifest_warning\":";
  append_json_string(out, d.manifest_warning);
  out += fmt::format(",\"tasks\":{{\"base\":{},\"new\":{}}}", d.base_tasks,
                     d.next_tasks);
  out += ",\"counts\":{";
  bool first = true;
  for (auto& [status, n] : d.status_counts) {
    if (!first)
      out += ",";
    first = false;
    append_json_string(out, status);
    out += fmt::format(":{{\"base\":{},\"new\":{}}}", n.first, n.second);
  }
  out += fmt::format("}},\"tokens\":{{\"base\":{},\"new\":{}}}", d.base_tokens,
                     d.next_tokens);
  out += ",\"datasets\":{";
  first = true;
  for (auto& [name, ds] : d.datasets) {
    if (!first)
      out += ",";
    first = false;
    append_json_string(out, name);
    auto ms = [](int64_t us) {
      return us < 0 ? std::string{"null"}
                    : fmt::format("{:.3f}", static_cast<double>(us) / 1e3);
    };
    out += fmt::format(
      ":{{\"base\":{{\"p50_ms\":{},\"p90_ms\":{},\"p99_ms\":{},\"tokens\":{}}},"
      "\"new\":{{\"p50_ms\":{},\"p90_ms\":{},\"p99_ms\":{},\"tokens\":{}}}}}",
      ms(ds.base_p[0]), ms(ds.base_p[1]), ms(ds.base_p[2]), ds.base_tokens,
      ms(ds.next_p[0]), ms(ds.next_p[1]), ms(ds.next_p[2]), ds.next_tokens);
  }
  out += "}";
  json_changes(out, "newly_failing", d.newly_failing, "before", "after",
               "error");
  json_changes(out, "fixed", d.fixed, "before", "after", "");
  json_changes(out, "other_status", d.other_status, "before", "after", "error");
  json_changes(out, "checks_newly_failing", d.checks_newly_failing, "", "",
               "check");
  json_changes(out, "checks_newly_passing", d.checks_newly_passing, "", "",
               "check");
  json_changes(out, "slower", d.slower, "before_ms", "after_ms", "factor");
  json_changes(out, "outputs_changed", d.outputs_changed, "before", "after",
               "");
  json_ids(out, "only_in_base", d.only_in_base);
  json_ids(out, "only_in_new", d.only_in_next);
  out += "}";
  return out;
}

std::string render_diff_html(const run_diff& d) {
  auto esc = [](const std::string& s) { return html_escape(s); };
  std::string out
    = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>troupe "
      "diff</title><style>body{font:14px system-ui,sans-serif;margin:2em;"
      "max-width:1200px}table{border-collapse:collapse;margin:1em 0}td,th{"
      "border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-"
      "align:top}.worse{color:#b00020}.better{color:#1b5e20}pre{white-space:"
      "pre-wrap;word-break:break-all;margin:0;max-width:540px}</style></head>"
      "<body>";
  out += "<h1>troupe diff</h1><p>" + esc(d.base_path) + " (run &quot;"
         + esc(d.base_name) + "&quot;) &rarr; " + esc(d.next_path)
         + " (run &quot;" + esc(d.next_name) + "&quot;)</p>";
  if (!d.manifest_warning.empty())
    out += "<p class=\"worse\">warning: " + esc(d.manifest_warning) + "</p>";
  out += d.worse()
           ? fmt::format("<h2 class=\"worse\">Worse: {} newly failing, {} "
                         "checks newly failing</h2>",
                         d.newly_failing.size(), d.checks_newly_failing.size())
           : "<h2 class=\"better\">Nothing got worse</h2>";
  out += "<table><tr><th>status</th><th>base</th><th>new</th></tr>";
  for (auto& [status, n] : d.status_counts)
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", status,
                       n.first, n.second);
  out += "<tr><td>tokens</td><td colspan=\"2\">"
         + esc(tokens_change(d.base_tokens, d.next_tokens)) + "</td></tr>";
  out += "</table><h2>Latency (ms) by dataset</h2><table><tr><th>dataset</th>"
         "<th>p50</th><th>p90</th><th>p99</th></tr>";
  for (auto& [name, ds] : d.datasets) {
    out += "<tr><td>" + esc(name) + "</td>";
    for (int i = 0; i < 3; ++i)
      out += "<td>" + ms_or_dash(ds.base_p[i]) + " &rarr; "
             + ms_or_dash(ds.next_p[i]) + "</td>";
    out += "</tr>";
  }
  out += "</table>";
  auto section = [&](const char* title, const std::vector<task_change>& xs,
                     const char* a, const char* b, const char* c) {
    if (xs.empty())
      return;
    out += fmt::format("<h2>{} ({})</h2><table><tr><th>task</th>", title,
                       xs.size());
    for (auto* h : {a, b, c})
      if (*h != '\0')
        out += std::string{"<th>"} + h + "</th>";
    out += "</tr>";
    for (auto& x : xs) {
      out += "<tr><td>" + esc(x.task_id) + "</td>";
      for (auto [h, v] : {std::pair{a, &x.before}, std::pair{b, &x.after},
                          std::pair{c, &x.detail}})
        if (*h != '\0')
          out += "<td><pre>" + esc(*v) + "</pre></td>";
      out += "</tr>";
    }
    out += "</table>";
  };
  section("Newly failing", d.newly_failing, "base", "new", "error");
  section("Fixed", d.fixed, "base", "new", "");
  section("Other status changes", d.other_status, "base", "new", "error");
  section("Checks newly failing", d.checks_newly_failing, "", "", "check");
  section("Checks newly passing", d.checks_newly_passing, "", "", "check");
  section("Slower", d.slower, "base ms", "new ms", "factor");
  section("Outputs changed", d.outputs_changed, "base", "new", "");
  auto ids = [&](const char* title, const std::vector<std::string>& xs) {
    if (xs.empty())
      return;
    out += fmt::format("<h2>{} ({})</h2><ul>", title, xs.size());
    for (auto& id : xs)
      out += "<li>" + esc(id) + "</li>";
    out += "</ul>";
  };
  ids("Only in base", d.only_in_base);
  ids("Only in new", d.only_in_next);
  out += "</body></html>\n";
  return out;
}

} // namespace troupe::runtime
