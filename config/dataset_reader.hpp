#pragma once

// Streams the cases of one dataset: inline cases, a JSONL file (one case
// object per line) or a CSV file (a header row, then one case per row). The
// reader holds one line at a time, so a dataset of any size streams in
// constant memory (benchmarks.md, B5).

#include "config/manifest.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::config {

/// Reads one dataset's cases in order.
class case_reader {
public:
  /// Opens the dataset's file, if it has one.
  explicit case_reader(const dataset_config& ds);

  /// Reads `ds`'s file from `stream`, already open, and closes it at the
  /// end; `ds.file` names it in errors and its extension picks CSV or JSONL.
  case_reader(const dataset_config& ds, std::FILE* stream);

  /// Reads the JSONL lines of `ds`'s file from byte `begin` (the start of
  /// a line) up to byte `end` (UINT64_MAX: its end), numbering them from
  /// `first_line`: one part of a file scanned by several threads.
  case_reader(const dataset_config& ds, uint64_t begin, uint64_t end,
              uint64_t first_line);

  ~case_reader();

  case_reader(const case_reader&) = delete;
  case_reader& operator=(const case_reader&) = delete;

  /// Stores the next case in `out`; false at the end or on an error.
  bool next(case_config& out);

  /// The error that stopped the reader, if any.
  const std::optional<config_error>& error() const noexcept {
    return error_;
  }

  /// Line of the file where the last case began (0 for inline cases).
  uint64_t line() const noexcept {
    return record_line_;
  }

  /// The last line read, blank ones included.
  uint64_t lines_read() const noexcept {
    return line_;
  }

private:
  void start();
  bool next_jsonl(case_config& out);
  bool next_csv(case_config& out);
  bool read_line(std::string& out);
  bool read_csv_record(std::vector<std::string>& fields);
  bool fail(const std::string& what);

  const dataset_config& ds_;
  size_t inline_pos_ = 0;
  std::FILE* file_ = nullptr;
  bool csv_ = false;
  std::vector<std::string> csv_header_;
  std::vector<char> buf_;
  size_t buf_pos_ = 0;
  size_t buf_len_ = 0;
  bool eof_ = false;
  /// The bytes left to read in a part (everything, otherwise).
  uint64_t remaining_ = UINT64_MAX;
  /// Whether the file's first bytes were read (and a BOM skipped).
  bool started_ = false;
  uint64_t line_ = 0;
  uint64_t record_line_ = 0;
  std::string scratch_;
  std::optional<config_error> error_;
};

/// Whether a dataset file is CSV (by its name, as the manifest check
/// requires: .csv), else JSONL.
inline bool is_csv_file(const std::string& path) {
  auto n = path.size();
  return n >= 4 && path.compare(n - 4, 4, ".csv") == 0;
}

/// Parses one case object (a JSONL line or an inline case). Errors start
/// with `where` ("cases.jsonl:3" or "manifest.json") and name the JSON path
/// below `path` ("datasets[0].cases[2]", or empty for a JSONL line).
result<case_config> parse_case(const std::string& json_text,
                               const std::string& where,
                               const std::string& path = "");

/// The same, into `out`, for a line of a file (`line` 0 for none); builds
/// error text only on an error.
std::optional<config_error>
parse_case_into(std::string_view json_text, const std::string& file,
                uint64_t line, const std::string& path, case_config& out);

/// The same through the JSON tree always, not parse_plain_case first: the
/// reference that tests compare the plain reader with.
std::optional<config_error>
parse_case_full(std::string_view json_text, const std::string& file,
                uint64_t line, const std::string& path, case_config& out);

} // namespace troupe::config
