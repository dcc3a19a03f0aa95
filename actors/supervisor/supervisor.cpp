// The supervisor actor.
//
// Dispatch is one loop, pump(): it lets out retries waiting for a permit
// first, then new tasks to idle workers, for as long as every policy says
// yes: no stop, the sink keeping up, the batch not used up, the adaptive
// limit on calls in flight, and a token from the rate limiter (whose next
// token schedules a `wake`). Whatever ends an attempt calls pump() again.
//
// Supervision: the supervisor monitors every worker. A worker that dies
// (an exception in a handler) ends the task it held ERROR, error_code
// "worker_crashed" with the exit reason, exactly once; a new worker takes
// its index and the run goes on. A worker's messages reach the supervisor
// in the order sent, its down message last, so a result sent before dying
// frees the slot first and the down message finds no task to fail. One
// thing cannot be told apart: a task handed to a worker that had already
// died (after sending its last result) also ends worker_crashed.

#include "actors/supervisor/supervisor.hpp"

#include "actors/crash_reason.hpp"
#include "actors/supervisor/dispatch_policy.hpp"
#include "actors/supervisor/run_stats.hpp"
#include "actors/worker/assertions.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <unordered_set>
#include <vector>

namespace troupe {

namespace {

/// Cancelled lines written per drain message, so that a huge remainder does
/// not block the supervisor's mailbox.
constexpr size_t drain_chunk = 4096;

/// Results sent to the sink and not yet written, at most: beyond this, no
/// new task starts until the sink catches up (a slow disk must not turn
/// into unbounded memory).
constexpr uint64_t max_sink_backlog = 8192;

struct permit_request {
  uint64_t seq;
  caf::typed_response_promise<bool> promise;
};

/// The task a worker holds, kept to end it if the worker dies.
struct worker_slot {
  std::optional<task_spec> task;
  int64_t dispatched_us = -1;
};

struct supervisor_state {
  supervisor_config cfg;
  std::vector<worker_actor> workers;
  std::vector<worker_slot> slots;
  std::vector<uint32_t> idle;
  /// Tasks handed to workers and not finished.
  uint64_t in_flight = 0;
  /// Those of them waiting in backoff, by seq.
  std::unordered_set<uint64_t> in_backoff;
  std::deque<permit_request> permits;
  /// A task read from the source that a policy held back.
  std::optional<task_spec> held;
  token_bucket bucket;
  aimd_limit aimd;
  bool wake_scheduled = false;
  uint32_t batch_left = 0;
  bool batch_paused = false;
  uint64_t throttled = 0;
  uint64_t sink_backlog = 0;
  bool drain_waiting = false;
  bool source_done = false;
  bool stopping = false;
  bool finishing = false;
  run_end end = run_end::completed;
  std::string reason;
  run_stats stats;
  static inline const char* name = "supervisor";

