#pragma once

// The matrix section of the HTML report: a table of cases x parameter sets
// in pages of matrix_page_rows rows, each page a <details> (the first one
// open), each cell expanding to its whole output with a <details> of its
// own. No script: every row is a click away with or without one.

#include "runtime/matrix.hpp"

#include <cstddef>
#include <string>

namespace troupe::runtime {

/// Rows per page of the matrix.
inline constexpr size_t matrix_page_rows = 200;

/// The CSS rules of the matrix section.
std::string matrix_css();

/// The matrix section (heading included) for `m`, read from `results_path`.
std::string render_matrix(const matrix_data& m,
                          const std::string& results_path);

} // namespace troupe::runtime
