// The result sink actor.

#include "actors/result_sink.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace troupe {

namespace {

/// A batch is written at the end of a burst, or once it holds this much.
constexpr size_t max_batch_bytes = 256 * 1024;

struct result_sink_state {
  result_sink_config cfg;
  std::string buffer;
  /// Lines in the buffer, acknowledged to `writer` once written.
  uint64_t buffered = 0;
  caf::actor writer;
  bool flush_pending = false;
  bool ok = true;
  static inline const char* name = "result_sink";

  ~result_sink_state() {
    if (cfg.fd >= 0)
      ::close(cfg.fd);
  }
};

using sink_pointer = result_sink_actor::stateful_pointer<result_sink_state>;

void do_flush(sink_pointer self) {
  auto& st = self->state;
  st.flush_pending = false;
  if (st.buffer.empty())
    return;
  if (!write_all(st.cfg.fd, st.buffer.data(), st.buffer.size()) && st.ok) {
    st.ok = false;
    std::fprintf(stderr, "troupe: cannot write results to %s: %s\n",
                 st.cfg.path.c_str(), std::strerror(errno));
  }
  st.buffer.clear();
  // Tell the writer how many lines are out, so it can bound its backlog.
  if (st.buffered > 0 && st.writer)
    caf::anon_send(st.writer, flush_atom::value, st.buffered);
  st.buffered = 0;
}

result_sink_actor::behavior_type result_sink(sink_pointer self,
                                             result_sink_config cfg) {
  self->state.cfg = std::move(cfg);
  self->state.buffer = std::move(self->state.cfg.header_line);
  do_flush(self);
  self->state.buffer.reserve(max_batch_bytes + 64 * 1024);
  return {
    [=](write_atom, const task_result& r) {
      auto& st = self->state;
      if (!st.writer)
        st.writer = caf::actor_cast<caf::actor>(self->current_sender());
      append_result_line(st.buffer, r, st.cfg.epoch_us);
      ++st.buffered;
      if (st.cfg.on_succeeded && r.status == task_status::succeeded && !r.cached
          && !r.cache_key.empty())
        st.cfg.on_succeeded(r);
      if (st.buffer.size() >= max_batch_bytes) {
        do_flush(self);
        return;
      }
      // Flush after the results already queued: one write per burst.
      if (!st.flush_pending) {
        st.flush_pending = true;
        self->send(self, flush_atom::value);
      }
    },
    [=](flush_atom) { do_flush(self); },
    [=](close_atom, const run_summary& s) {
      auto& st = self->state;
      st.buffer += encode_summary(s, st.cfg.epoch_us, true);
      st.buffer += '\n';
      do_flush(self);
      if (::fsync(st.cfg.fd) != 0 && errno != EINVAL && errno != EROFS)
        st.ok = false;
      ::close(st.cfg.fd);
      st.cfg.fd = -1;
      auto ok = st.ok;
      self->quit();
      return ok;
    },
  };
}

} // namespace

result_sink_actor spawn_result_sink(caf::actor_system& sys,
                                    result_sink_config cfg) {
  return sys.spawn(result_sink, std::move(cfg));
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

} // namespace troupe
