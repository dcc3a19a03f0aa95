#pragma once

// The HTTP executor's uploads of a run: one upload per file content (its
// hash), its id kept for the rest of the run. Attempts whose files are not
// uploaded yet wait on the one upload in progress; a failed upload ends
// every attempt waiting on it with the upload's reply, and the next attempt
// uploads again. No I/O here: the executor submits the calls.
//
//   need(attempt) ─▶ all ids known: go ─────────────────────────▶ call
//        └▶ wait ─▶ [upload started once per hash] ─▶ on_done ─▶ ready: call
//                                                          └───▶ failed: reply

#include "actors/http/dify_upload.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe {

/// Uploads by content hash, and the attempts waiting on them.
class file_uploads {
public:
  /// Starts a transfer: its id and its call.
  using submit_fn = std::function<void(uint64_t, http_call)>;

  /// Upload transfers' ids carry this bit (attempts' ids are below it).
  static constexpr uint64_t transfer_bit = uint64_t{1} << 62;

  /// Whether `attempt` can go now: true when every file's id is known;
  /// else it waits, and uploads nobody has started yet start.
  bool need(const http_target& t, uint64_t attempt,
            const std::vector<file_input>& files, const submit_fn& submit);

  /// `attempt` waits no longer (aborted). Returns the upload transfers
  /// that nobody waits on any more, for the caller to abort: an upload
  /// lives only as long as an attempt's deadline, so one that hangs is
  /// started again by the next attempt that needs it.
  std::vector<uint64_t> forget(uint64_t attempt);

  /// What a finished upload settled.
  struct settled {
    /// Attempts whose files are all uploaded now.
    std::vector<uint64_t> ready;
    /// Attempts that end with `failure`.
    std::vector<uint64_t> failed;
    attempt_reply failure;
  };

  /// An upload transfer finished.
  settled on_done(uint64_t transfer, const http_outcome& o, int64_t now_unix_s);

  /// `task`'s inputs with its files' ids in (every one must be known).
  std::string inputs_for(const task_spec& task) const;

  /// Uploads started (retries included).
  uint64_t started() const noexcept {
    return started_;
  }

private:
  struct upload {
    /// Empty until it succeeded.
    std::string id;
    file_input file;
    std::vector<uint64_t> waiters;
    /// The transfer uploading it (while `id` is empty).
    uint64_t transfer = 0;
  };

  std::unordered_map<std::string, upload> by_hash_;
  std::unordered_map<uint64_t, std::string> transfers_; // transfer -> hash
  std::unordered_map<uint64_t, size_t> waiting_; // attempt -> uploads left
  uint64_t next_transfer_ = 0;
  uint64_t started_ = 0;
};

} // namespace troupe
