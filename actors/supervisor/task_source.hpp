#pragma once

// Where the supervisor gets its tasks: a stream, so that a run of any size
// needs memory for the tasks in flight only. runtime/ implements it on top of
// the manifest's datasets; tests implement it on a vector.

#include "messages/task.hpp"

#include <string>

namespace troupe {

/// A stream of tasks in dispatch order.
class task_source {
public:
  virtual ~task_source() = default;

  /// Stores the next task in `out`; false when there is none left (or the
  /// stream broke, see error()).
  virtual bool next(task_spec& out) = 0;

  /// Why the stream ended early, empty if it did not.
  virtual std::string error() const {
    return {};
  }
};

} // namespace troupe
