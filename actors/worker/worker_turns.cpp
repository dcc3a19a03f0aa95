// A conversation's turns (dify-chat, stub): each turn is a call of its own,
// with its own attempts and retries, on the conversation the turn before
// answered in. The task ends after the last turn, or with the first turn
// that does not succeed; a cancel lets the turn in flight finish and ends
// the task CANCELLED before the next.

#include "actors/worker/worker_state.hpp"
#include "messages/error_code.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace troupe {

void close_turn(worker_pointer self, task_status status) {
  auto& st = self->state;
  auto& r = st.result;
  turn_result t;
  t.query = st.task.turns[st.turn].query;
  t.status = status;
  t.attempts = st.attempt;
  if (st.attempt > 0 && !r.attempt_log.empty()) {
    auto& last = r.attempt_log.back();
    t.latency_us = last.latency_us >= 0 ? last.latency_us : last.duration_us;
  }
  if (status == task_status::succeeded)
    t.output_json = r.output_json;
  else
    t.error = r.error;
  t.tokens = r.tokens;
  t.conversation_id = r.dify.conversation_id;
  t.message_id = r.dify.message_id;
  r.turns.push_back(std::move(t));
}

bool next_turn(worker_pointer self) {
  auto& st = self->state;
  auto& r = st.result;
  close_turn(self, task_status::succeeded);
  if (st.turn + 1 >= st.task.turns.size())
    return false;
  if (st.cancel_requested) {
    complete_cancelled(self, st.cancel_reason);
    return true;
  }
  if (!r.dify.conversation_id.empty())
    st.task.conversation_id = r.dify.conversation_id;
  if (st.task.conversation_id.empty()) {
    // The next turn would start a new conversation and test no memory.
    r.output_json.clear();
    r.error = "the answer named no conversation_id, so the next turn "
              "cannot continue the conversation";
    r.error_code = to_string(error_code::malformed_response);
    complete(self, task_status::error);
    return true;
  }
  auto& next = st.task.turns[++st.turn];
  st.task.query = next.query;
  if (!next.inputs_json.empty())
    st.task.inputs_json = next.inputs_json;
  st.attempt = 0;
  r.output_json.clear();
  r.error.clear();
  r.error_code.clear();
  r.http_status = 0;
  r.tokens = -1;
  r.first_event_us = -1;
  r.dify = dify_info{};
  // Each turn is a call: under a rate limit or adaptive concurrency it
  // waits for its permit like a retry does.
  if (st.cfg.gated) {
    self->send(st.cfg.listener, backoff_atom::value, true, st.task.seq);
    ask_permit(self, st.gen);
    return true;
  }
  do_attempt(self);
  return true;
}

void end_turns(worker_pointer self, task_status status) {
  auto& st = self->state;
  auto& r = st.result;
  // The turn in flight (or backing off), unless it already closed or was
  // never sent (its permit was refused).
  if (r.turns.size() == st.turn && st.attempt > 0)
    close_turn(self, status);
  int64_t tokens = -1;
  for (auto& t : r.turns)
    if (t.tokens >= 0)
      tokens = (tokens < 0 ? 0 : tokens) + t.tokens;
  r.tokens = tokens;
  auto n = std::to_string(st.task.turns.size());
  if (status != task_status::succeeded && status != task_status::cancelled
      && !r.error.empty())
    r.error
      = "turn " + std::to_string(r.turns.size()) + " of " + n + ": " + r.error;
}

} // namespace troupe
