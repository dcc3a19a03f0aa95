// The exec executor actor: a promise per attempt in flight, the pool does
// the rest.

#include "actors/exec/exec_executor.hpp"

#include "actors/exec/exec_protocol.hpp"
#include "actors/exec/process_pool.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <memory>
#include <unordered_map>

namespace troupe {

namespace {

struct exec_executor_state {
  /// Destroyed with the state when the actor exits: that kills and reaps
  /// every command still running.
  std::unique_ptr<process_pool> pool;
  /// Why the pool refused to start ("" when it runs): each attempt then
  /// aborts the run with it.
  std::string refused;
  std::unordered_map<uint64_t, caf::typed_response_promise<attempt_reply>>
    pending;
  static inline const char* name = "exec_executor";
};

using executor_pointer
  = exec_executor_actor::stateful_pointer<exec_executor_state>;

caf::typed_response_promise<attempt_reply> on_execute(executor_pointer self,
                                                      attempt_request& req) {
  auto rp = self->make_response_promise<attempt_reply>();
  if (!self->state.refused.empty()) {
    attempt_reply r;
    r.result = outcome::abort_run;
    r.error_code = to_string(error_code::spawn_failed);
    r.error = "exec target: " + self->state.refused;
    rp.deliver(std::move(r));
    return rp;
  }
  self->state.pending.emplace(req.request_id, rp);
  self->state.pool->submit(req.request_id, stdin_line(req));
  return rp;
}

void on_reply(executor_pointer self, uint64_t id, attempt_reply& reply) {
  auto& pending = self->state.pending;
  auto i = pending.find(id);
  if (i == pending.end())
    return; // aborted meanwhile
  i->second.deliver(std::move(reply));
  pending.erase(i);
}

void on_abort(executor_pointer self, uint64_t id) {
  self->state.pending.erase(id);
  self->state.pool->kill(id);
}

exec_executor_actor::behavior_type exec_executor(executor_pointer self,
                                                 process_pool_options opts) {
  auto command = opts.argv.empty() ? std::string{} : opts.argv.front();
  self->state.pool = std::make_unique<process_pool>(std::move(opts));
  // The pool's thread classifies (pure work, off the actors' threads) and
  // reaches this actor through a weak handle, which does not keep it alive.
  auto addr = self->address();
  auto on_done = [addr, command](std::vector<process_outcome>&& done) {
    auto hdl = caf::actor_cast<caf::actor>(addr);
    if (!hdl)
      return;
    for (auto& p : done)
      caf::anon_send(hdl, reply_atom::value, p.id, classify_exit(p, command));
  };
  self->state.refused = self->state.pool->start(std::move(on_done));
  return {
    [=](execute_atom, attempt_request& req) { return on_execute(self, req); },
    [=](abort_atom, uint64_t id) { on_abort(self, id); },
    // Graceful cancel: the command finishes, its answer counts.
    [=](cancel_atom, uint64_t) {},
    [=](reply_atom, uint64_t id, attempt_reply& reply) {
      on_reply(self, id, reply);
    },
  };
}

} // namespace

exec_executor_actor spawn_exec_executor(caf::actor_system& sys,
                                        process_pool_options opts) {
  return sys.spawn(exec_executor, std::move(opts));
}

} // namespace troupe
