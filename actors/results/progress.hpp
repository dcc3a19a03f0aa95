#pragma once

// The progress display: asks the supervisor for a status snapshot at a fixed
// interval and prints it, as one live line on a terminal or as plain lines
// otherwise.

#include "messages/type_ids.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

namespace troupe {

/// Anything that reports a run's status (the supervisor).
using status_source
  = caf::typed_actor<caf::replies_to<status_atom>::with<run_status>>;

/// The progress actor's handle; `tick` is internal.
using progress_actor = caf::typed_actor<caf::reacts_to<tick_atom>>;

/// The progress display's parameters.
struct progress_config {
  status_source source;
  /// Where lines go (stderr).
  std::FILE* out = nullptr;
  /// Redraw one line in place (terminal) or print a line per interval.
  bool live = true;
  int64_t interval_us = 250'000;
  /// Columns of the terminal; a live line is cut to fit (0: no limit).
  size_t width = 0;
};

/// One progress line, without line end; `throttled` marks that throttled
/// answers (429 and the like) arrived since the last line.
std::string render_progress(const run_status& s, bool throttled = false);

/// Cuts `line` to `width` columns (counting bytes; the line is ASCII).
std::string fit_width(std::string line, size_t width);

/// Spawns the display; it stops when the source is gone or on exit.
progress_actor spawn_progress(caf::actor_system& sys, progress_config cfg);

/// Clears a live line (call after the display has stopped).
void clear_progress_line(std::FILE* out);

} // namespace troupe
