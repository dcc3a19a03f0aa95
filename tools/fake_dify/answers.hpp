#pragma once

// The bodies a fake app answers with: a workflow run or a message, blocking
// or as SSE events, and Dify's error body. plan.cpp picks among them.

#include "tools/fake_dify/plan.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <vector>

namespace troupe::fake_dify {

/// A run call, as far as its answer depends on it.
struct call_facts {
  app_kind app = app_kind::workflow;
  bool streaming = false;
  std::string user;
  boost::json::object inputs;
  std::string query;
  std::string conversation_id;
  /// The conversation's queries before this one (conversation_id's).
  std::vector<std::string> history;
  std::string authorization; // the whole header, for the echo_key faults
  bool stop_fails = false;   // a stop ends the run "failed"
  int64_t stream_events = 0; // fault_settings::stream_events
};

/// How a successful call's run ends.
enum class run_end { succeeded, failed, stopped };

/// What a run's stream holds besides its answer.
enum class run_shape {
  basic,      // the app's usual events
  chatflow,   // on /chat-messages: an advanced-chat app's workflow events
  long_nodes, // many large node events (a workflow; else basic)
};

/// The answer of a call that reaches its app: blocking or a stream. With
/// `echo_key` its text is "you sent " and the Authorization header.
plan success_plan(const call_facts& call, plan_source& source, run_end end,
                  bool echo_key, run_shape shape = run_shape::basic);

/// A chatflow's answer (chatflow.cpp): blocking as a chat app's, streaming
/// as workflow_started, node events, message deltas, workflow_finished and
/// message_end; a failed run ends with workflow_finished(failed) and an
/// error event; a stop with workflow_finished(stopped or, with stop_fails,
/// failed) and message_end.
plan chatflow_plan(plan p, const call_facts& c, plan_source& source,
                   const std::string& run_id, run_end end,
                   const std::string& text, int64_t now);

/// The frames that end a workflow run we stopped: workflow_finished with
/// `data` turned "stopped" (or, with stop_fails, "failed").
std::string stopped_run_frame(const call_facts& c,
                              const boost::json::object& envelope,
                              boost::json::object data);

/// The error body Dify sends: {"code", "message", "status"}.
std::string error_body(int status, std::string_view code,
                       std::string_view message);

/// One SSE frame: "data: {...}\n\n".
std::string frame(const boost::json::object& o);

/// GET /v1/parameters: one text input.
std::string parameters_json();

} // namespace troupe::fake_dify
