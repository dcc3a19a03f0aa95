#pragma once

// The matrix of the HTML report: cases down, parameter sets across, one cell
// per task with its status, checks and output, cut to a size that keeps the
// page bounded (README, "Report"):
//
//   results file --add_to_matrix--> matrix_data --sort_matrix--> rows in
//   (last line per task)             (cells cut)                 dataset and
//                                                                case order

#include "messages/task.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace troupe::runtime {

/// Characters (not bytes) of output a cell shows before it is expanded.
inline constexpr size_t matrix_short_chars = 120;

/// Most bytes of text (output, error, turns) a cell's expansion holds.
inline constexpr size_t matrix_cell_cap_max = 4096;

/// Least bytes a cell's expansion holds, however many cells there are.
inline constexpr size_t matrix_cell_cap_min = 256;

/// What the expansions of all cells hold together, at most (above the
/// floor): past 2,048 cells each cell's cap shrinks to keep to it.
inline constexpr size_t matrix_text_budget = 8u << 20;

/// Cells the matrix holds; the cases after them are counted, not shown.
inline constexpr size_t matrix_cell_limit = 40'000;

/// The per-cell cap for a matrix of `cells` cells.
size_t matrix_cell_cap(size_t cells);

/// One turn of a conversation, as its cell shows it.
struct matrix_turn {
  std::string query;
  std::string status;
  std::string output;
  std::string error;
};

/// One task, as its cell shows it.
struct matrix_cell {
  std::string status;
  uint32_t checks_passed = 0;
  /// Names of the failed checks, and "name: detail" for the expansion.
  std::vector<std::string> failed_checks;
  std::vector<std::string> failed_details;
  /// The first matrix_short_chars characters of the error of a task that
  /// did not succeed, else of the output (with none, of the error).
  std::string short_text;
  bool short_is_error = false;
  /// Whether the text short_text starts is longer.
  bool short_more = false;
  /// The output, the error and the turns, cut together at the cell cap.
  std::string output;
  std::string error;
  std::vector<matrix_turn> turns;
  /// Whether the cap cut anything.
  bool cut = false;
  /// Whether the expansion has more than the cell shows.
  bool expands = false;
};

/// One case: its cells by parameter index.
struct matrix_row {
  std::string dataset;
  std::string case_id;
  std::map<uint32_t, matrix_cell> cells;
};

/// A parameter set: its label and how its tasks did.
struct matrix_column {
  std::string params_json;
  uint64_t tasks = 0;
  uint64_t succeeded = 0;
  uint64_t checks_failed = 0;
};

/// The whole matrix.
struct matrix_data {
  /// Bytes each cell's expansion may hold (matrix_cell_cap).
  size_t cell_cap = matrix_cell_cap_max;
  std::map<uint32_t, matrix_column> columns;
  std::vector<matrix_row> rows;
  /// Row of each (dataset, case id) while adding.
  std::map<std::pair<std::string, std::string>, size_t> row_of;
  size_t cells = 0;
  /// Tasks left out by matrix_cell_limit.
  uint64_t left_out = 0;
};

/// The parameter index of a task id ("d/c#2" is 2), 0 without one.
uint32_t param_index(const std::string& task_id);

/// An output as text: a JSON string's value, the one string of an object
/// with one member (Dify's {"text": ...}), else the JSON text itself.
std::string output_text(const std::string& output_json);

/// At most `max_bytes` of `s`, cut at a UTF-8 character boundary.
std::string cut_utf8(const std::string& s, size_t max_bytes);

/// At most `chars` UTF-8 characters of `s`.
std::string first_chars(const std::string& s, size_t chars);

/// Whether `a` sorts before `b` with digit runs compared as numbers
/// ("case-2" before "case-10").
bool natural_less(const std::string& a, const std::string& b);

/// Adds the last line of one task.
void add_to_matrix(matrix_data& m, const task_result& r);

/// Sorts the rows by dataset, then case id (natural_less).
void sort_matrix(matrix_data& m);

} // namespace troupe::runtime
