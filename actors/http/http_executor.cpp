// The service executor actor.
//
// One executor serves every worker, so, as the stub executor does, it
// catches what a call's own code throws (building the request, parsing a
// chunk or the reply) and answers that attempt ERROR ("executor_exception",
// retryable) instead of dying with every other call it holds.

#include "actors/http/http_executor.hpp"

#include "actors/http/attempt_times.hpp"
#include "actors/http/file_uploads.hpp"
#include "actors/http/redact.hpp"
#include "messages/error_code.hpp"

#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <ctime>
#include <exception>
#include <optional>
#include <unordered_map>
#include <variant>

namespace troupe {

namespace {

/// Stop calls get ids of their own, apart from attempts' ids.
constexpr uint64_t stop_call_bit = uint64_t{1} << 63;

struct pending_call {
  caf::typed_response_promise<attempt_reply> promise;
  /// When the worker sent the attempt (steady clock): its queue time's start.
  int64_t sent_us = 0;
  /// A stream's transport times, as of its latest chunk.
  wire_times wire;
  bool stream = false;
  sse_parser parser;
  std::optional<dify_stream> events;
  int64_t first_event_us = -1;
  bool stop_wanted = false;
  bool stop_sent = false;
  /// While its files upload: the task, whose call is not made yet.
  std::optional<task_spec> waiting;
};

struct http_executor_state {
  http_executor_config cfg;
  std::unordered_map<uint64_t, pending_call> pending;
  std::vector<sse_event> scratch;
  file_uploads uploads;
  uint64_t calls = 0;
  uint64_t stop_calls = 0;
  uint64_t next_stop_id = 0;
  static inline const char* name = "http_executor";
};

using executor_pointer
  = http_executor_actor::stateful_pointer<http_executor_state>;

attempt_reply exception_reply(const std::exception& e) {
  attempt_reply r;
  r.result = outcome::error;
  r.error = std::string{"executor threw: "} + e.what();
  r.error_code = to_string(error_code::executor_exception);
  return r;
}

int64_t unix_now() {
  return static_cast<int64_t>(std::time(nullptr));
}

// The reply's latency (wire time), queue and connect times.
void set_times(attempt_reply& reply, const pending_call& call,
               wire_times wire) {
  auto t = split_attempt_time(call.sent_us, wire);
  reply.latency_us = t.latency_us;
  reply.queue_us = t.queue_us;
  reply.connect_us = t.connect_us;
}

void send_stop(executor_pointer self, pending_call& call) {
  auto& st = self->state;
  if (call.stop_sent || !call.events || call.events->task_id().empty())
    return;
  call.stop_sent = true;
  ++st.stop_calls;
  st.cfg.client->submit(stop_call_bit | ++st.next_stop_id,
                        build_stop_call(st.cfg.target, call.events->task_id()));
}

// Makes the call of an attempt whose files (if any) are uploaded.
void start_call(executor_pointer self, uint64_t id, task_spec& task,
                caf::typed_response_promise<attempt_reply> rp) {
  auto& st = self->state;
  std::variant<http_call, attempt_reply> built;
  try {
    if (!task.files.empty())
      task.inputs_json = st.uploads.inputs_for(task);
    built = build_call(st.cfg.target, task);
  } catch (const std::exception& e) {
    built = exception_reply(e);
  }
  if (auto* reply = std::get_if<attempt_reply>(&built)) {
    rp.deliver(std::move(*reply));
    st.pending.erase(id);
    return;
  }
  auto& call = std::get<http_call>(built);
  ++st.calls;
  auto& p = st.pending[id];
  p.promise = rp;
  p.stream = call.stream;
  p.waiting.reset();
  if (p.stream)
    p.events.emplace(st.cfg.target.kind, st.cfg.target.max_response_bytes);
  st.cfg.client->submit(id, std::move(call));
}

caf::typed_response_promise<attempt_reply> on_execute(executor_pointer self,
                                                      attempt_request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<attempt_reply>();
  auto id = req.request_id;
  // A worker in this process stamps the attempt; else it starts here.
  st.pending[id].sent_us
    = req.sent_us > 0 ? req.sent_us : http_client::now_us();
  // Files not uploaded yet: the call waits for their uploads (one per
  // content, shared with every attempt that needs it).
  if (!req.task.files.empty()
      && !st.uploads.need(st.cfg.target, id, req.task.files,
                          [&](uint64_t transfer, http_call call) {
                            st.cfg.client->submit(transfer, std::move(call));
                          })) {
    auto& p = st.pending[id];
    p.promise = rp;
    p.stream = st.cfg.target.streaming;
    p.waiting.emplace(std::move(req.task));
    return rp;
  }
  start_call(self, id, req.task, rp);
  return rp;
}

// A server may echo the key it was sent: no reply carries it further.
void redact_reply(attempt_reply& reply, const std::string& key) {
  if (key.empty())
    return;
  redact(reply.error, key);
  redact(reply.output_json, key);
  redact(reply.dify.task_id, key);
  redact(reply.dify.workflow_run_id, key);
  redact(reply.dify.conversation_id, key);
  redact(reply.dify.message_id, key);
  redact(reply.dify.files_json, key);
}

// The final event came (or the stream passed its cap): the attempt ends
// here, even if the server keeps the connection open (TTS audio, a proxy),
// and the transfer is dropped.
void complete_stream(executor_pointer self, uint64_t id, pending_call& call,
                     int status) {
  auto& st = self->state;
  http_outcome o;
  o.status = status;
  auto reply = call.events->finish(o, call.stop_sent, unix_now());
  // Over the cap the run may still be going: stop it, as a cancel would.
  if (call.events->too_large())
    send_stop(self, call);
  reply.first_event_us = call.first_event_us;
  set_times(reply, call, call.wire);
  redact_reply(reply, st.cfg.target.api_key);
  call.promise.deliver(std::move(reply));
  st.cfg.client->abort(id);
  st.pending.erase(id);
}

void on_chunk(executor_pointer self, uint64_t id, int status,
              std::string& bytes, wire_times wire) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end() || !i->second.events)
    return;
  auto& call = i->second;
  call.wire = wire;
  // first_event_ms counts from the wire's start, as latency_ms does: the
  // wait for a connection (queue_ms, connect_ms) is not the service's.
  auto first_us = wire.start_us >= 0 && wire.end_us >= wire.start_us
                    ? wire.end_us - wire.start_us
                    : 0;
  st.scratch.clear();
  try {
    call.parser.feed(bytes, st.scratch);
    for (auto& e : st.scratch)
      if (call.events->on_event(e) && call.first_event_us < 0)
        call.first_event_us = first_us;
    call.events->on_pending(call.parser.pending());
    if (call.events->finished())
      return complete_stream(self, id, call, status);
  } catch (const std::exception& e) {
    call.promise.deliver(exception_reply(e));
    st.cfg.client->abort(id);
    st.pending.erase(i);
    return;
  }
  // A cancel that came before the task id was known.
  if (call.stop_wanted)
    send_stop(self, call);
}

