// The result sink actor.

#include "actors/results/result_sink.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace troupe {

namespace {

/// A batch is written at the end of a burst, or once it holds this much.
constexpr size_t max_batch_bytes = 256 * 1024;

/// Written lines go to the disk in the background once this much waits
/// (sync_file_range): a machine that loses power loses less, and the fsync
/// at the end has little left to do (B2's 9 MB cost it 7 to 9 ms at once).
constexpr int64_t writeback_bytes = 1 << 20;

struct result_sink_state {
  result_sink_config cfg;
  std::string buffer;
  /// Lines in the buffer, acknowledged to `writer` once written.
  uint64_t buffered = 0;
  caf::actor writer;
  bool flush_pending = false;
  bool ok = true;
  /// Bytes of whole lines in the file: a failed write is cut back to it.
  int64_t committed = -1;
  /// Bytes of the file handed to the disk's writeback so far.
  int64_t written_back = 0;
  /// Lines the file refused, kept for one more try at the end.
  std::string unwritten;
  uint64_t unwritten_lines = 0;
  static inline const char* name = "result_sink";

  ~result_sink_state() {
    if (cfg.fd >= 0)
      ::close(cfg.fd);
  }
};

using sink_pointer = result_sink_actor::stateful_pointer<result_sink_state>;

// Writes the buffer under the write lock; false (errno set) on a failure.
bool write_locked(result_sink_state& st, const std::string& data) {
  std::lock_guard<std::mutex> guard{*st.cfg.write_lock};
  if (!write_all(st.cfg.fd, data.data(), data.size())) {
    auto err = errno;
    // Cut a partly written batch back to its last whole line.
    if (st.committed >= 0)
      (void)::ftruncate(st.cfg.fd, st.committed);
    errno = err;
    return false;
  }
  if (st.committed >= 0)
    st.committed += static_cast<int64_t>(data.size());
  return true;
}

// Hands what was written since the last time to the disk's writeback once
// it is writeback_bytes or more; does not wait for it (a failure shows in
// the fsync at the end). Outside the write lock: it may block a while.
void write_back(result_sink_state& st) {
  if (st.committed < 0 || st.committed - st.written_back < writeback_bytes)
    return;
  (void)::sync_file_range(st.cfg.fd, st.written_back,
                          st.committed - st.written_back,
                          SYNC_FILE_RANGE_WRITE);
  st.written_back = st.committed;
}

void on_write_failure(sink_pointer self, int err) {
  auto& st = self->state;
  st.ok = false;
  std::string why = st.cfg.path + ": " + std::strerror(err);
  std::fprintf(stderr,
               "troupe: cannot write results to %s; no new task starts, "
               "the calls in flight finish into memory\n",
               why.c_str());
  if (st.writer)
    caf::anon_send(st.writer, write_failed_atom::value, why);
}

void do_flush(sink_pointer self) {
  auto& st = self->state;
  st.flush_pending = false;
  if (!st.buffer.empty()) {
    if (!st.ok) {
      st.unwritten += st.buffer;
    } else if (!write_locked(st, st.buffer)) {
      st.unwritten += st.buffer;
      on_write_failure(self, errno);
    } else {
      write_back(st);
    }
    st.buffer.clear();
  }
  // Tell the writer how many lines are out, so it can bound its backlog.
  if (st.buffered > 0 && st.writer)
    caf::anon_send(st.writer, written_atom::value, st.buffered);
  st.buffered = 0;
}

// At the end, the lines the file refused: one more try, then a rescue file.
void save_unwritten(result_sink_state& st) {
  if (st.unwritten.empty())
    return;
  if (write_locked(st, st.unwritten)) {
    std::fprintf(stderr,
                 "troupe: %s: wrote the %zu bytes of results kept in memory "
                 "on a second try\n",
                 st.cfg.path.c_str(), st.unwritten.size());
    return;
  }
  std::string dir = st.cfg.rescue_dir;
  if (dir.empty()) {
    auto* tmp = std::getenv("TMPDIR");
    dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  auto path = dir + "/troupe-rescue-" + std::to_string(::getpid()) + ".jsonl";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  bool saved
    = fd >= 0 && write_all(fd, st.unwritten.data(), st.unwritten.size());
  if (fd >= 0 && ::close(fd) != 0)
    saved = false;
  if (saved)
    std::fprintf(stderr,
                 "troupe: the results that %s refused are in %s (append "
                 "them to it once it has room, then --resume)\n",
                 st.cfg.path.c_str(), path.c_str());
  else
    std::fprintf(stderr,
                 "troupe: %zu bytes of results could not be saved anywhere; "
                 "--resume %s runs their tasks again\n",
                 st.unwritten.size(), st.cfg.path.c_str());
}

result_sink_actor::behavior_type result_sink(sink_pointer self,
                                             result_sink_config cfg) {
  auto& st0 = self->state;
  st0.cfg = std::move(cfg);
  struct stat info;
  if (::fstat(st0.cfg.fd, &info) == 0 && S_ISREG(info.st_mode)) {
    st0.committed = static_cast<int64_t>(::lseek(st0.cfg.fd, 0, SEEK_END));
    st0.written_back = st0.committed;
  }
  st0.buffer = std::move(st0.cfg.header_line);
  do_flush(self);
  st0.buffer.reserve(max_batch_bytes + 64 * 1024);
  return {
    [=](write_atom, const task_result& r) {
      auto& st = self->state;
      if (!st.writer)
        st.writer = caf::actor_cast<caf::actor>(self->current_sender());
      // Once the file fails, unstarted tasks need no line: --resume runs
      // every task that has none.
      ++st.buffered;
      if (st.ok || r.status != task_status::cancelled)
        append_result_line(st.buffer, r, st.cfg.epoch_us);
      if (st.cfg.observer)
        st.cfg.observer(r);
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
      save_unwritten(st);
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
