#pragma once

// How many tasks a run's status or summary holds in one status.

#include "messages/run.hpp"

#include <cstddef>

namespace troupe::test {

/// `run`'s count of `status`; `Run` is a run_status or a run_summary,
/// which both keep one count per status.
template <class Run>
size_t count_of(const Run& run, task_status status) {
  return run.counts[static_cast<size_t>(status)];
}

} // namespace troupe::test
