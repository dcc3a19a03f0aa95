#pragma once

// The pass over every dataset before a run (internal to config/).

#include "config/manifest.hpp"

namespace troupe::config {

class checker;

/// Streams every dataset of `m` once: counts its cases, reports the first
/// broken line and any duplicate case id, and checks that every task the
/// stub script names exists.
void scan_datasets(const checker& chk, manifest& m);

} // namespace troupe::config
