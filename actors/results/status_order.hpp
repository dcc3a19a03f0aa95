#pragma once

// The one order in which people see statuses, on the progress line and in
// the HTML report: the terminal ones, SUCCEEDED first, then those of tasks
// not yet finished; each with its word and its colour. Results files, the
// JSON summary and the summary table keep the contract order of task_status
// (messages/task.hpp, product.md "Statuses").

#include "messages/task.hpp"

#include <array>
#include <string>
#include <string_view>

namespace troupe {

/// How people see one status.
struct status_look {
  task_status status;
  /// Its word on the progress line.
  std::string_view word;
  /// Its colour in the HTML report's charts and pills.
  std::string_view colour;
};

/// Every status, in the order people see them.
inline constexpr std::array<status_look, task_status_count> status_order{{
  {task_status::succeeded, "ok", "#2e9e5b"},
  {task_status::failed, "failed", "#d64545"},
  {task_status::timeout, "timeout", "#e0a030"},
  {task_status::error, "error", "#8e44ad"},
  {task_status::cancelled, "cancelled", "#8a8f98"},
  {task_status::pending, "pending", "#c8ccd2"},
  {task_status::queued, "queued", "#c8ccd2"},
  {task_status::running, "running", "#c8ccd2"},
}};

/// The look of `s`.
constexpr const status_look& look_of(task_status s) noexcept {
  for (auto& x : status_order)
    if (x.status == s)
      return x;
  return status_order.back();
}

// Every status has its look.
static_assert([] {
  for (size_t i = 0; i < task_status_count; ++i)
    if (look_of(static_cast<task_status>(i)).status
        != static_cast<task_status>(i))
      return false;
  return true;
}());

/// The status name in lower case ("succeeded"), for headings.
inline std::string lower_name(task_status s) {
  std::string out = status_name(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace troupe
