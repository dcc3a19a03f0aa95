#pragma once

// The supervisor's task stream over a manifest: datasets in order, each case
// crossed with every parameter set, inputs merged (the case wins on a clash).

#include "actors/supervisor/task_source.hpp"
#include "config/manifest.hpp"

#include <functional>
#include <memory>

namespace troupe::runtime {

/// Streams the tasks of `m`, which must outlive the source.
std::shared_ptr<task_source> make_dataset_source(const config::manifest& m);

/// Passes on the tasks of `source` for which `keep` holds, and counts the
/// others in `skipped`.
std::shared_ptr<task_source>
make_filtered_source(std::shared_ptr<task_source> source,
                     std::function<bool(const task_spec&)> keep);

} // namespace troupe::runtime
