#pragma once

// The result sink owns the results file. It writes the header when it
// starts, then one whole JSONL line per finished task, and the summary line
// when it closes. Lines that arrive together go out in one write(2), and a
// line is never split across writes, so a killed process leaves whole lines.
// After each write it sends (written, lines written) to the actor that sends it
// results, which keeps the number of unwritten results bounded. The first
// failed write sends (write_failed, why) to that actor, which stops the run;
// from then on the sink keeps finished results in memory (CANCELLED ones
// carry no work and are dropped), tries the file once more when it closes,
// and else writes them to a rescue file that it names on stderr.

#include "actors/results/result_line.hpp"
#include "messages/type_ids.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace troupe {

/// The sink's handle. `flush` is internal (write the batch now). `close` writes
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
  /// Shown every result the sink gets, written or not (runtime's result
  /// cache stores outputs through it), empty for none.
  std::function<void(const task_result&)> observer;
  /// Held for every write(2) of whole lines: whoever must end the process
  /// at once (a second Ctrl+C) takes it first, so that no write is cut.
  std::shared_ptr<std::mutex> write_lock = std::make_shared<std::mutex>();
  /// Where results go when the file refuses them at the end (a full disk):
  /// a file in this folder, named after the process. Empty: $TMPDIR or /tmp.
  std::string rescue_dir;
};

/// Spawns the sink; it writes the header at once.
result_sink_actor spawn_result_sink(caf::actor_system& sys,
                                    result_sink_config cfg);

/// Writes all of `data` to `fd`, retrying short writes; false on error.
bool write_all(int fd, const char* data, size_t size);

} // namespace troupe
