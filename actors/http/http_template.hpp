#pragma once

// The generic http target's call: its url, headers and body templates with
// the task's values filled in (messages/placeholders.hpp has the grammar).
// Internal to actors/http/; build_call is the way in.

#include "actors/http/dify_protocol.hpp"

#include <variant>

namespace troupe::protocol {

/// The http target's call for `task`, or, when a placeholder has no value in
/// this task, the reply that ends the attempt FAILED (not retried).
std::variant<http_call, attempt_reply> build_http_call(const http_target& t,
                                                       const task_spec& task);

} // namespace troupe::protocol
