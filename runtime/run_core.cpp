// The run core: the run thread, and cancel, status and wait around it.

#include "runtime/run_core.hpp"

#include "actors/function/function_executor.hpp"
#include "actors/results/result_line.hpp"
#include "runtime/callback_thread.hpp"
#include "runtime/run_actors.hpp"
#include "runtime/run_prepare.hpp"
#include "runtime/troupe_caf.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/logger.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <shared_mutex>
#include <thread>

namespace troupe::runtime {

run_status final_status(const run_summary& s, uint32_t concurrency) {
  run_status out;
  out.total = s.total;
  out.counts = s.counts;
  out.attempts = s.attempts;
  out.elapsed_us = s.wall_us;
  out.stopping = s.end != run_end::completed;
  out.done_before
    = s.total > s.finished_this_run ? s.total - s.finished_this_run : 0;
  out.concurrency = concurrency;
  out.effective_concurrency = s.concurrency_final;
  return out;
}

struct run_core::impl {
  prepared_run prep;
  troupe::run_options api;
  std::shared_ptr<std::mutex> write_lock = std::make_shared<std::mutex>();
  std::shared_ptr<thread_pool> pool;
  std::unique_ptr<run_parts> parts;
  /// The running system and supervisor, while status() may ask it.
  mutable std::shared_mutex live_mtx;
  caf::actor_system* sys = nullptr;
  supervisor_actor sup;
  /// Everything below, and the end.
  mutable std::mutex mtx;
  std::condition_variable ended_cv;
  bool cancel_asked = false;
  std::string cancel_reason;
  /// The callbacks' last word on the backlog (callback_thread::on_backlog).
  bool holding = false;
  /// The last snapshot known: the initial one, each one polled, and the
  /// final one from stopping() on (status() during the shutdown).
  mutable run_status last_status;
  bool ended = false;
  bool waited = false;
  core_outcome outcome;
  std::optional<error> start_error;
  std::thread thread;
  /// Last, so destroyed first: its thread polls and cancels through the
  /// members above. A constructor that throws after it started stops it
  /// without a callback (callback_thread's destructor).
  std::unique_ptr<callback_thread> cbt;

