// The exec target's stdin line and exit classification.

#include "actors/exec/exec_protocol.hpp"

#include "actors/results/json_text.hpp"
#include "messages/error_code.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace json = boost::json;

namespace troupe {

namespace {

constexpr std::string_view blanks = " \t\r\n";

std::string_view trimmed(std::string_view s) {
  auto b = s.find_first_not_of(blanks);
  if (b == std::string_view::npos)
    return {};
  return s.substr(b, s.find_last_not_of(blanks) - b + 1);
}

// "; stderr: ..." with the kept tail, saying when it is only the tail.
std::string stderr_part(const process_outcome& p) {
  auto tail = trimmed(p.err);
  if (tail.empty())
    return "";
  std::string out = "; stderr";
  if (p.err_bytes > p.err.size())
    out += " (last " + std::to_string(p.err.size()) + " of "
           + std::to_string(p.err_bytes) + " bytes)";
  out += ": ";
  out += tail;
  return out;
}

// Out of processes, memory or descriptors for now: a later attempt may
// start. ENOENT, EACCES, ENOEXEC and the rest would only repeat.
bool spawn_is_transient(int err) {
  return err == EAGAIN || err == ENOMEM || err == EMFILE || err == ENFILE;
}

attempt_reply failed(outcome o, std::string code, std::string error) {
  attempt_reply r;
  r.result = o;
  r.error_code = std::move(code);
  r.error = std::move(error);
  return r;
}

} // namespace

std::string stdin_line(const attempt_request& req) {
  auto& t = req.task;
  std::string out;
  out.reserve(96 + t.id.size() + t.inputs_json.size() + t.params_json.size()
              + t.query.size());
  out += "{\"id\":";
  append_json_string(out, t.id);
  out += ",\"dataset\":";
  append_json_string(out, t.dataset);
  out += ",\"case_id\":";
  append_json_string(out, t.case_id);
  out += ",\"attempt\":";
  append_uint(out, req.attempt);
  // Compact JSON objects already (config/ checked them).
  out += ",\"inputs\":";
  out += t.inputs_json.empty() ? "{}" : t.inputs_json;
  out += ",\"params\":";
  out += t.params_json.empty() ? "{}" : t.params_json;
  out += ",\"query\":";
  append_json_string(out, t.query);
  if (!t.conversation_id.empty()) {
    out += ",\"conversation_id\":";
    append_json_string(out, t.conversation_id);
  }
  out += "}\n";
  return out;
}

attempt_reply classify_exit(const process_outcome& p,
                            const std::string& command) {
  if (p.spawn_errno != 0)
    return failed(
      spawn_is_transient(p.spawn_errno) ? outcome::error : outcome::error_final,
      std::string{to_string(error_code::spawn_failed)},
      "cannot run \"" + command + "\": " + std::strerror(p.spawn_errno));
  if (p.wait_errno != 0)
    return failed(outcome::error, std::string{exit_unknown_code},
                  "exit status unknown: waitpid failed ("
                    + std::string{std::strerror(p.wait_errno)}
                    + "); something else in this process reaped the command"
                    + stderr_part(p));
  if (p.too_large)
    return failed(outcome::error_final,
                  std::string{to_string(error_code::response_too_large)},
                  "stdout passed " + std::to_string(p.out.size())
                    + " bytes (target.max_response_bytes); the command was "
                      "killed"
                    + stderr_part(p));
  if (p.signal != 0) {
    const char* name = ::sigabbrev_np(p.signal);
    return failed(
      outcome::error, std::string{to_string(error_code::killed_by_signal)},
      "killed by signal " + std::to_string(p.signal)
        + (name != nullptr ? " (SIG" + std::string{name} + ")" : std::string{})
        + stderr_part(p));
  }
  if (p.exit_code == exit_tempfail)
    return failed(outcome::failure, exit_error_code(p.exit_code),
                  "exit status 75 (EX_TEMPFAIL, retried)" + stderr_part(p));
  if (p.exit_code != 0)
    return failed(outcome::rejected, exit_error_code(p.exit_code),
                  "exit status " + std::to_string(p.exit_code)
                    + stderr_part(p));
  // The whole of stdout, blanks around it aside, is one JSON text.
  auto text = trimmed(p.out);
  json::error_code ec;
  auto v = json::parse(text, ec);
  std::string why = ec ? ec.message() : "";
  if (!ec && !all_finite(v))
    why = "a number is out of range";
  if (text.empty())
    why = "it is empty";
  if (!why.empty()) {
    auto head = std::string{text.substr(0, 200)};
    return failed(outcome::error_final,
                  std::string{to_string(error_code::malformed_response)},
                  "exit status 0 but stdout is not one JSON text (" + why + ")"
                    + (head.empty()
                         ? std::string{}
                         : ": " + head + (text.size() > 200 ? "..." : ""))
                    + stderr_part(p));
  }
  attempt_reply r;
  r.result = outcome::success;
  r.output_json = json::serialize(v);
  return r;
}

} // namespace troupe
