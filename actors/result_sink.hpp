#pragma once

// The result sink owns the results file. It writes the header when it
// starts, then one whole JSONL line per finished task, and the summary line
// when it closes. Lines that arrive together go out in one write(2), and a
// line is never split across writes, so a killed process leaves whole lines.
// After each write it sends (flush, lines written) to the actor that sends it
// results, which keeps the number of unwritten results bounded.

#include "actors/result_line.hpp"
#include "messages/type_ids.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace troupe {

/// The sink's handle. `flush` is internal (end of a batch). `close` writes
/// the summary line, syncs the file and replies true (false if a write
/// failed at any point).
using result_sink_actor
  = caf::typed_actor<caf::reacts_to<write_atom, task_result>,
                     caf::reacts_to<flush_atom>,
                     caf::replies_to<close_atom, run_summary>::with<bool>>;

/// The sink's parameters.
struct result_sink_config {
  /// An open file descriptor, owned by the sink from now on.
  int fd = -1;
  /// Written first; empty when appending to a file that has one.
  std::string header_line;
  /// Wall-clock time of the run's start, microseconds since the Unix epoch.
  int64_t epoch_us = 0;
  /// The file's name, for error messages.
  std::string path;
  /// Called for every SUCCEEDED, uncached result with a cache key (the
  /// result cache's store), empty for none.
  std::function<void(const task_result&)> on_succeeded;
};

/// Spawns the sink; it writes the header at once.
result_sink_actor spawn_result_sink(caf::actor_system& sys,
                                    result_sink_config cfg);

/// Writes all of `data` to `fd`, retrying short writes; false on error.
bool write_all(int fd, const char* data, size_t size);

} // namespace troupe