  void drive();
  core_outcome drive_run();
  void finish(core_outcome out);
  void cancel(std::string reason);
  void hold(bool on);
  std::optional<run_status> poll() const;
};

namespace {

// The stopping point of a run that never had actors.
core_outcome nothing_left_outcome(const prepared_run& p) {
  core_outcome out;
  out.nothing_left = true;
  out.summary = p.target->baseline->summary();
  out.summary.total = p.m.task_count();
  out.skipped = p.target->skipped;
  out.results_path = p.target->path;
  return out;
}

} // namespace

run_core::run_core(const config::manifest& m, run_options cli,
                   troupe::run_options api,
                   std::shared_ptr<std::mutex> write_lock,
                   const std::function<void(run_core&)>& ready)
  : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  if (write_lock)
    d.write_lock = std::move(write_lock);
  d.prep.m = m;
  d.prep.cli = std::move(cli);
  d.api = std::move(api);
  bool custom = d.api.execute || d.api.actor_executor;
  prepare_run(d.prep, custom);
  auto& p = d.prep;
  d.last_status.total = p.m.task_count();
  d.last_status.concurrency = p.m.execution.concurrency;
  auto& on = d.api.on;
  if (on.on_result || on.on_progress || on.on_attempt)
    d.cbt = std::make_unique<callback_thread>(
      on, [&d] { return d.poll(); },
      [&d](const std::string& why) { d.cancel(why); },
      [&d](bool behind) { d.hold(behind); });
  if (p.nothing_left) {
    if (ready)
      ready(*this);
    d.thread = std::thread([&d] { d.finish(nothing_left_outcome(d.prep)); });
    return;
  }
  d.parts.reset(new run_parts{p.m, *p.target, p.source, p.client, p.api_key,
                              p.cached, p.epoch_us, p.cli, d.write_lock});
  auto& parts = *d.parts;
  if (!p.m.execution.nodes.empty()) {
    parts.nodes = p.m.execution.nodes;
    parts.manifest_text = p.manifest_text;
    parts.sent_key = p.cli.send_keys ? p.api_key : std::string{};
    parts.await_datasets = [&d](std::string& err) {
      auto code = await_datasets(d.prep, err);
      std::lock_guard<std::mutex> guard{d.mtx};
      d.last_status.total = d.prep.m.task_count();
      return code;
    };
    parts.begin = [&p](std::string& err) { return begin_results(p, err); };
  }
  if (d.api.actor_executor) {
    // Its replies go through check_output (a results line takes the output
    // as it is); a null handle stays null for spawn_run to refuse.
    parts.make_executor
      = [make = d.api.actor_executor->make](caf::actor_system& sys) {
          auto inner = make(sys);
          return inner ? spawn_output_checker(sys, std::move(inner))
                       : executor_actor{};
        };
  } else if (d.api.execute) {
    auto threads
      = d.api.pool_size > 0 ? d.api.pool_size : p.m.execution.concurrency;
    d.pool = std::make_shared<thread_pool>(threads);
    parts.executor_slots = threads;
    parts.make_executor
      = [fn = d.api.execute, pool = d.pool](caf::actor_system& sys) {
          return caf::actor_cast<executor_actor>(
            spawn_function_executor(sys, function_executor_config{fn, pool}));
        };
  }
  if (d.cbt && on.on_result)
    parts.on_result
      = [cbt = d.cbt.get()](const task_result& r) { cbt->push(r); };
  if (d.cbt && on.on_attempt)
    parts.on_attempt
      = [cbt = d.cbt.get()](const attempt_event& e) { cbt->push(e); };
  parts.started = [&d](caf::actor_system& sys, const supervisor_actor& sup) {
    std::unique_lock<std::shared_mutex> live{d.live_mtx};
    d.sys = &sys;
    d.sup = sup;
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.cancel_asked)
      caf::anon_send(sup, cancel_atom::value, d.cancel_reason);
    // The callbacks fell behind before the supervisor was published.
    if (d.holding)
      caf::anon_send(sup, hold_atom::value, true);
  };
  parts.stopping = [&d](const run_summary& s) {
    std::unique_lock<std::shared_mutex> live{d.live_mtx};
    {
      std::lock_guard<std::mutex> guard{d.mtx};
      d.last_status = final_status(s, d.prep.m.execution.concurrency);
    }
    d.sys = nullptr;
    d.sup = nullptr;
  };
  parts.cancel_asked = [&d](std::string& why) {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.cancel_asked)
      why = d.cancel_reason;
    return d.cancel_asked;
  };
  if (ready)
    ready(*this);
  d.thread = std::thread([&d] { d.drive(); });
}

run_core::~run_core() {
  auto& d = *impl_;
  if (!d.thread.joinable())
    return;
  cancel("");
  d.thread.join();
}

void run_core::impl::drive() {
  // Nothing may escape this thread (std::terminate): what the run threw
  // ends it as a run that did not start, with the error from wait().
  core_outcome out;
  try {
    out = drive_run();
  } catch (const error& e) {
    std::lock_guard<std::mutex> guard{mtx};
    start_error.emplace(e);
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> guard{mtx};
    start_error.emplace(error::bad_input, e.what());
  } catch (...) {
    std::lock_guard<std::mutex> guard{mtx};
    start_error.emplace(error::bad_input, "the run threw a non-standard "
                                          "exception");
  }
  if (pool)
    pool->stop();
  try {
    finish(std::move(out));
  } catch (...) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!start_error)
      start_error.emplace(error::bad_input, "the run's end failed");
    ended = true;
    ended_cv.notify_all();
  }
}

core_outcome run_core::impl::drive_run() {
  auto& p = prep;
  run_outcome run;
  run = p.cli.virtual_time ? run_virtual(*parts) : run_threaded(*parts);
  // The program's functions return before the run counts as over.
  if (pool)
    pool->stop();
  core_outcome out;
  out.results_path = p.cli.no_results_file ? "" : p.target->path;
  if (run.exit >= 0) {
    // A node refused the run before its header: the new file stays empty
    // and goes, so that the same command works once the node is fixed.
    struct stat st {};
    if (p.cli.resume.empty() && !p.cli.no_results_file
        && ::fstat(p.target->fd, &st) == 0 && S_ISREG(st.st_mode)
        && st.st_size == 0)
      ::unlink(p.target->path.c_str());
    std::lock_guard<std::mutex> guard{mtx};
    start_error.emplace(run.exit == exit_unwritable ? error::unwritable
                                                    : error::bad_input,
                        run.error);
  }
  out.summary = std::move(run.summary);
  out.results_ok = run.results_ok;
  if (run.exit < 0)
    out.source_error = p.source->error();
  return out;
}

