#pragma once

// troupe's one type-ID block: every atom and every message type that crosses
// actors (and, with remote workers, machines). runtime/ registers them all
// with each actor system through for_each_message_type.

#include "messages/execution.hpp"
#include "messages/fnv1a.hpp"
#include "messages/http.hpp"
#include "messages/run.hpp"
#include "messages/stub.hpp"
#include "messages/task.hpp"

#include <caf/type_id.hpp>

#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(troupe, caf::first_custom_type_id)

// -- task lifecycle ---------------------------------------------------------

CAF_ADD_ATOM(troupe, troupe, run_atom, "run")
CAF_ADD_ATOM(troupe, troupe, execute_atom, "execute")
CAF_ADD_ATOM(troupe, troupe, retry_atom, "retry")
CAF_ADD_ATOM(troupe, troupe, deadline_atom, "deadline")
CAF_ADD_ATOM(troupe, troupe, result_atom, "result")
CAF_ADD_ATOM(troupe, troupe, backoff_atom, "backoff")
CAF_ADD_ATOM(troupe, troupe, throttle_atom, "throttle")
CAF_ADD_ATOM(troupe, troupe, permit_atom, "permit")
// A library run's callbacks are behind (hold_atom, true) or caught up.
CAF_ADD_ATOM(troupe, troupe, hold_atom, "hold")
CAF_ADD_ATOM(troupe, troupe, wake_atom, "wake")
CAF_ADD_ATOM(troupe, troupe, abort_atom, "abort")
CAF_ADD_ATOM(troupe, troupe, reply_atom, "reply")
CAF_ADD_ATOM(troupe, troupe, http_done_atom, "httpdone")
CAF_ADD_ATOM(troupe, troupe, http_chunk_atom, "httpchunk")
CAF_ADD_TYPE_ID(troupe, (troupe::http_outcome))
CAF_ADD_TYPE_ID(troupe, (troupe::http_result))
CAF_ADD_TYPE_ID(troupe, (std::vector<troupe::http_result>))

CAF_ADD_TYPE_ID(troupe, (troupe::task_spec))
CAF_ADD_TYPE_ID(troupe, (troupe::file_input))
CAF_ADD_TYPE_ID(troupe, (troupe::dify_info))
CAF_ADD_TYPE_ID(troupe, (troupe::expectation))
CAF_ADD_TYPE_ID(troupe, (troupe::assertion_result))
CAF_ADD_TYPE_ID(troupe, (troupe::attempt_record))
CAF_ADD_TYPE_ID(troupe, (troupe::task_result))
CAF_ADD_TYPE_ID(troupe, (troupe::turn_spec))
CAF_ADD_TYPE_ID(troupe, (troupe::turn_result))
// results: a node's relay hands in its workers' results in batches (and
// takes their tasks in batches: run with a vector of indexed_task).
CAF_ADD_ATOM(troupe, troupe, results_atom, "results")
CAF_ADD_TYPE_ID(troupe, (troupe::indexed_result))
CAF_ADD_TYPE_ID(troupe, (std::vector<troupe::indexed_result>))
CAF_ADD_TYPE_ID(troupe, (troupe::indexed_task))
CAF_ADD_TYPE_ID(troupe, (std::vector<troupe::indexed_task>))
CAF_ADD_TYPE_ID(troupe, (troupe::attempt_request))
CAF_ADD_TYPE_ID(troupe, (troupe::attempt_reply))

// -- run control ------------------------------------------------------------

CAF_ADD_ATOM(troupe, troupe, start_atom, "start")
CAF_ADD_ATOM(troupe, troupe, cancel_atom, "cancel")
CAF_ADD_ATOM(troupe, troupe, status_atom, "status")
CAF_ADD_ATOM(troupe, troupe, tick_atom, "tick")
CAF_ADD_ATOM(troupe, troupe, done_atom, "done")
CAF_ADD_ATOM(troupe, troupe, drain_atom, "drain")

CAF_ADD_TYPE_ID(troupe, (troupe::run_status))
CAF_ADD_TYPE_ID(troupe, (troupe::worker_status))
CAF_ADD_TYPE_ID(troupe, (troupe::http_executor_status))
CAF_ADD_TYPE_ID(troupe, (troupe::stub_executor_status))
CAF_ADD_TYPE_ID(troupe, (troupe::task_note))
CAF_ADD_TYPE_ID(troupe, (troupe::failure_group))
CAF_ADD_TYPE_ID(troupe, (troupe::run_summary))
CAF_ADD_TYPE_ID(troupe, (troupe::assertion_note))

// -- result sink ------------------------------------------------------------