  /// Calls in flight (tasks dispatched, not waiting in backoff).
  uint64_t running() const noexcept {
    return in_flight - std::min<uint64_t>(in_flight, in_backoff.size());
  }
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

int64_t now_us(supervisor_pointer self) {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           self->clock().now() - self->state.cfg.worker.run_start)
    .count();
}

void write_result(supervisor_pointer self, task_result&& r) {
  auto& st = self->state;
  st.stats.add(r);
  ++st.sink_backlog;
  self->send(st.cfg.sink, write_atom::value, std::move(r));
}

// A task the result cache already answered: done without a call.
void complete_cached(supervisor_pointer self, task_spec& task) {
  auto output = std::move(task.cached_output_json);
  auto expect = std::move(task.expect);
  auto r = result_for(std::move(task));
  r.status = task_status::succeeded;
  r.started_us = r.finished_us = now_us(self);
  r.output_json = std::move(output);
  r.cached = true;
  r.assertions = check_expectation(expect, r.output_json, -1);
  write_result(self, std::move(r));
}

// The next task that needs a call (cached ones are done on the way), or
// none when the source is exhausted.
bool next_task(supervisor_pointer self) {
  auto& st = self->state;
  while (!st.held) {
    if (st.source_done)
      return false;
    task_spec task;
    if (!st.cfg.source->next(task)) {
      st.source_done = true;
      return false;
    }
    if (task.cached)
      complete_cached(self, task);
    else
      st.held = std::move(task);
  }
  return true;
}

// Whether one more call may start now; takes a rate-limit token if so.
bool admit(supervisor_pointer self) {
  auto& st = self->state;
  if (st.cfg.dispatch.adaptive && st.running() >= st.aimd.limit())
    return false; // an ending attempt calls pump() again
  auto now = now_us(self);
  if (st.bucket.try_take(now))
    return true;
  if (!st.wake_scheduled) {
    st.wake_scheduled = true;
    self->delayed_send(
      self, std::chrono::microseconds{st.bucket.next_token_us(now) - now},
      wake_atom::value);
  }
  return false;
}

void check_done(supervisor_pointer self);

void pump(supervisor_pointer self) {
  auto& st = self->state;
  if (st.stopping) {
    // No retry starts once the run stops.
    for (auto& p : st.permits)
      p.promise.deliver(false);
    st.permits.clear();
    check_done(self);
    return;
  }
  // Retries first: their tasks are under way already.
  while (!st.permits.empty()) {
    if (!admit(self))
      return;
    auto p = std::move(st.permits.front());
    st.permits.pop_front();
    st.in_backoff.erase(p.seq);
    p.promise.deliver(true);
  }
  auto batches = st.cfg.dispatch.batch_size > 0;
  while (!st.idle.empty() && st.sink_backlog < max_sink_backlog
         && !st.batch_paused && (!batches || st.batch_left > 0)) {
    if (!next_task(self))
      break;
    if (!admit(self))
      return;
    auto idx = st.idle.back();
    st.idle.pop_back();
    ++st.in_flight;
    if (batches)
      --st.batch_left;
    st.slots[idx].task = *st.held;
    st.slots[idx].dispatched_us = now_us(self);
    self->send(st.workers[idx], run_atom::value, std::move(*st.held));
    st.held.reset();
  }
  check_done(self);
}

void finish(supervisor_pointer self) {
  auto& st = self->state;
  if (st.finishing)
    return;
  st.finishing = true;
  auto summary = st.stats.summary();
  summary.total = std::max(st.cfg.total, st.stats.finished());
  summary.wall_us = now_us(self);
  summary.end = st.end;
  summary.reason = st.reason;
  if (st.cfg.dispatch.adaptive) {
    summary.concurrency_final = st.aimd.limit();
    summary.concurrency_min = st.aimd.min_seen();
  }
  auto done = [=](bool results_ok) {
    // The listener is an untyped (scoped) actor, hence anon_send.
    caf::anon_send(self->state.cfg.listener, done_atom::value, summary,
                   results_ok);
    // Workers may hold stale backoff timers; exit messages end them now.
    for (auto& w : self->state.workers)
      self->send_exit(w, caf::exit_reason::user_shutdown);
    self->quit();
  };
  self->request(st.cfg.sink, caf::infinite, close_atom::value, summary)
    .then(done, [=](caf::error&) { done(false); });
}

void check_done(supervisor_pointer self) {
  auto& st = self->state;
  if (st.in_flight > 0 || st.finishing)
    return;
  if (st.source_done && !st.held) {
    finish(self);
    return;
  }
  // A batch is over when its last task is: pause, then the next one.
  if (st.cfg.dispatch.batch_size > 0 && st.batch_left == 0 && !st.batch_paused
      && !st.stopping && next_task(self)) {
    st.batch_paused = true;
    self->delayed_send(
      self, std::chrono::microseconds{st.cfg.dispatch.batch_pause_us},
      batch_atom::value);
  } else if (st.source_done && !st.held) {
    finish(self); // the source ran out just now
  }
}

// Writes CANCELLED lines for tasks that never started, a chunk at a time.
void on_drain(supervisor_pointer self) {
  auto& st = self->state;
  size_t n = 0;
  while (n < drain_chunk) {
    task_spec task;
    if (st.held) {
      task = std::move(*st.held);
      st.held.reset();
    } else if (st.source_done || !st.cfg.source->next(task)) {
      st.source_done = true;
      break;
    }
    auto r = result_for(std::move(task));
    r.status = task_status::cancelled;
    r.finished_us = now_us(self);
    r.error = st.reason;
    r.error_code = "cancelled";
    write_result(self, std::move(r));
    ++n;
  }
  if (st.source_done)
    check_done(self);
  else if (st.sink_backlog >= max_sink_backlog)
    st.drain_waiting = true; // resumed by the sink's next acknowledgement
  else
    self->send(self, drain_atom::value);
}

// The sink wrote `n` lines: go on with what waited for it.
void on_flushed(supervisor_pointer self, uint64_t n) {
  auto& st = self->state;
  st.sink_backlog -= std::min(st.sink_backlog, n);
  if (st.sink_backlog >= max_sink_backlog)
    return;
  if (st.drain_waiting) {
    st.drain_waiting = false;
    self->send(self, drain_atom::value);
  }
  pump(self);
}

void begin_stop(supervisor_pointer self, run_end end, std::string reason,
                bool abort_in_flight) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.end = end;
  st.reason = std::move(reason);
  for (auto& w : st.workers)
    self->send(w, cancel_atom::value, abort_in_flight, st.reason);
  pump(self); // denies the permits waiting
  // Unstarted tasks end CANCELLED now, while the ones in flight finish.
  if (!st.source_done || st.held)
    self->send(self, drain_atom::value);
  else
    check_done(self);
}

void on_result(supervisor_pointer self, uint32_t idx, task_result& r) {
  auto& st = self->state;
  // Only the worker now at `idx` speaks for it (see the note on top).
  if (idx >= st.workers.size()
      || self->current_sender()
           != caf::actor_cast<caf::strong_actor_ptr>(st.workers[idx]))
    return;
  auto& slot = st.slots[idx];
  if (slot.task && slot.task->seq == r.seq)
    slot.task.reset();
  --st.in_flight;
  st.in_backoff.erase(r.seq);
  if (r.status == task_status::succeeded)
    st.aimd.on_success();
  write_result(self, std::move(r));
  st.idle.push_back(idx);
  pump(self);
}

void on_throttle(supervisor_pointer self, int64_t started_us) {
  auto& st = self->state;
  ++st.throttled;
  if (st.cfg.dispatch.adaptive)
    st.aimd.on_throttle(started_us, now_us(self));
}

// Spawns the worker at `idx` and monitors it.
void spawn_slot(supervisor_pointer self, uint32_t idx) {
  auto& st = self->state;
  auto wc = st.cfg.worker;
  wc.index = idx;
  wc.listener = caf::actor_cast<worker_listener>(self);
  wc.gated = st.cfg.dispatch.gates_retries();
  auto w = spawn_worker(self->system(), std::move(wc));
  self->monitor(w);
  st.workers[idx] = std::move(w);
}

// A worker died: its task ends ERROR, a new worker takes its place.
void on_worker_down(supervisor_pointer self, caf::down_msg& dm) {
  auto& st = self->state;
  if (st.finishing)
    return; // finish() stops the workers itself
  auto i = std::find_if(st.workers.begin(), st.workers.end(),
                        [&](auto& w) { return w.address() == dm.source; });
  if (i == st.workers.end())
    return;
  auto idx = static_cast<uint32_t>(i - st.workers.begin());
  spawn_slot(self, idx);
  auto& slot = st.slots[idx];
  if (!slot.task)
    return; // it was idle: its index stays in `idle`
  auto seq = slot.task->seq;
  auto r = result_for(std::move(*slot.task));
  slot.task.reset();
  r.status = task_status::error;
  r.error_code = "worker_crashed";
  r.error = "worker " + std::to_string(idx) + " crashed: "
            + (dm.reason ? crash_text(self->system(), dm.reason)
                         : std::string{"it stopped"});
  r.started_us = slot.dispatched_us;
  r.finished_us = now_us(self);
  --st.in_flight;
  // Whatever the dead worker held with us goes: its backoff, its permit.
  st.in_backoff.erase(seq);
  st.permits.erase(std::remove_if(st.permits.begin(), st.permits.end(),
                                  [&](auto& p) { return p.seq == seq; }),
                   st.permits.end());
  write_result(self, std::move(r));
  st.idle.push_back(idx);
  pump(self);
}

void on_start(supervisor_pointer self) {
  auto& st = self->state;
  if (!st.workers.empty())
    return;
  auto& d = st.cfg.dispatch;
  if (d.rate_per_second > 0)
    st.bucket = token_bucket{
      d.rate_per_second, static_cast<double>(std::max<uint32_t>(1, d.burst))};
  st.aimd = aimd_limit{st.cfg.concurrency};
  st.batch_left = d.batch_size;
  if (d.run_deadline_us > 0)
    self->delayed_send(self, std::chrono::microseconds{d.run_deadline_us},
                       deadline_atom::value);
  st.workers.resize(st.cfg.concurrency);
  st.slots.resize(st.cfg.concurrency);
  for (uint32_t i = 0; i < st.cfg.concurrency; ++i) {
    spawn_slot(self, i);
    st.idle.push_back(st.cfg.concurrency - 1 - i); // worker 0 goes first
  }
  pump(self);
}

run_status on_status(supervisor_pointer self) {
  auto& st = self->state;
  run_status s;
  s.total = st.cfg.total;
  s.counts = st.stats.counts();
  auto finished = st.stats.finished();
  auto known = finished + st.in_flight;
  s.counts[static_cast<size_t>(task_status::pending)]
    = s.total > known ? s.total - known : 0;
  s.counts[static_cast<size_t>(task_status::queued)] = st.in_backoff.size();
  s.counts[static_cast<size_t>(task_status::running)] = st.running();
  s.backoff = st.in_backoff.size();
  s.throttled = st.throttled;
  s.done_before = st.stats.baseline();
  s.attempts = st.stats.attempts();
  s.elapsed_us = now_us(self);
  s.stopping = st.stopping;
  s.concurrency = st.cfg.concurrency;
  s.effective_concurrency = st.cfg.dispatch.adaptive ? st.aimd.limit() : 0;
  return s;
}

supervisor_actor::behavior_type supervisor(supervisor_pointer self,
                                           supervisor_config cfg) {
  self->state.cfg = std::move(cfg);
  if (self->state.cfg.baseline) {
    self->state.stats = *self->state.cfg.baseline;
    self->state.stats.mark_baseline();
  }
  self->set_down_handler([=](caf::down_msg& dm) { on_worker_down(self, dm); });
  return {
    [=](start_atom) { on_start(self); },
    [=](result_atom, uint32_t idx, task_result& r) { on_result(self, idx, r); },
    [=](throttle_atom, int64_t started_us) { on_throttle(self, started_us); },
    [=](backoff_atom, bool entering, uint64_t seq) {
      if (entering)
        self->state.in_backoff.insert(seq);
      else
        self->state.in_backoff.erase(seq);
      pump(self); // a call ended: the adaptive limit may let another out
    },
    [=](permit_atom, uint64_t seq) {
      auto rp = self->make_response_promise<bool>();
      self->state.permits.push_back({seq, rp});
      pump(self);
      return rp;
    },
    [=](abort_atom, std::string& why) {
      begin_stop(self, run_end::aborted, "run aborted: " + why, true);
    },
    [=](cancel_atom, std::string& why) {
      begin_stop(self, run_end::cancelled, std::move(why), false);
    },
    [=](write_failed_atom, std::string& why) {
      begin_stop(self, run_end::unwritable,
                 "results could not be written (" + why + ")", false);
    },
    [=](deadline_atom) {
      auto secs
        = static_cast<double>(self->state.cfg.dispatch.run_deadline_us) / 1e6;
      char buf[96];
      std::snprintf(buf, sizeof(buf), "run deadline of %g s passed", secs);
      begin_stop(self, run_end::deadline, buf, false);
    },
    [=](wake_atom) {
      self->state.wake_scheduled = false;
      pump(self);
    },
    [=](batch_atom) {
      auto& st = self->state;
      st.batch_paused = false;
      st.batch_left = st.cfg.dispatch.batch_size;
      pump(self);
    },
    [=](status_atom) { return on_status(self); },
    [=](drain_atom) { on_drain(self); },
    [=](flush_atom, uint64_t n) { on_flushed(self, n); },
  };
}

} // namespace

supervisor_actor spawn_supervisor(caf::actor_system& sys,
                                  supervisor_config cfg) {
  return sys.spawn(supervisor, std::move(cfg));
}

} // namespace troupe
