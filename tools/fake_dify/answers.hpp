#pragma once

// The bodies a fake app answers with: a workflow run or a message, blocking
// or as SSE events, and Dify's error body. plan.cpp picks among them.

#include "tools/fake_dify/plan.hpp"

#include <boost/json/object.hpp>

#include <string>

namespace troupe::fake_dify {

/// A run call, as far as its answer depends on it.
struct call_facts {
  app_kind app = app_kind::workflow;
  bool streaming = false;
  std::string user;
  boost::json::object inputs;
  std::string query;
  std::string conversation_id;
  std::string authorization; // the whole header, for the echo_key faults
};

/// How a successful call's run ends.
enum class run_end { succeeded, failed, stopped };

/// The answer of a call that reaches its app: blocking or a stream. With
/// `echo_key` its text is "you sent " and the Authorization header.
plan success_plan(const call_facts& call, plan_source& source, run_end end,
                  bool echo_key);

/// The error body Dify sends: {"code", "message", "status"}.
std::string error_body(int status, std::string_view code,
                       std::string_view message);

/// One SSE frame: "data: {...}\n\n".
std::string frame(const boost::json::object& o);

/// GET /v1/parameters: one text input.
std::string parameters_json();

} // namespace troupe::fake_dify
