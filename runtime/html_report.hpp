#pragma once

// The HTML report: one self-contained page (inline CSS and SVG, no script,
// no network fetch) with the summary, the status breakdown, the latency
// histogram, throughput over time, a table per dataset, the tasks that
// failed or whose checks failed, and the matrix of cases x parameter sets
// (html_matrix.hpp) when report_data::matrix has rows.

#include "runtime/report.hpp"

#include <string>

namespace troupe::runtime {

/// `s` with &, <, > and " escaped for HTML text and attributes.
std::string html_escape(const std::string& s);

/// The page for `d`, read from `results_path`.
std::string render_html_report(const report_data& d,
                               const std::string& results_path);

} // namespace troupe::runtime
