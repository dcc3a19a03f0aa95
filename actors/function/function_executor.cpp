// The function executor actor.

#include "actors/function/function_executor.hpp"

#include "actors/crash_reason.hpp"
#include "messages/error_code.hpp"

#include <boost/json.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <exception>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace troupe {

namespace {

struct pending_attempt {
  caf::typed_response_promise<attempt_reply> promise;
  cancel_token token;
};

struct function_executor_state {
  function_executor_config cfg;
  /// Attempts handed to the pool and not answered, aborted or cancelled.
  std::unordered_map<uint64_t, pending_attempt> pending;
  static inline const char* name = "function_executor";

  ~function_executor_state() {
    // Whatever still runs is no longer wanted.
    for (auto& kv : pending)
      kv.second.token.request_abort();
  }
};

using function_pointer
  = function_executor_actor::stateful_pointer<function_executor_state>;

// Runs on a pool thread: the user's function, its exception as an ERROR.
attempt_reply call_function(const execute_function& fn,
                            const attempt_request& req, cancel_token token) {
  try {
    return fn(req, std::move(token));
  } catch (const std::exception& e) {
    attempt_reply r;
    r.result = outcome::error;
    r.error = e.what();
    r.error_code = to_string(error_code::executor_exception);
    return r;
  } catch (...) {
    attempt_reply r;
    r.result = outcome::error;
    r.error = "the executor function threw a non-standard exception";
    r.error_code = to_string(error_code::executor_exception);
    return r;
  }
}

} // namespace

bool check_output(attempt_reply& reply) {
  if (reply.output_json.empty())
    return true;
  boost::json::error_code ec;
  auto v = boost::json::parse(reply.output_json, ec);
  if (!ec) {
    reply.output_json = boost::json::serialize(v);
    return true;
  }
  attempt_reply bad;
  bad.result = outcome::error_final;
  bad.error = "output is not JSON: " + ec.message();
  bad.error_code = to_string(error_code::malformed_response);
  bad.http_status = reply.http_status;
  bad.tokens = reply.tokens;
  reply = std::move(bad);
  return false;
}

std::optional<attempt_reply> run_attempt(const execute_function& fn,
                                         const attempt_request& req,
                                         const cancel_token& token) {
  // An attempt aborted while it waited for a thread (its deadline passed
  // in the queue) is not run at all: its task may already be running again.
  if (token.aborted())
    return std::nullopt;
  auto reply = call_function(fn, req, token);
  if (token.aborted())
    return std::nullopt; // nobody waits for it
  check_output(reply);
  return reply;
}

namespace {

caf::typed_response_promise<attempt_reply> on_execute(function_pointer self,
                                                      attempt_request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<attempt_reply>();
  cancel_token token;
  auto id = req.request_id;
  st.pending.emplace(id, pending_attempt{rp, token});
  auto hdl = caf::actor_cast<function_executor_actor>(self);
  st.cfg.pool->post([fn = st.cfg.fn, req = std::move(req), token,
                     hdl]() mutable {
    if (auto reply = run_attempt(fn, req, token))
      caf::anon_send(hdl, reply_atom::value, req.request_id, std::move(*reply));
  });
  return rp;
}

void on_reply(function_pointer self, uint64_t id, attempt_reply& reply) {
  auto& pending = self->state.pending;
  auto i = pending.find(id);
  if (i == pending.end())
    return; // aborted meanwhile
  i->second.promise.deliver(std::move(reply));
  pending.erase(i);
}

function_executor_actor::behavior_type
function_executor(function_pointer self, function_executor_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_exception_handler(crash_reason);
  return {
    [=](execute_atom, attempt_request& req) { return on_execute(self, req); },
    [=](reply_atom, uint64_t id, attempt_reply& reply) {
      on_reply(self, id, reply);
    },
    [=](abort_atom, uint64_t id) {
      auto& pending = self->state.pending;
      if (auto i = pending.find(id); i != pending.end()) {
        i->second.token.request_abort();
        pending.erase(i);
      }
    },
    [=](cancel_atom, uint64_t id) {
      auto& pending = self->state.pending;
      if (auto i = pending.find(id); i != pending.end())
        i->second.token.request_cancel();
    },
  };
}

struct checker_state {
  executor_actor inner;
  static inline const char* name = "output_checker";
};

// Passes everything to `inner`, and its replies through check_output.
executor_actor::behavior_type
output_checker(executor_actor::stateful_pointer<checker_state> self,
               executor_actor inner) {
  self->state.inner = inner;
  // The run's exit message goes on to the program's actor, and this one
  // ends after it (holding it till then: an actor nobody holds ends at once,
  // without its exit handler), so that waiting for this one waits for both.
  // The program's actor ending on its own ends this one too.
  self->link_to(inner);
  self->monitor(inner);
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.source == self->state.inner.address())
      self->quit(msg.reason);
    else
      self->send_exit(self->state.inner, msg.reason);
  });
  self->set_down_handler([=](caf::down_msg& msg) { self->quit(msg.reason); });
  return {
    [=](execute_atom, attempt_request& req) {
      auto rp = self->make_response_promise<attempt_reply>();
      self
        ->request(self->state.inner, caf::infinite, execute_atom::value,
                  std::move(req))
        .then(
          [rp](attempt_reply& r) mutable {
            check_output(r);
            rp.deliver(std::move(r));
          },
          [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
    [=](abort_atom, uint64_t id) {
      self->send(self->state.inner, abort_atom::value, id);
    },
    [=](cancel_atom, uint64_t id) {
      self->send(self->state.inner, cancel_atom::value, id);
    },
  };
}

} // namespace

executor_actor spawn_output_checker(caf::actor_system& sys,
                                    executor_actor inner) {
  return sys.spawn(output_checker, std::move(inner));
}

function_executor_actor spawn_function_executor(caf::actor_system& sys,
                                                function_executor_config cfg) {
  return sys.spawn(function_executor, std::move(cfg));
}

} // namespace troupe