void run_core::impl::finish(core_outcome out) {
  auto& p = prep;
  if (!p.cli.summary_json.empty() && !start_error
      && !write_text_file(p.cli.summary_json,
                          encode_summary(out.summary, p.epoch_us, false)
                            + "\n"))
    out.summary_error = p.cli.summary_json + ": cannot write the summary ("
                        + std::strerror(errno) + ")";
  auto last = final_status(out.summary, p.m.execution.concurrency);
  {
    std::lock_guard<std::mutex> guard{mtx};
    last_status = last;
  }
  if (cbt) {
    cbt->finish(last);
    out.callback_failure = cbt->failure();
  }
  std::lock_guard<std::mutex> guard{mtx};
  outcome = std::move(out);
  ended = true;
  ended_cv.notify_all();
}

std::optional<run_status> run_core::impl::poll() const {
  if (prep.cli.virtual_time)
    return std::nullopt; // nothing may touch the coordinator's actors
  std::shared_lock<std::shared_mutex> live{live_mtx};
  if (sys == nullptr)
    return std::nullopt;
  std::optional<run_status> out;
  // Hidden: the system does not wait for it. No timeout: CAF 0.17 keeps a
  // request's timer until it fires, and the supervisor answers as long as
  // it is published here (stopping() takes it away first).
  {
    caf::scoped_actor self{*sys, true};
    self->request(sup, caf::infinite, status_atom::value)
      .receive([&](run_status& s) { out = std::move(s); }, [](caf::error&) {});
  }
  if (out) {
    // Under the live lock: stopping()'s final status comes after it.
    std::lock_guard<std::mutex> guard{mtx};
    last_status = *out;
  }
  // Spawning the scoped actor made this thread hold the system's logger,
  // which the system's destructor waits for: let it go.
  caf::logger::set_current_actor_system(nullptr);
  return out;
}

void run_core::cancel(std::string reason) {
  impl_->cancel(std::move(reason));
}

// The callbacks are behind (on) or caught up: the supervisor holds new
// tasks meanwhile. Not under virtual time, whose actors only the driving
// thread may touch (its runs are the stub's, in one thread, and short).
void run_core::impl::hold(bool on) {
  if (prep.cli.virtual_time)
    return;
  std::shared_lock<std::shared_mutex> live{live_mtx};
  std::lock_guard<std::mutex> guard{mtx};
  holding = on; // for started(), if the supervisor is not published yet
  if (sup)
    caf::anon_send(sup, hold_atom::value, on);
}

void run_core::impl::cancel(std::string reason) {
  auto& d = *this;
  if (reason.empty())
    reason = "cancelled by the program";
  std::shared_lock<std::shared_mutex> live{d.live_mtx};
  std::lock_guard<std::mutex> guard{d.mtx};
  if (d.cancel_asked || d.ended)
    return;
  d.cancel_asked = true;
  d.cancel_reason = reason;
  if (d.sup && !d.prep.cli.virtual_time)
    caf::anon_send(d.sup, cancel_atom::value, std::move(reason));
}

core_outcome run_core::wait() {
  auto& d = *impl_;
  if (on_callback_thread())
    throw error{error::bad_input,
                "wait() called from a callback: the run cannot end while "
                "its callback thread waits for it"};
  {
    std::lock_guard<std::mutex> guard{d.mtx};
    if (d.waited)
      throw error{error::bad_input, "wait() called twice on one run"};
    d.waited = true;
  }
  d.thread.join();
  if (d.start_error)
    throw *d.start_error;
  return std::move(d.outcome);
}

run_status run_core::status() const {
  auto& d = *impl_;
  if (auto s = d.poll())
    return *s;
  std::lock_guard<std::mutex> guard{d.mtx};
  return d.last_status;
}

bool run_core::done() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->ended;
}

bool run_core::on_callback_thread() const {
  return impl_->cbt && impl_->cbt->on_this_thread();
}

} // namespace troupe::runtime
