#pragma once

// The stub target's script: which behaviour an attempt gets, and the reply
// it leads to. Plain class, no actor; the stub executor owns one.

#include "messages/execution.hpp"
#include "messages/stub.hpp"
#include "messages/task.hpp"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe {

/// The stub's settings; the setters change them mid-run.
struct stub_settings {
  /// Delay of every attempt that has no delay of its own.
  int64_t delay_us = 0;
  /// Chance that an unscripted attempt fails (retryably).
  double failure_rate = 0.0;
  uint64_t seed = 0;
  /// Task id to one behaviour per attempt; the last one repeats.
  std::unordered_map<std::string, std::vector<stub_behavior>> behaviors;
  /// Dataset name to the behaviours of its unscripted tasks.
  std::unordered_map<std::string, std::vector<stub_behavior>> dataset_behaviors;
};

/// Decides stub attempts.
class stub_script {
public:
  stub_script() = default;

  explicit stub_script(stub_settings settings)
    : settings_(std::move(settings)) {}

  /// The behaviour of attempt `attempt` (from 1) of `task_id`, with its
  /// delay resolved (never -1).
  stub_behavior pick(const std::string& task_id, uint32_t attempt) const;

  void set_behavior(const std::string& task_id,
                    std::vector<stub_behavior> list) {
    settings_.behaviors[task_id] = std::move(list);
  }

  void set_failure_rate(double rate) {
    settings_.failure_rate = rate;
  }

  void set_delay(int64_t us) {
    settings_.delay_us = us;
  }

  void clear_behaviors() {
    settings_.behaviors.clear();
  }

  const stub_settings& settings() const noexcept {
    return settings_;
  }

private:
  stub_settings settings_;
};

/// The reply a behaviour gives (not called for "timeout", which never
/// answers). Throws std::runtime_error for "crash", as a buggy executor
/// would.
attempt_reply stub_reply(const stub_behavior& b, const task_spec& task);

} // namespace troupe
