#pragma once

// The supervisor's task stream over a manifest: datasets in order, each case
// crossed with every parameter set, inputs merged (the case wins on a clash).

#include "actors/task_source.hpp"
#include "config/manifest.hpp"

#include <memory>

namespace troupe::runtime {

/// Streams the tasks of `m`, which must outlive the source.
std::shared_ptr<task_source> make_dataset_source(const config::manifest& m);

} // namespace troupe::runtime
