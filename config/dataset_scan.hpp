#pragma once

// The pass over every dataset before a run (internal to config/).

#include "config/manifest.hpp"

#include <cstdint>

namespace troupe::config {

class checker;

/// How the pass reads a big JSONL file: in parts, each on a thread of its
/// own, of at least `part_bytes` each, on `threads` threads at most (0:
/// wanted_threads(), up to 8). A file over `most_bytes` is read in one pass:
/// the parts after the first keep their ids' hashes until the end (8 bytes a
/// case), and B5 holds a million cases to the memory of 100,000.
struct scan_options {
  unsigned threads = 0;
  uint64_t part_bytes = uint64_t{256} << 10;
  uint64_t most_bytes = uint64_t{16} << 20;
  /// For tests: set to the most parts a dataset was read in.
  size_t* parts_read = nullptr;
};

/// Streams every dataset of `m` once: counts its cases, reports the first
/// broken line and any duplicate case id, and checks that every task the
/// stub script names exists.
void scan_datasets(const checker& chk, manifest& m,
                   const scan_options& so = {});

} // namespace troupe::config
