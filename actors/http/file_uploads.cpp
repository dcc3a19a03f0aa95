// One upload per file content, and the attempts waiting on it.

#include "actors/http/file_uploads.hpp"

#include <algorithm>

namespace troupe {

bool file_uploads::need(const http_target& t, uint64_t attempt,
                        const std::vector<file_input>& files,
                        const submit_fn& submit) {
  size_t left = 0;
  std::vector<const std::string*> counted;
  for (auto& f : files) {
    auto& u = by_hash_[f.hash];
    if (!u.id.empty())
      continue;
    // The same content twice in one task is one wait.
    if (std::any_of(counted.begin(), counted.end(),
                    [&](auto* h) { return *h == f.hash; }))
      continue;
    counted.push_back(&f.hash);
    ++left;
    u.waiters.push_back(attempt);
    if (u.waiters.size() == 1) {
      // Nobody is uploading it: this attempt starts the upload.
      u.file = f;
      auto id = transfer_bit | ++next_transfer_;
      u.transfer = id;
      transfers_.emplace(id, f.hash);
      ++started_;
      submit(id, build_upload_call(t, f));
    }
  }
  if (left == 0)
    return true;
  waiting_[attempt] = left;
  return false;
}

std::vector<uint64_t> file_uploads::forget(uint64_t attempt) {
  std::vector<uint64_t> orphaned;
  if (waiting_.erase(attempt) == 0)
    return orphaned;
  for (auto i = by_hash_.begin(); i != by_hash_.end();) {
    auto& u = i->second;
    auto w = std::find(u.waiters.begin(), u.waiters.end(), attempt);
    if (!u.id.empty() || w == u.waiters.end()) {
      ++i;
      continue;
    }
    u.waiters.erase(w);
    if (!u.waiters.empty()) {
      ++i;
      continue;
    }
    transfers_.erase(u.transfer);
    orphaned.push_back(u.transfer);
    i = by_hash_.erase(i);
  }
  return orphaned;
}

file_uploads::settled file_uploads::on_done(uint64_t transfer,
                                            const http_outcome& o,
                                            int64_t now_unix_s) {
  settled out;
  auto t = transfers_.find(transfer);
  if (t == transfers_.end())
    return out;
  auto hash = std::move(t->second);
  transfers_.erase(t);
  auto u = by_hash_.find(hash);
  if (u == by_hash_.end())
    return out;
  auto answer = read_upload_reply(u->second.file, o, now_unix_s);
  auto waiters = std::move(u->second.waiters);
  u->second.waiters.clear();
  if (auto* id = std::get_if<std::string>(&answer)) {
    u->second.id = std::move(*id);
    for (auto w : waiters)
      if (auto i = waiting_.find(w); i != waiting_.end() && --i->second == 0) {
        waiting_.erase(i);
        out.ready.push_back(w);
      }
    return out;
  }
  // The next attempt that needs this content uploads it again.
  by_hash_.erase(u);
  out.failure = std::move(std::get<attempt_reply>(answer));
  for (auto w : waiters)
    if (waiting_.erase(w) > 0)
      out.failed.push_back(w);
  return out;
}

std::string file_uploads::inputs_for(const task_spec& task) const {
  return inputs_with_uploads(
    task.inputs_json, task.files, [this](const std::string& hash) {
      auto i = by_hash_.find(hash);
      return i == by_hash_.end() ? std::string{} : i->second.id;
    });
}

} // namespace troupe
