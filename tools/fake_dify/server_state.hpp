#pragma once

// What fake-dify's sessions share: the counters /_fake/stats reports, the
// runs and stop calls seen, and the ids, clock and dice of its plans.

#include "tools/fake_dify/hold_barrier.hpp"
#include "tools/fake_dify/options.hpp"
#include "tools/fake_dify/plan.hpp"
#include "tools/fake_dify/uploads.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace troupe::fake_dify {

/// --timing-log: what a session notes of a run call until it is answered.
struct call_timing {
  /// The request's "inputs" as compact JSON, empty when it has none.
  std::string inputs;
  /// When the request was read.
  int64_t received_us = 0;
  /// A stream: when its first data event (not a ping) was written; -1 for
  /// none yet.
  int64_t first_event_us = -1;
  /// A stream: the SSE events written, pings too.
  int64_t events = 0;
};

/// The "inputs" of a run call's JSON body, compact; empty when it has none.
std::string inputs_of(const std::string& body);

/// The server's state, shared by every session on every thread.
class server_state : public plan_source {
public:
  explicit server_state(const options& opts);
  ~server_state();
  server_state(const server_state&) = delete;
  server_state& operator=(const server_state&) = delete;

  /// The flags the server runs with.
  const options& opts() const {
    return opts_;
  }

  /// With --hold-until-active: the barrier, else null.
  hold_barrier* barrier = nullptr;

  /// The files uploaded (POST /v1/files/upload).
  upload_store files;
  const upload_store* uploads() override {
    return &files;
  }

  /// Run calls open now, and the most open at once.
  std::atomic<int64_t> active{0};
  std::atomic<int64_t> max_active_seen{0};

  uint64_t next_id() override;
  int64_t now() override;
  double draw() override;
  int64_t draw_between(int64_t lo, int64_t hi) override;
  int64_t count_fault(const std::string& key) override;
  std::optional<std::vector<std::string>>
  conversation(const std::string& user, const std::string& id) override;
  void remember_turn(const std::string& user, const std::string& id,
                     const std::string& query) override;

  /// Counts a call to `path` answered with `status` (0: no answer).
  void count(const std::string& path, int status);

  /// Counts a run call turned away by --max-active.
  void count_rejected();

  /// Counts a stream kept open after its final event ("linger").
  void count_lingering();

  /// Keeps a workflow run for GET /v1/workflows/run/{id} (the last 10,000).
  void remember_run(const std::string& id, std::string run);

  /// The run `id`'s JSON, if it is kept.
  std::optional<std::string> find_run(const std::string& id);

  /// Records a stop call for the task `id`.
  void stop(const std::string& id);

  /// Whether the task `id` was stopped.
  bool stopped(const std::string& id);

  /// The body of GET /_fake/stats.
  std::string stats_json();

  /// With --timing-log: writes a run call's line (see options.cpp).
  void log_timing(const call_timing& t, int64_t answered_us);

  /// Steady-clock microseconds, the time base of --timing-log.
  static int64_t steady_us();

private:
  options opts_;
  std::mutex log_mtx_;
  std::FILE* timing_log_ = nullptr;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mtx_;
  std::mt19937_64 rng_;
  uint64_t requests_ = 0;
  uint64_t rejected_active_ = 0;
  uint64_t lingering_ = 0;
  std::map<std::string, uint64_t> by_path_;
  std::map<int, uint64_t> by_status_;
  std::unordered_map<std::string, int64_t> fault_counts_;
  std::unordered_set<std::string> stopped_;
  std::vector<std::string> stops_;
  std::unordered_map<std::string, std::string> runs_; // run id -> JSON
  std::deque<std::string> run_order_;
  /// Conversations: user and id (joined by a NUL) -> queries, the last
  /// 100,000 started.
  std::unordered_map<std::string, std::vector<std::string>> conversations_;
  std::deque<std::string> conversation_order_;
};

/// Counts a run call as active while it lives.
class active_guard {
public:
  explicit active_guard(server_state& st);
  ~active_guard();
  active_guard(const active_guard&) = delete;
  active_guard& operator=(const active_guard&) = delete;

private:
  server_state* st_;
};

} // namespace troupe::fake_dify
