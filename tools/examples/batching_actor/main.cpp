// A CAF actor as the executor: it gathers attempts for a few milliseconds
// (or until it holds a batch), sends them to a "service" in one call, and
// answers them together. The service here is an in-process function.
//
//   worker ×8 ─execute─▶ batcher ──(4 attempts, or 5 ms)──▶ classify_batch()
//       ▲                   │
//       └──── replies ◀─────┘  (one promise per attempt)

#include "runtime/troupe_caf.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <troupe/troupe.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

constexpr size_t max_batch = 4;
constexpr auto max_wait = std::chrono::milliseconds{5};

std::atomic<int> batches_sent{0};

// The service: one call classifies many texts (as a batch endpoint would).
std::vector<std::string> classify_batch(const std::vector<std::string>& xs) {
  ++batches_sent;
  std::vector<std::string> out;
  for (auto& x : xs)
    out.push_back(x.find('?') != std::string::npos ? "question" : "statement");
  return out;
}

/// The batcher speaks executor_actor, plus `flush` for its own timer.
using batcher_actor
  = troupe::executor_actor::extend<caf::reacts_to<troupe::flush_atom>>;

struct pending {
  uint64_t id;
  std::string text;
  caf::typed_response_promise<troupe::attempt_reply> promise;
};

struct batcher_state {
  std::vector<pending> batch;
  bool timer_armed = false;
  static inline const char* name = "batcher";
};

using batcher_pointer = batcher_actor::stateful_pointer<batcher_state>;

// Sends what is gathered to the service and answers every attempt.
void flush(batcher_pointer self) {
  auto& st = self->state;
  st.timer_armed = false;
  if (st.batch.empty())
    return;
  std::vector<std::string> texts;
  for (auto& p : st.batch)
    texts.push_back(p.text);
  auto labels = classify_batch(texts);
  for (size_t i = 0; i < st.batch.size(); ++i) {
    troupe::attempt_reply r;
    r.output_json = "\"" + labels[i] + "\"";
    st.batch[i].promise.deliver(std::move(r));
  }
  st.batch.clear();
}

caf::typed_response_promise<troupe::attempt_reply>
on_execute(batcher_pointer self, troupe::attempt_request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<troupe::attempt_reply>();
  st.batch.push_back({req.request_id, req.task.query, rp});
  if (st.batch.size() >= max_batch) {
    flush(self);
  } else if (!st.timer_armed) {
    st.timer_armed = true;
    self->delayed_send(self, max_wait, troupe::flush_atom::value);
  }
  return rp;
}

batcher_actor::behavior_type batcher(batcher_pointer self) {
  return {
    [=](troupe::execute_atom, troupe::attempt_request& req) {
      return on_execute(self, req);
    },
    // The attempt's deadline passed: it leaves the batch, unanswered.
    [=](troupe::abort_atom, uint64_t id) {
      auto& b = self->state.batch;
      for (auto i = b.begin(); i != b.end(); ++i)
        if (i->id == id) {
          b.erase(i);
          break;
        }
    },
    // A graceful cancel: a batch is short anyway, let it finish.
    [=](troupe::cancel_atom, uint64_t) {},
    [=](troupe::flush_atom) { flush(self); },
  };
}

std::string manifest_json() {
  std::string cases;
  const char* texts[] = {"Is it raining?", "It is raining.",  "Why not?",
                         "Because.",       "Who wrote this?", "Someone did."};
  for (int i = 0; i < 24; ++i)
    cases += (i ? "," : "") + std::string{R"({"id": "t)"} + std::to_string(i)
             + R"(", "query": ")" + texts[i % 6] + "\"}";
  return R"({"name": "batching", "target": {"type": "custom", "name": "batcher"},
             "execution_policy": {"concurrency": 8},
             "datasets": [{"name": "texts", "cases": [)"
         + cases + "]}]}";
}

} // namespace

int main() {
  try {
    auto m = troupe::manifest_from_json(manifest_json());
    troupe::run_options opts;
    troupe::use_actor_executor(opts, [](caf::actor_system& sys) {
      return troupe::executor_actor{sys.spawn(batcher)};
    });
    auto s = troupe::run(m, opts);
    auto ok = s.counts[size_t(troupe::task_status::succeeded)];
    std::printf("%llu of %llu tasks answered in %d batches (at most %zu "
                "each)\n",
                static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(s.total), batches_sent.load(),
                max_batch);
    return ok == s.total && batches_sent < static_cast<int>(s.total) ? 0 : 1;
  } catch (const troupe::error& e) {
    std::fprintf(stderr, "batching_actor: %s\n", e.what());
    return e.exit_code();
  }
}
