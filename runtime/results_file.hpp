#pragma once

// Results files as files: reading one back, line by line, for --resume
// (which tasks are done, and the summary of the whole history) and for
// `troupe report`. A task may have several result lines across resumed
// runs; the last one wins. Memory grows by 16 bytes per result line, not by
// the lines themselves.

#include "actors/results/result_line_reader.hpp"
#include "config/manifest.hpp"
#include "messages/task.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace troupe::runtime {

/// The last result line of every task in a results file.
class results_index {
public:
  /// Reads `path`. A partial last line (a writer killed mid-line) is left
  /// out and counted in partial_bytes(); `strict` makes any other broken
  /// line an error (resume), else it is skipped and counted (report).
  static config::result<results_index> read(const std::string& path,
                                            bool strict);

  /// The same, from `file`, already open at its start and left open;
  /// `path` names it in errors and is where for_each_last() reads again.
  static config::result<results_index>
  read(std::FILE* file, const std::string& path, bool strict);

  const results_header& header() const noexcept {
    return header_;
  }

  /// The status of `task_id`'s last line, if it has one.
  std::optional<task_status> last_status(const std::string& task_id) const;

  /// Number of tasks with at least one line.
  uint64_t tasks() const noexcept {
    return entries_.size();
  }

  /// Bytes of a partial last line, 0 if the file ends in a newline.
  uint64_t partial_bytes() const noexcept {
    return partial_bytes_;
  }

  /// Lines skipped as broken (non-strict reads only).
  uint64_t broken_lines() const noexcept {
    return broken_lines_;
  }

  /// Number of header lines (one per run of the file).
  uint64_t runs() const noexcept {
    return runs_;
  }

  /// Calls `f` with the last line of every task, in file order.
  bool for_each_last(const std::function<void(task_result&)>& f) const;

  /// Whole bytes of the file (without a partial last line).
  uint64_t complete_bytes() const noexcept {
    return complete_bytes_;
  }

private:
  struct builder;

  struct entry {
    uint64_t hash;
    uint32_t line;
    task_status status;
  };

  std::string path_;
  results_header header_;
  std::vector<entry> entries_; // sorted by hash, one per task
  uint64_t partial_bytes_ = 0;
  uint64_t broken_lines_ = 0;
  uint64_t runs_ = 0;
  uint64_t complete_bytes_ = 0;
};

/// FNV-1a of a task id, the key of results_index.
uint64_t task_hash(std::string_view task_id) noexcept;

} // namespace troupe::runtime
