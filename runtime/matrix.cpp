// Builds the report's matrix from result lines, cutting each cell to size.

#include "runtime/matrix.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>

namespace troupe::runtime {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// A task's cell; `cap` bytes for output, error, checks and turns together.
matrix_cell make_cell(const task_result& r, size_t cap) {
  matrix_cell c;
  c.status = status_name(r.status);
  size_t left = cap;
  auto take = [&](const std::string& s) {
    auto t = cut_utf8(s, left);
    c.cut = c.cut || t.size() < s.size();
    left -= t.size();
    return t;
  };
  for (auto& a : r.assertions) {
    if (a.passed) {
      ++c.checks_passed;
      continue;
    }
    c.failed_checks.push_back(a.check);
    c.failed_details.push_back(take(a.check + ": " + a.detail));
  }
  auto out = output_text(r.output_json);
  // A task that did not succeed shows why; one that did, its output.
  c.short_is_error
    = !r.error.empty() && (out.empty() || r.status != task_status::succeeded);
  auto& shown = c.short_is_error ? r.error : out;
  c.short_text = first_chars(shown, matrix_short_chars);
  c.short_more = c.short_text.size() < shown.size();
  // The expansion never shows less of a text than the cell does.
  if (c.short_more)
    left = std::max(left, c.short_text.size());
  if (c.short_is_error ? c.short_more : !r.error.empty())
    c.error = take(r.error);
  // A conversation's output is its last turn's, shown with the turns.
  if (r.turns.empty() && (c.short_is_error ? !out.empty() : c.short_more))
    c.output = take(out);
  for (auto& t : r.turns) {
    matrix_turn mt;
    mt.query = take(t.query);
    mt.status = status_name(t.status);
    mt.output = take(output_text(t.output_json));
    mt.error = take(t.error);
    c.turns.push_back(std::move(mt));
  }
  c.expands = !c.output.empty() || !c.error.empty() || !c.turns.empty()
              || !c.failed_details.empty();
  return c;
}

// The case id of a line, or its task id without "#N" when it has none.
std::string case_of(const task_result& r) {
  if (!r.case_id.empty())
    return r.case_id;
  return r.task_id.substr(0, r.task_id.rfind('#'));
}

} // namespace

size_t matrix_cell_cap(size_t cells) {
  if (cells == 0)
    return matrix_cell_cap_max;
  return std::clamp(matrix_text_budget / cells, matrix_cell_cap_min,
                    matrix_cell_cap_max);
}

uint32_t param_index(const std::string& task_id) {
  auto hash = task_id.rfind('#');
  if (hash == std::string::npos || hash + 1 == task_id.size())
    return 0;
  uint64_t n = 0;
  for (size_t i = hash + 1; i < task_id.size(); ++i) {
    if (!is_digit(task_id[i]) || n > UINT32_MAX / 10)
      return 0;
    n = n * 10 + static_cast<uint64_t>(task_id[i] - '0');
  }
  return n <= UINT32_MAX ? static_cast<uint32_t>(n) : 0;
}

std::string output_text(const std::string& output_json) {
  if (output_json.empty())
    return {};
  boost::json::error_code ec;
  auto v = boost::json::parse(output_json, ec);
  if (ec)
    return output_json;
  if (v.is_string())
    return std::string{v.get_string()};
  if (v.is_object() && v.get_object().size() == 1
      && v.get_object().begin()->value().is_string())
    return std::string{v.get_object().begin()->value().get_string()};
  return output_json;
}

std::string cut_utf8(const std::string& s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return s;
  size_t n = max_bytes;
  while (n > 0 && is_continuation(s[n]))
    --n;
  return s.substr(0, n);
}

std::string first_chars(const std::string& s, size_t chars) {
  size_t seen = 0;
  for (size_t i = 0; i < s.size(); ++i)
    if (!is_continuation(s[i]) && seen++ == chars)
      return s.substr(0, i);
  return s;
}

bool natural_less(const std::string& a, const std::string& b) {
  // Tokens: a run of digits, or one other character. Two runs compare by
  // value, then by length ("01" after "1"); anything else by its first
  // character, so this is a total order.
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (!is_digit(a[i]) || !is_digit(b[j])) {
      if (a[i] != b[j])
        return static_cast<unsigned char>(a[i])
               < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
      continue;
    }
    auto run = [](const std::string& s, size_t& k) {
      size_t start = k;
      while (k < s.size() && is_digit(s[k]))
        ++k;
      size_t first = start;
      while (first + 1 < k && s[first] == '0')
        ++first;
      return std::make_pair(s.substr(first, k - first), k - start);
    };
    auto [x, x_len] = run(a, i);
    auto [y, y_len] = run(b, j);
    if (x.size() != y.size())
      return x.size() < y.size();
    if (x != y)
      return x < y;
    if (x_len != y_len)
      return x_len < y_len;
  }
  return i == a.size() && j < b.size();
}

void add_to_matrix(matrix_data& m, const task_result& r) {
  auto idx = param_index(r.task_id);
  auto& col = m.columns[idx];
  if (col.tasks++ == 0)
    col.params_json = r.params_json;
  col.succeeded += r.status == task_status::succeeded ? 1 : 0;
  col.checks_failed += r.assertions_failed() ? 1 : 0;
  auto key = std::make_pair(r.dataset, case_of(r));
  auto it = m.row_of.find(key);
  if (it == m.row_of.end()) {
    if (m.cells >= matrix_cell_limit) {
      ++m.left_out;
      return;
    }
    it = m.row_of.emplace(key, m.rows.size()).first;
    m.rows.push_back({key.first, key.second, {}});
  }
  auto& cells = m.rows[it->second].cells;
  auto [cell, added] = cells.insert_or_assign(idx, make_cell(r, m.cell_cap));
  m.cells += added ? 1 : 0;
}

void sort_matrix(matrix_data& m) {
  std::sort(m.rows.begin(), m.rows.end(),
            [](const matrix_row& a, const matrix_row& b) {
              if (a.dataset != b.dataset)
                return a.dataset < b.dataset;
              return natural_less(a.case_id, b.case_id);
            });
  m.row_of.clear();
}

} // namespace troupe::runtime