void on_done(executor_pointer self, uint64_t id, http_outcome& outcome);

void on_done_batch(executor_pointer self, std::vector<http_result>& done) {
  for (auto& r : done)
    on_done(self, r.id, r.outcome);
}

void on_upload_done(executor_pointer self, uint64_t id, http_outcome& outcome) {
  auto& st = self->state;
  auto settled = st.uploads.on_done(id, outcome, unix_now());
  redact_reply(settled.failure, st.cfg.target.api_key);
  for (auto attempt : settled.failed)
    if (auto i = st.pending.find(attempt); i != st.pending.end()) {
      i->second.promise.deliver(settled.failure);
      st.pending.erase(i);
    }
  for (auto attempt : settled.ready)
    if (auto i = st.pending.find(attempt);
        i != st.pending.end() && i->second.waiting) {
      auto task = std::move(*i->second.waiting);
      start_call(self, attempt, task, i->second.promise);
    }
}

void on_done(executor_pointer self, uint64_t id, http_outcome& outcome) {
  auto& st = self->state;
  if (id & stop_call_bit)
    return; // Dify answers a stop call with {"result": "success"}, always
  if (id & file_uploads::transfer_bit)
    return on_upload_done(self, id, outcome);
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return; // aborted meanwhile
  auto& call = i->second;
  attempt_reply reply;
  try {
    if (call.events && outcome.status == 200)
      reply = call.events->finish(outcome, call.stop_sent, unix_now());
    else
      reply = classify_response(st.cfg.target, outcome, unix_now());
  } catch (const std::exception& e) {
    reply = exception_reply(e);
  }
  reply.first_event_us = call.first_event_us;
  set_times(reply, call,
            {outcome.wire_start_us, outcome.wire_end_us, outcome.connect_us});
  redact_reply(reply, st.cfg.target.api_key);
  call.promise.deliver(std::move(reply));
  st.pending.erase(i);
}

void on_abort(executor_pointer self, uint64_t id) {
  auto& st = self->state;
  for (auto transfer : st.uploads.forget(id))
    st.cfg.client->abort(transfer);
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  // Tell Dify to stop the run before its stream's connection closes.
  if (i->second.stream)
    send_stop(self, i->second);
  st.cfg.client->abort(id);
  st.pending.erase(i);
}

void on_cancel(executor_pointer self, uint64_t id) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i != st.pending.end() && i->second.waiting) {
    // Still waiting for its files: nothing started on the server, so the
    // call never starts.
    for (auto transfer : st.uploads.forget(id))
      st.cfg.client->abort(transfer);
    attempt_reply r;
    r.result = outcome::cancelled;
    i->second.promise.deliver(std::move(r));
    st.pending.erase(i);
    return;
  }
  if (i == st.pending.end() || !i->second.stream)
    return; // a blocking call just finishes
  i->second.stop_wanted = true;
  send_stop(self, i->second);
}

http_executor_actor::behavior_type http_executor(executor_pointer self,
                                                 http_executor_config cfg) {
  self->state.cfg = std::move(cfg);
  // The client's thread reaches this actor through a weak handle, so the
  // client does not keep the actor alive.
  auto addr = self->address();
  self->state.cfg.client->start(
    [addr](std::vector<http_result>&& done) {
      if (auto hdl = caf::actor_cast<caf::actor>(addr))
        caf::anon_send(hdl, http_done_atom::value, std::move(done));
    },
    [addr](std::vector<http_chunk>&& chunks) {
      if (auto hdl = caf::actor_cast<caf::actor>(addr))
        caf::anon_send(hdl, http_chunk_atom::value, std::move(chunks));
    });
  return {
    [=](execute_atom, attempt_request& req) { return on_execute(self, req); },
    [=](abort_atom, uint64_t id) { on_abort(self, id); },
    [=](cancel_atom, uint64_t id) { on_cancel(self, id); },
    [=](http_done_atom, std::vector<http_result>& done) {
      on_done_batch(self, done);
    },
    [=](http_chunk_atom, std::vector<http_chunk>& chunks) {
      for (auto& c : chunks)
        on_chunk(self, c.id, c.status, c.bytes, c.times);
    },
    [=](status_atom) {
      return http_executor_status{self->state.calls, self->state.stop_calls};
    },
  };
}

} // namespace

http_executor_actor spawn_http_executor(caf::actor_system& sys,
                                        http_executor_config cfg) {
  return sys.spawn(http_executor, std::move(cfg));
}

} // namespace troupe
