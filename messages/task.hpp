#pragma once

// The task vocabulary: what a worker is asked to run and what it reports.
// Times are microseconds since the start of the run, so that results stay
// exact under virtual time and need no clock to interpret.

#include "messages/files.hpp"
#include "messages/wire.hpp"

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe {

/// The eight task statuses; the last five are terminal.
enum class task_status : uint8_t {
  pending,   ///< known to the run, not yet handed to a worker
  queued,    ///< handed to a worker, waiting for an attempt (or a retry)
  running,   ///< an attempt is in flight
  succeeded, ///< the service answered and the answer is the output
  failed,    ///< the service said no
  timeout,   ///< the attempt (or the task) passed its deadline
  cancelled, ///< the run was cancelled before the task finished
  error,     ///< something broke on our side or on the wire
};

/// Number of statuses, for arrays indexed by status.
constexpr size_t task_status_count = 8;

template <>
struct wire::enum_count<task_status>
  : std::integral_constant<size_t, task_status_count> {};

/// Upper-case name as written to results ("SUCCEEDED").
const char* status_name(task_status x) noexcept;

/// Used by CAF's deep_to_string.
std::string to_string(task_status x);

/// True for SUCCEEDED, FAILED, TIMEOUT, CANCELLED and ERROR.
constexpr bool is_terminal(task_status x) noexcept {
  return x >= task_status::succeeded;
}

/// A case's checks on its output (product.md, `expect`): every check listed
/// must hold once the task SUCCEEDED.
struct expectation {
  /// Texts the output must hold, and must not hold.
  std::vector<std::string> contains;
  std::vector<std::string> not_contains;
  /// Regular expressions (Perl syntax) that must match somewhere.
  std::vector<std::string> regex;
  /// The whole output, as compact JSON; empty for no such check.
  std::string equals_json;
  /// JSON Pointers into the output and the values they must hold (compact
  /// JSON), pairwise.
  std::vector<std::string> json_pointers;
  std::vector<std::string> json_values;
  /// Latency bound, -1 for none.
  int64_t max_latency_us = -1;

  bool empty() const noexcept {
    return contains.empty() && not_contains.empty() && regex.empty()
           && equals_json.empty() && json_pointers.empty()
           && max_latency_us < 0;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, expectation& x) {
  return f(caf::meta::type_name("troupe::expectation"), x.contains,
           x.not_contains, x.regex, x.equals_json, x.json_pointers,
           x.json_values, x.max_latency_us);
}

/// The outcome of one check.
struct assertion_result {
  /// "contains", "regex", "json /answer", ...
  std::string check;
  bool passed = false;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assertion_result& x) {
  return f(caf::meta::type_name("troupe::assertion_result"), x.check, x.passed,
           x.detail);
}

/// One turn of a multi-turn conversation (dify-chat, stub): the message it
/// sends and the checks on its answer (the dataset's merged in).
struct turn_spec {
  std::string query;
  /// The turn's inputs, merged over the case's (compact JSON); empty when
  /// the turn has none of its own.
  std::string inputs_json;
  expectation expect;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_spec& x) {
  return f(caf::meta::type_name("troupe::turn_spec"), x.query, x.inputs_json,
           x.expect);
}

/// One task: a case crossed with one parameter set.
struct task_spec {
  /// Stable id, `<dataset>/<case id>#<parameter index>`.
  std::string id;
  std::string dataset;
  std::string case_id;
  uint32_t param_index = 0;
  /// The parameter set as compact JSON (an object, "{}" when there is none).
  std::string params_json;
  /// The case's inputs merged with the parameter set, as compact JSON.
  std::string inputs_json;
  /// The user's message for chat targets (empty otherwise).
  std::string query;
  std::string conversation_id;
  /// Position in the run, counted from 0 in dispatch order.
  uint64_t seq = 0;
  /// The checks on the output (dataset's and case's).
  expectation expect;
  /// A conversation's turns, in order; empty for a single call. With
  /// turns, `query` is the turn in flight's and `expect` is empty.
  std::vector<turn_spec> turns;
  /// The files its inputs name, to upload before the call (Dify targets).
  std::vector<file_input> files;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_spec& x) {
  return f(caf::meta::type_name("troupe::task_spec"), x.id, x.dataset,
           x.case_id, x.param_index, x.params_json, x.inputs_json, x.query,
           x.conversation_id, x.seq, x.expect, x.turns, x.files);
}

/// What Dify says about a call, where it applies (empty / -1 otherwise).
struct dify_info {
  std::string task_id;
  std::string workflow_run_id;
  std::string conversation_id;
  std::string message_id;
  /// Dify's own `elapsed_time`, in seconds.
  double elapsed_time = -1;
  int64_t total_steps = -1;
  /// Files the answer came with (message_file events), a JSON array; empty
  /// for none.
  std::string files_json;

  bool empty() const noexcept {
    return task_id.empty() && workflow_run_id.empty() && conversation_id.empty()
           && message_id.empty() && elapsed_time < 0 && total_steps < 0
           && files_json.empty();
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dify_info& x) {
  return f(caf::meta::type_name("troupe::dify_info"), x.task_id,
           x.workflow_run_id, x.conversation_id, x.message_id, x.elapsed_time,
           x.total_steps, x.files_json);
}

/// One attempt of a task, as recorded in `attempt_log`. A lost one (its
/// node was lost while it held the task) is written with the status
/// "node_lost" and does not count as an attempt: it covers the node's whole
/// stay with the task, `status` stays RUNNING and `node` names the node.
struct attempt_record {
  task_status status = task_status::running;
  int64_t started_us = 0;
  int64_t duration_us = 0;
  std::string error;
  int32_t http_status = 0;
  bool lost = false;
  /// The node it ran on; set for lost attempts only.
  std::string node;
  /// HTTP attempts that reached the wire: the wire time, the wait before it
  /// and a new connection's set-up (attempt_reply's); -1 otherwise.
  int64_t latency_us = -1;
  int64_t queue_us = -1;
  int64_t connect_us = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, attempt_record& x) {
  return f(caf::meta::type_name("troupe::attempt_record"), x.status,
           x.started_us, x.duration_us, x.error, x.http_status, x.lost, x.node,
           x.latency_us, x.queue_us, x.connect_us);
}

/// What one turn of a conversation got: its answer (the output of its last
/// attempt), the checks on it, and the conversation it continued.
struct turn_result {
  std::string query;
  task_status status = task_status::pending;
  uint32_t attempts = 0;
  /// Duration of the turn's last attempt, -1 when none ended.
  int64_t latency_us = -1;
  std::string output_json;
  std::string error;
  int64_t tokens = -1;
  std::string conversation_id;
  std::string message_id;
  std::vector<assertion_result> assertions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn_result& x) {
  return f(caf::meta::type_name("troupe::turn_result"), x.query, x.status,
           x.attempts, x.latency_us, x.output_json, x.error, x.tokens,
           x.conversation_id, x.message_id, x.assertions);
}

/// The outcome of a task: what the result sink writes as one line.
struct task_result {
  std::string task_id;
  std::string dataset;
  std::string case_id;
  std::string params_json;
  task_status status = task_status::pending;
  std::vector<attempt_record> attempt_log;
  /// Start of the first attempt, -1 when the task never started.
  int64_t started_us = -1;
  int64_t finished_us = 0;
  /// The last attempt's latency: its wire time for an HTTP call that reached
  /// the wire, else its duration; -1 when none.
  int64_t latency_us = -1;
  /// The last attempt's queue and connect times, -1 where unknown.
  int64_t queue_us = -1;
  int64_t connect_us = -1;
  /// The output as JSON text, empty for none.
  std::string output_json;
  std::string error;
  /// Short machine-readable error class ("timeout", "http_500", ...).
  std::string error_code;
  int32_t http_status = 0;
  int64_t tokens = -1;
  /// A stream: from the wire's start (as latency_us) to the chunk with its
  /// first event; -1 for none.
  int64_t first_event_us = -1;
  uint64_t seq = 0;
  dify_info dify;
  std::vector<assertion_result> assertions;
  /// The output came from the result cache; no call was made.
  bool cached = false;
  /// The node that ran its last attempt, "local" for the supervisor's own
  /// process; empty in a run without nodes.
  std::string node;
  /// A conversation's turns, as far as they went; empty for a single call.
  std::vector<turn_result> turns;

  /// Whether any assertion failed.
  bool assertions_failed() const noexcept {
    for (auto& a : assertions)
      if (!a.passed)
        return true;
    return false;
  }

  /// Number of attempts made, lost ones (node_lost) not counted.
  uint32_t attempts() const noexcept {
    uint32_t n = 0;
    for (auto& a : attempt_log)
      n += a.lost ? 0 : 1;
    return n;
  }
};

/// A task for a remote worker's slot, as the supervisor sends a node's
/// tasks to its relay in batches.
struct indexed_task {
  uint32_t idx = 0;
  task_spec task;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, indexed_task& x) {
  // On the network: one byte string (messages/wire.hpp).
  return wire::batched_fields(f, "troupe::indexed_task", x.idx, x.task);
}

/// A remote worker's result with its slot, as its node's relay sends them
/// to the supervisor in batches (one message for many results).
struct indexed_result {
  uint32_t idx = 0;
  /// The actor id of the worker that sent it (set by the relay): a result
  /// counts only from the worker now at `idx`, not from one it replaced.
  uint64_t worker = 0;
  task_result result;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, indexed_result& x) {
  // On the network: one byte string (messages/wire.hpp).
  return wire::batched_fields(f, "troupe::indexed_result", x.idx, x.worker,
                              x.result);
}

/// A result that carries `task`'s identity: id, dataset, case, parameters
/// and seq, copied from the task or moved out of it.
task_result result_for(const task_spec& task);
task_result result_for(task_spec&& task);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_result& x) {
  return f(caf::meta::type_name("troupe::task_result"), x.task_id, x.dataset,
           x.case_id, x.params_json, x.status, x.attempt_log, x.started_us,
           x.finished_us, x.latency_us, x.queue_us, x.connect_us, x.output_json,
           x.error, x.error_code, x.http_status, x.tokens, x.first_event_us,
           x.seq, x.dify, x.assertions, x.cached, x.node, x.turns);
}

/// A worker's answer to `status`: the task it holds (empty when idle) and
/// where that task stands (PENDING when idle, QUEUED in backoff, RUNNING).
struct worker_status {
  std::string task_id;
  task_status status = task_status::pending;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_status& x) {
  return f(caf::meta::type_name("troupe::worker_status"), x.task_id, x.status);
}

} // namespace troupe
