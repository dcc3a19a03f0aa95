#pragma once

// Where the supervisor gets its tasks: a stream, so that a run of any size
// needs memory for the tasks in flight only. runtime/ implements it on top of
// the manifest's datasets; tests implement it on a vector.

#include "messages/task.hpp"

#include <optional>
#include <string>

namespace troupe {

/// One item of the stream: a task to run or, when the source answered it
/// itself (runtime's result cache), the task and its result, which the
/// supervisor writes without a call.
struct source_item {
  task_spec task;
  std::optional<task_result> answer;
};

/// A stream of tasks in dispatch order.
class task_source {
public:
  virtual ~task_source() = default;

  /// Stores the next task in `out`; false when there is none left (or the
  /// stream broke, see error()).
  virtual bool next(task_spec& out) = 0;

  /// Stores the next item in `out`; false as for next(). By default every
  /// task is to be run.
  virtual bool next_item(source_item& out) {
    out.answer.reset();
    return next(out.task);
  }

  /// Why the stream ended early, empty if it did not.
  virtual std::string error() const {
    return {};
  }
};

} // namespace troupe