// flush: the sink's own "write the batch now"; written: its acknowledgement
// (lines written) to whoever sends it results.
CAF_ADD_ATOM(troupe, troupe, write_atom, "write")
CAF_ADD_ATOM(troupe, troupe, flush_atom, "flush")
CAF_ADD_ATOM(troupe, troupe, written_atom, "written")
CAF_ADD_ATOM(troupe, troupe, close_atom, "close")
CAF_ADD_ATOM(troupe, troupe, write_failed_atom, "wfailed")

// -- stub executor setters --------------------------------------------------

CAF_ADD_ATOM(troupe, troupe, set_behavior_atom, "setbehav")
CAF_ADD_ATOM(troupe, troupe, set_failure_rate_atom, "setfrate")
CAF_ADD_ATOM(troupe, troupe, set_delay_atom, "setdelay")
CAF_ADD_ATOM(troupe, troupe, clear_behaviors_atom, "clrbehav")

CAF_ADD_TYPE_ID(troupe, (troupe::stub_behavior))
CAF_ADD_TYPE_ID(troupe, (std::vector<troupe::stub_behavior>))

// -- nodes ------------------------------------------------------------------

// hello: versions; prepare: a run's manifest; workers: a run's workers. The
// node protocol carries built-in types only (strings, integers, actor
// handles), so that any two troupe versions can still tell each other
// theirs (docs/distribution-plan.md).
CAF_ADD_ATOM(troupe, troupe, hello_atom, "hello")
CAF_ADD_ATOM(troupe, troupe, prepare_atom, "prepare")
CAF_ADD_ATOM(troupe, troupe, workers_atom, "workers")
// A relay gives back the task queued ahead of a worker gone into backoff.
CAF_ADD_ATOM(troupe, troupe, take_back_atom, "takeback")
// In the supervisor's process: a lost node is back (node_up), and the
// grace for one to come back is over (node_grace).
CAF_ADD_ATOM(troupe, troupe, node_up_atom, "nodeup")
CAF_ADD_ATOM(troupe, troupe, node_grace_atom, "nodegrace")

CAF_END_TYPE_ID_BLOCK(troupe)

namespace troupe {

/// Calls `f.template operator()<T>(name)`-style visitor `f(tag<T>, name)` for
/// every message type, so one list serves registration and tests.
template <class T>
struct type_tag {
  using type = T;
};

template <class F>
void for_each_message_type(F&& f) {
  f(type_tag<task_spec>{}, "troupe::task_spec");
  f(type_tag<file_input>{}, "troupe::file_input");
  f(type_tag<dify_info>{}, "troupe::dify_info");
  f(type_tag<expectation>{}, "troupe::expectation");
  f(type_tag<assertion_result>{}, "troupe::assertion_result");
  f(type_tag<assertion_note>{}, "troupe::assertion_note");
  f(type_tag<attempt_record>{}, "troupe::attempt_record");
  f(type_tag<task_result>{}, "troupe::task_result");
  f(type_tag<turn_spec>{}, "troupe::turn_spec");
  f(type_tag<turn_result>{}, "troupe::turn_result");
  f(type_tag<indexed_result>{}, "troupe::indexed_result");
  f(type_tag<indexed_task>{}, "troupe::indexed_task");
  f(type_tag<std::vector<indexed_task>>{}, "std::vector<troupe::indexed_task>");
  f(type_tag<std::vector<indexed_result>>{},
    "std::vector<troupe::indexed_result>");
  f(type_tag<attempt_request>{}, "troupe::attempt_request");
  f(type_tag<attempt_reply>{}, "troupe::attempt_reply");
  f(type_tag<run_status>{}, "troupe::run_status");
  f(type_tag<worker_status>{}, "troupe::worker_status");
  f(type_tag<http_executor_status>{}, "troupe::http_executor_status");
  f(type_tag<stub_executor_status>{}, "troupe::stub_executor_status");
  f(type_tag<task_note>{}, "troupe::task_note");
  f(type_tag<failure_group>{}, "troupe::failure_group");
  f(type_tag<run_summary>{}, "troupe::run_summary");
  f(type_tag<stub_behavior>{}, "troupe::stub_behavior");
  f(type_tag<http_outcome>{}, "troupe::http_outcome");
  f(type_tag<http_result>{}, "troupe::http_result");
}

/// Bumped whenever a message type's `inspect` changes: with the names above
/// it makes the protocol fingerprint that nodes and supervisors compare.
constexpr uint64_t node_protocol_revision = 14;

/// FNV-1a over the message types' names and the revision: equal on two
/// processes that can talk.
inline uint64_t node_protocol() {
  uint64_t h = fnv1a(std::to_string(node_protocol_revision));
  for_each_message_type([&](auto, const char* name) { h = fnv1a(name, h); });
  return h;
}

} // namespace troupe
