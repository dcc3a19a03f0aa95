// Renders the matrix section of the HTML report.
//
//   <details class="pg" open>   one page of matrix_page_rows rows
//     <table class="mx">        a header row of parameter sets, then
//       <td>pill, checks,       one cell per task, with a <details> of
//           short output</td>   its own for the whole output and turns

#include "runtime/html_matrix.hpp"

#include "runtime/html_report.hpp"

#include <algorithm>

namespace troupe::runtime {

namespace {

// Text between tags needs only &, < and > escaped; leaving quotes keeps
// JSON outputs (full of them) from growing by a third.
std::string text(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::string pill(const std::string& status) {
  return "<span class=\"pill\" data-s=\"" + html_escape(status) + "\">"
         + html_escape(status) + "</span>";
}

std::string column_head(uint32_t idx, const matrix_column& c) {
  std::string h = "<th>#" + std::to_string(idx);
  // A long parameter (a whole prompt) would repeat on every page: cut.
  if (!c.params_json.empty() && c.params_json != "{}") {
    auto label = cut_utf8(c.params_json, 160);
    h += " <code>" + html_escape(label)
         + (label.size() < c.params_json.size() ? "…" : "") + "</code>";
  }
  h += "<div class=\"muted\">" + std::to_string(c.succeeded) + " of "
       + std::to_string(c.tasks) + " succeeded";
  if (c.checks_failed > 0)
    h += ", " + std::to_string(c.checks_failed) + " with failed checks";
  return h + "</div></th>";
}

// Passed and failed counts, the failed checks named.
std::string checks(const matrix_cell& c) {
  if (c.checks_passed == 0 && c.failed_checks.empty())
    return {};
  std::string h = c.failed_checks.empty() ? "<div class=\"ck\">checks: "
                                          : "<div class=\"ck bad\">checks: ";
  h += std::to_string(c.checks_passed) + " passed";
  if (!c.failed_checks.empty()) {
    h += ", " + std::to_string(c.failed_checks.size()) + " failed (";
    for (size_t i = 0; i < c.failed_checks.size(); ++i)
      h += (i > 0 ? ", " : "") + text(c.failed_checks[i]);
    h += ")";
  }
  return h + "</div>";
}

std::string expansion(const matrix_cell& c, const std::string& cut_note) {
  std::string h = "<details><summary>more</summary>";
  for (auto& d : c.failed_details)
    h += "<div class=\"er\">" + text(d) + "</div>";
  if (!c.output.empty())
    h += "<pre>" + text(c.output) + "</pre>";
  if (!c.error.empty())
    h += "<pre class=\"er\">" + text(c.error) + "</pre>";
  if (!c.turns.empty()) {
    h += "<ol class=\"tn\">";
    for (auto& t : c.turns) {
      h += "<li>" + pill(t.status) + " <b>" + text(t.query) + "</b>";
      if (!t.output.empty())
        h += "<pre>" + text(t.output) + "</pre>";
      if (!t.error.empty())
        h += "<pre class=\"er\">" + text(t.error) + "</pre>";
      h += "</li>";
    }
    h += "</ol>";
  }
  if (c.cut)
    h += cut_note;
  return h + "</details>";
}

std::string cell(const matrix_cell& c, const std::string& cut_note) {
  std::string h = "<td>" + pill(c.status) + checks(c);
  if (!c.short_text.empty())
    h += std::string{c.short_is_error ? "<div class=\"o er\">"
                                      : "<div class=\"o\">"}
         + text(c.short_text) + (c.short_more ? "&hellip;" : "") + "</div>";
  if (c.expands)
    h += expansion(c, cut_note);
  return h + "</td>";
}

std::string row_name(const matrix_row& r) {
  return html_escape(r.dataset) + "/" + html_escape(r.case_id);
}

} // namespace

std::string matrix_css() {
  return ".mxs{overflow-x:auto}table.mx td{min-width:160px;max-width:420px}"
         ".mx .o{font-size:12px;margin-top:2px;overflow-wrap:anywhere}"
         ".er{color:#b42318}.ck{font-size:11px;color:#4a5260}"
         ".ck.bad{color:#b42318}.mx pre{white-space:pre-wrap;"
         "overflow-wrap:anywhere;font-size:12px;background:#f6f7f9;"
         "padding:4px 6px;margin:4px 0;max-height:320px;overflow:auto}"
         ".mx summary{cursor:pointer;color:#3b7dd8;font-size:12px}"
         ".mx ol.tn{padding-left:18px;margin:4px 0}"
         "details.pg{margin:6px 0}details.pg>summary{cursor:pointer;"
         "font-weight:600;padding:4px 0}td.none{color:#6b7380}";
}

std::string render_matrix(const matrix_data& m,
                          const std::string& results_path) {
  std::string h = "<h2 id=\"matrix\">Matrix</h2>";
  if (m.rows.empty())
    return h + "<p class=\"muted\">No results.</p>";
  auto rows = std::to_string(m.rows.size());
  h += "<p class=\"muted\">" + rows + (m.rows.size() == 1 ? " case" : " cases")
       + " &times; " + std::to_string(m.columns.size())
       + (m.columns.size() == 1 ? " parameter set" : " parameter sets")
       + ", in pages of " + std::to_string(matrix_page_rows)
       + " rows. &ldquo;more&rdquo; opens a cell: its whole output, error and "
         "turns, up to "
       + std::to_string(m.cell_cap) + " bytes a cell (the whole text is in "
       + html_escape(results_path) + ").</p>";
  if (m.left_out > 0)
    h += "<p class=\"muted\">" + std::to_string(m.left_out)
         + " more tasks not shown: the matrix holds at most "
         + std::to_string(matrix_cell_limit) + " cells.</p>";
  // Short, as it may repeat in every cell; the note above says the rest.
  auto cut_note = "<div class=\"muted\">cut at " + std::to_string(m.cell_cap)
                  + " bytes</div>";
  std::string head = "<tr><th>case</th>";
  for (auto& [idx, col] : m.columns)
    head += column_head(idx, col);
  head += "</tr>";
  for (size_t first = 0; first < m.rows.size(); first += matrix_page_rows) {
    auto last = std::min(first + matrix_page_rows, m.rows.size()) - 1;
    h += std::string{first == 0 ? "<details class=\"pg\" open>"
                                : "<details class=\"pg\">"}
         + "<summary>Cases " + std::to_string(first + 1) + "&ndash;"
         + std::to_string(last + 1) + " of " + rows + ": "
         + row_name(m.rows[first]) + " &hellip; " + row_name(m.rows[last])
         + "</summary><div class=\"mxs\"><table class=\"mx\">" + head;
    for (size_t i = first; i <= last; ++i) {
      auto& row = m.rows[i];
      h += "<tr><td class=\"id\">" + row_name(row) + "</td>";
      for (auto& col : m.columns) {
        auto c = row.cells.find(col.first);
        h += c == row.cells.end() ? "<td class=\"none\">no result</td>"
                                  : cell(c->second, cut_note);
      }
      h += "</tr>";
    }
    h += "</table></div></details>";
  }
  return h;
}

} // namespace troupe::runtime
