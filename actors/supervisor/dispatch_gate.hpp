#pragma once

// The supervisor's dispatch gate, a plain class: it answers "may one more
// call start now, and if not, when?" from the run's dispatch settings (rate
// limit, adaptive concurrency, batches) and the sink's backlog. It takes the
// current time as a parameter, so it is tested on exact times.
//
//   ask(kind, now, load) ─▶ now ─────────▶ started(kind, now): token, batch
//                        ├▶ at T ────────▶ (a token comes at T)
//                        ├▶ paused_until T (a batch pause ends at T)
//                        └▶ after_finish ▶ (a call or a write must end first)

#include "actors/supervisor/dispatch_policy.hpp"

#include <cstdint>

namespace troupe {

/// How tasks are let out (product.md, execution_policy).
struct dispatch_settings {
  /// Attempts (retries included) per second for the whole run, 0 for no
  /// limit, and how many may start at once after a quiet spell.
  double rate_per_second = 0;
  uint32_t burst = 1;
  /// AIMD on the number of calls in flight.
  bool adaptive = false;
  /// Tasks per batch, 0 for no batches, and the pause after each.
  uint32_t batch_size = 0;
  int64_t batch_pause_us = 0;
  /// The run's deadline, -1 for none.
  int64_t run_deadline_us = -1;

  /// Whether retries must ask for a permit.
  bool gates_retries() const noexcept {
    return rate_per_second > 0 || adaptive;
  }

  /// Whether the supervisor decides when each task starts (a rate limit,
  /// adaptive concurrency, batches): then no task may wait at a node ahead
  /// of its worker (the window).
  bool decides_each_start() const noexcept {
    return gates_retries() || batch_size > 0;
  }
};

/// What would start: a new task from the source, or a task's retry (which
/// is under way already: batches and the sink's backlog do not hold it).
enum class start_kind { task, retry };

/// The supervisor's load when it asks.
struct gate_load {
  /// Calls in flight (tasks handed out and not waiting in backoff).
  uint64_t running = 0;
  /// Tasks handed out and not finished.
  uint64_t in_flight = 0;
};

/// The gate's answer.
struct gate_verdict {
  enum kind_type {
    now,          ///< start it
    at,           ///< a rate-limit token comes at `at_us`
    paused_until, ///< a batch pause ends at `at_us`
    after_finish, ///< wait until a call ends or the sink writes
  };
  kind_type kind = now;
  int64_t at_us = 0;
};

/// Decides when calls may start.
class dispatch_gate {
public:
  /// Results sent to the sink and not yet written, at most: beyond this, no
  /// new task starts until the sink catches up (a slow disk must not turn
  /// into unbounded memory).
  static constexpr uint64_t max_sink_backlog = 8192;

  dispatch_gate() = default;

  dispatch_gate(const dispatch_settings& settings, uint32_t concurrency);

  /// May one more of `kind` start at `now_us` under `load`? Takes nothing;
  /// a batch whose last task is over starts its pause here.
  gate_verdict ask(start_kind kind, int64_t now_us, gate_load load);

  /// Whether new tasks are held at `now_us` whatever the next one is: a
  /// batch used up (in flight, or pausing) or the sink's backlog. Then the
  /// supervisor does not read the source, so a task the source would
  /// answer itself (the result cache) is not answered ahead of its batch.
  /// False once a batch's last task is over, so that reading the next task
  /// (and `ask`) starts the pause, and only if there is a next task.
  bool holds_tasks(int64_t now_us, gate_load load) const noexcept;

  /// One of `kind` starts at `now_us` (after `ask` said now): takes its
  /// token and its place in the batch.
  void started(start_kind kind, int64_t now_us);

  /// A call ended in success, or was throttled (see aimd_limit).
  void on_success();
  void on_throttle(int64_t started_us, int64_t now_us);

  /// A result went to the sink; the sink wrote `n` lines.
  void on_sent() noexcept {
    ++sink_backlog_;
  }
  void on_written(uint64_t n) noexcept;

  /// A program's callbacks are too far behind (on) or caught up (off): new
  /// tasks wait meanwhile, as for the sink (runtime/callback_thread.hpp).
  void hold(bool on) noexcept {
    held_ = on;
  }

  /// Whether the sink, or the callbacks, are too far behind for more lines.
  bool sink_full() const noexcept {
    return sink_backlog_ >= max_sink_backlog || held_;
  }

  /// The adaptive limit on calls in flight, 0 when not adaptive, and the
  /// lowest it went.
  uint32_t limit() const noexcept;
  uint32_t min_seen() const noexcept;

private:
  dispatch_settings settings_;
  token_bucket bucket_;
  aimd_limit aimd_;
  uint64_t sink_backlog_ = 0;
  bool held_ = false;
  uint32_t batch_left_ = 0;
  /// When the current batch pause ends, -1 when there is none.
  int64_t pause_end_us_ = -1;
};

} // namespace troupe
