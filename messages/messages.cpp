// Names and text forms of the message vocabulary.

#include "messages/execution.hpp"
#include "messages/run.hpp"
#include "messages/stub.hpp"
#include "messages/task.hpp"

namespace troupe {

const char* status_name(task_status x) noexcept {
  switch (x) {
    case task_status::pending:
      return "PENDING";
    case task_status::queued:
      return "QUEUED";
    case task_status::running:
      return "RUNNING";
    case task_status::succeeded:
      return "SUCCEEDED";
    case task_status::failed:
      return "FAILED";
    case task_status::timeout:
      return "TIMEOUT";
    case task_status::cancelled:
      return "CANCELLED";
    case task_status::error:
      return "ERROR";
  }
  return "?";
}

namespace {

template <class Task>
task_result result_with_identity(Task&& task) {
  task_result r;
  r.task_id = std::forward<Task>(task).id;
  r.dataset = std::forward<Task>(task).dataset;
  r.case_id = std::forward<Task>(task).case_id;
  r.params_json = std::forward<Task>(task).params_json;
  r.seq = task.seq;
  return r;
}

} // namespace

task_result result_for(const task_spec& task) {
  return result_with_identity(task);
}

task_result result_for(task_spec&& task) {
  return result_with_identity(std::move(task));
}

std::string to_string(task_status x) {
  return status_name(x);
}

std::string to_string(outcome x) {
  switch (x) {
    case outcome::success:
      return "success";
    case outcome::failure:
      return "failure";
    case outcome::rejected:
      return "rejected";
    case outcome::throttled:
      return "throttled";
    case outcome::timeout:
      return "timeout";
    case outcome::error:
      return "error";
    case outcome::abort_run:
      return "abort_run";
    case outcome::cancelled:
      return "cancelled";
    case outcome::error_final:
      return "error_final";
  }
  return "?";
}

task_status status_of(outcome x) noexcept {
  switch (x) {
    case outcome::success:
      return task_status::succeeded;
    case outcome::timeout:
      return task_status::timeout;
    case outcome::error:
    case outcome::error_final:
      return task_status::error;
    case outcome::cancelled:
      return task_status::cancelled;
    default:
      return task_status::failed;
  }
}

std::string to_string(run_end x) {
  switch (x) {
    case run_end::completed:
      return "completed";
    case run_end::cancelled:
      return "cancelled";
    case run_end::aborted:
      return "aborted";
    case run_end::deadline:
      return "deadline";
    case run_end::unwritable:
      return "unwritable";
    case run_end::no_nodes:
      return "no_nodes";
  }
  return "?";
}

uint64_t run_status::done() const noexcept {
  uint64_t n = 0;
  for (size_t i = static_cast<size_t>(task_status::succeeded);
       i < task_status_count; ++i)
    n += counts[i];
  return n;
}

double run_summary::tasks_per_second() const noexcept {
  if (wall_us <= 0)
    return 0.0;
  return static_cast<double>(finished_this_run) * 1e6
         / static_cast<double>(wall_us);
}

namespace {

std::string format_duration(int64_t us, bool seconds) {
  auto fmt = [](double v) {
    auto s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.')
      s.pop_back();
    return s;
  };
  if (seconds)
    return fmt(static_cast<double>(us) / 1e6);
  return fmt(static_cast<double>(us) / 1e3) + "ms";
}

} // namespace

std::string to_string(const stub_behavior& x) {
  switch (x.action) {
    case stub_action::success:
      if (x.delay_us >= 0)
        return "delay:" + format_duration(x.delay_us, false);
      return "success";
    case stub_action::failure:
      return "failure";
    case stub_action::fatal:
      return "fatal";
    case stub_action::timeout:
      return "timeout";
    case stub_action::error:
      return "error";
    case stub_action::throttle:
      if (x.retry_after_us >= 0)
        return "429:retry-after=" + format_duration(x.retry_after_us, true);
      return "429";
    case stub_action::auth:
      return "auth";
    case stub_action::crash:
      return "crash";
  }
  return "?";
}

} // namespace troupe
