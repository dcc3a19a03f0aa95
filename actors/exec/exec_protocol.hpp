#pragma once

// What an exec target's command reads and what its end means: the task as
// one JSON line on stdin, and the classification of its exit (config/
// README.md, "An exec target", is the user's side of this).
//
//   exit 0, stdout one JSON text   SUCCEEDED, output = that JSON
//   exit 0, anything else          ERROR, not retried (it would repeat)
//   exit 75 (EX_TEMPFAIL)          FAILED, retried
//   exit N                         FAILED, not retried
//   a signal troupe did not send   ERROR, retried
//   stdout over its cap            ERROR, not retried (the command killed)
//   not started (argv[0] missing)  ERROR, not retried
//   not started (EAGAIN, ENOMEM,   ERROR, retried
//     EMFILE, ENFILE)
//   reaped by something else       ERROR (exit_unknown), retried

#include "actors/exec/process_pool.hpp"
#include "messages/execution.hpp"

#include <string>

namespace troupe {

/// The exit status that asks for a retry (sysexits.h EX_TEMPFAIL).
constexpr int exit_tempfail = 75;

/// The error code when waitpid failed and the exit status is unknown.
constexpr const char* exit_unknown_code = "exit_unknown";

/// The task's line on the command's stdin, '\n' included:
/// {"id", "dataset", "case_id", "attempt", "inputs", "params", "query"}, and
/// "conversation_id" when the case has one.
std::string stdin_line(const attempt_request& req);

/// The attempt's reply for how the command ended; `command` (argv[0])
/// names it in errors.
attempt_reply classify_exit(const process_outcome& p,
                            const std::string& command);

} // namespace troupe
