#pragma once

// The results file of a run: a new one (never overwriting without --force),
// or --resume's, checked against the manifest and read for the tasks it has
// done; its header line; and the checks that keep a run's outputs off its
// inputs and off a full volume.

#include "actors/supervisor/run_stats.hpp"
#include "config/manifest.hpp"
#include "messages/task.hpp"
#include "runtime/results_file.hpp"
#include "runtime/run.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace troupe::runtime {

/// Where this run's results go, and what an earlier run of the file did.
struct results_target {
  std::string path;
  int fd = -1;
  /// The file's lines so far (--resume only).
  std::shared_ptr<results_index> index;
  /// Tasks an earlier run finished and this one skips.
  std::shared_ptr<run_stats> baseline;
  uint64_t skipped = 0;
  /// --force over an existing file: it is emptied with the header's
  /// write, so that a run refused before its header (a node, a broken
  /// dataset read while the nodes connect) leaves the old file as it was.
  bool truncate = false;
};

/// Whether --resume skips a task whose last line has status `last`.
bool skip_on_resume(task_status last, bool rerun_failed);

// Each function that can fail stores why in `err` (a message without
// "troupe: "); notes and warnings go to stderr.

/// Why the results file could not be opened, and whether that is because
/// it cannot be created or written (exit 4: a missing or read-only folder,
/// a full disk) rather than the options' fault (exit 2: a file there
/// without --force, a --resume file of another manifest).
struct open_error {
  std::string message;
  bool unwritable = false;
};

/// Creates the results file (--out, or a new name).
std::optional<results_target> open_new(const run_options& opts,
                                       open_error& err);

/// Opens --resume F: checks it belongs to `m`, drops a partial last line,
/// and learns which tasks are done.
std::optional<results_target> open_resume(const run_options& opts,
                                          const config::manifest& m,
                                          open_error& err);

/// Reopens a resumed file for appending.
bool reopen_for_append(results_target& t, open_error& err);

/// Writes the header line, marked resumed when `t` continues a file.
bool write_header(const results_target& t, const run_options& opts,
                  const config::manifest& m, int64_t epoch_us,
                  std::string& err);

/// The manifest or dataset file that `output` would overwrite, if any.
std::optional<std::string> input_named_by(const std::string& output,
                                          const config::manifest& m);

/// False, with `err`, when the volume has no room for the first results;
/// warns (stderr) when it looks short for `tasks` of them.
bool enough_space(const results_target& t, uint64_t tasks, std::string& err);

/// Writes `text` to `path`, replacing it.
bool write_text_file(const std::string& path, const std::string& text);

} // namespace troupe::runtime
