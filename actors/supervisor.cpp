// The supervisor actor.

#include "actors/supervisor.hpp"

#include "actors/assertions.hpp"
#include "actors/run_stats.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
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

struct supervisor_state {
  supervisor_config cfg;
  std::vector<worker_actor> workers;
  std::vector<uint32_t> idle;
  uint64_t in_flight = 0;
  uint64_t backoff = 0;
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
  task_result r;
  r.task_id = std::move(task.id);
  r.dataset = std::move(task.dataset);
  r.case_id = std::move(task.case_id);
  r.params_json = std::move(task.params_json);
  r.seq = task.seq;
  r.status = task_status::succeeded;
  r.started_us = r.finished_us = now_us(self);
  r.output_json = std::move(task.cached_output_json);
  r.cached = true;
  r.assertions = check_expectation(task.expect, r.output_json, -1);
  write_result(self, std::move(r));
}

// Hands worker `idx` its next task, or parks it.
void dispatch(supervisor_pointer self, uint32_t idx) {
  auto& st = self->state;
  for (;;) {
    task_spec task;
    if (st.sink_backlog >= max_sink_backlog) {
      st.idle.push_back(idx); // resumed by the sink's next acknowledgement
      return;
    }
    if (st.stopping || st.source_done || !st.cfg.source->next(task)) {
      st.source_done = st.source_done || !st.stopping;
      st.idle.push_back(idx);
      return;
    }
    if (!task.cached) {
      ++st.in_flight;
      self->send(st.workers[idx], run_atom::value, std::move(task));
      return;
    }
    complete_cached(self, task);
  }
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

void check_done(supervisor_pointer self);

// Writes CANCELLED lines for tasks that never started, a chunk at a time.
void on_drain(supervisor_pointer self) {
  auto& st = self->state;
  task_spec task;
  size_t n = 0;
  while (n < drain_chunk && !st.source_done) {
    if (!st.cfg.source->next(task)) {
      st.source_done = true;
      break;
    }
    task_result r;
    r.task_id = std::move(task.id);
    r.dataset = std::move(task.dataset);
    r.case_id = std::move(task.case_id);
    r.params_json = std::move(task.params_json);
    r.seq = task.seq;
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

// The sink wrote `n` lines: start tasks that waited for it.
void on_flushed(supervisor_pointer self, uint64_t n) {
  auto& st = self->state;
  st.sink_backlog -= std::min(st.sink_backlog, n);
  if (st.sink_backlog >= max_sink_backlog)
    return;
  if (st.drain_waiting) {
    st.drain_waiting = false;
    self->send(self, drain_atom::value);
  }
  if (st.stopping || st.source_done)
    return;
  auto waiting = std::move(st.idle);
  st.idle.clear();
  for (auto idx : waiting)
    dispatch(self, idx);
}

void check_done(supervisor_pointer self) {
  auto& st = self->state;
  if (st.in_flight == 0 && st.source_done)
    finish(self);
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
  // Unstarted tasks end CANCELLED now, while the ones in flight finish.
  if (!st.source_done)
    self->send(self, drain_atom::value);
  else
    check_done(self);
}

void on_result(supervisor_pointer self, uint32_t idx, task_result& r) {
  auto& st = self->state;
  --st.in_flight;
  write_result(self, std::move(r));
  dispatch(self, idx);
  check_done(self);
}

void on_start(supervisor_pointer self) {
  auto& st = self->state;
  if (!st.workers.empty())
    return;
  auto listener = caf::actor_cast<worker_listener>(self);
  for (uint32_t i = 0; i < st.cfg.concurrency; ++i) {
    auto wc = st.cfg.worker;
    wc.index = i;
    wc.listener = listener;
    st.workers.push_back(spawn_worker(self->system(), std::move(wc)));
  }
  for (uint32_t i = 0; i < st.cfg.concurrency; ++i)
    dispatch(self, i);
  check_done(self);
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
  s.counts[static_cast<size_t>(task_status::queued)] = st.backoff;
  s.counts[static_cast<size_t>(task_status::running)]
    = st.in_flight - std::min(st.in_flight, st.backoff);
  s.backoff = st.backoff;
  s.throttled = st.throttled;
  s.done_before = st.stats.baseline();
  s.attempts = st.stats.attempts();
  s.elapsed_us = now_us(self);
  s.stopping = st.stopping;
  return s;
}

supervisor_actor::behavior_type supervisor(supervisor_pointer self,
                                           supervisor_config cfg) {
  self->state.cfg = std::move(cfg);
  if (self->state.cfg.baseline) {
    self->state.stats = *self->state.cfg.baseline;
    self->state.stats.mark_baseline();
  }
  return {
    [=](start_atom) { on_start(self); },
    [=](result_atom, uint32_t idx, task_result& r) { on_result(self, idx, r); },
    [=](throttle_atom) { ++self->state.throttled; },
    [=](backoff_atom, bool entering) {
      auto& n = self->state.backoff;
      n = entering ? n + 1 : (n > 0 ? n - 1 : 0);
    },
    [=](abort_atom, std::string& why) {
      begin_stop(self, run_end::aborted, "run aborted: " + why, true);
    },
    [=](cancel_atom, std::string& why) {
      begin_stop(self, run_end::cancelled, std::move(why), false);
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
