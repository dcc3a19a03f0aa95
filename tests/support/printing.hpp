#pragma once

// Lets Boost.Test print troupe's enums in failed checks.

#include "messages/execution.hpp"
#include "messages/run.hpp"
#include "messages/task.hpp"

#include <ostream>

namespace troupe {

inline std::ostream& operator<<(std::ostream& out, task_status x) {
  return out << status_name(x);
}

inline std::ostream& operator<<(std::ostream& out, outcome x) {
  return out << to_string(x);
}

inline std::ostream& operator<<(std::ostream& out, run_end x) {
  return out << to_string(x);
}

} // namespace troupe
