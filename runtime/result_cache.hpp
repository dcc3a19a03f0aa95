#pragma once

// The result cache (--cache DIR): a task whose content hash (target, inputs,
// parameters, query) already SUCCEEDED is not sent again; its output is
// reused and the result line says `"cached": true`. Failures are never
// cached. Each entry is one file, written to a temporary name and renamed,
// so a crash leaves either the whole entry or none.
//
//   tasks ─▶ cached_source ─┬─ hit: answered, SUCCEEDED + cached ─┐
//                           └─ miss: key kept ─▶ supervisor ──────┴▶ sink
//   sink ─▶ observe(result): SUCCEEDED output of a kept key ─▶ store

#include "actors/supervisor/task_source.hpp"
#include "config/manifest.hpp"
#include "messages/task.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace troupe::runtime {

class result_cache {
public:
  /// Opens (and creates) the cache folder; an error names it.
  static config::result<result_cache> open(const std::string& dir);

  /// The content hash of a task under `target` (hex SHA-256).
  static std::string key(const config::target_config& target,
                         const task_spec& task);

  /// The cached output for `key`, if there is one.
  std::optional<std::string> lookup(const std::string& key) const;

  /// Stores a succeeded output atomically; false if it could not.
  bool store(const std::string& key, const std::string& task_id,
             const std::string& output_json) const;

  const std::string& dir() const noexcept {
    return dir_;
  }

private:
  std::string path_of(const std::string& key) const;

  std::string dir_;
};

/// A task source with the cache in front: a task the cache holds an output
/// for comes out answered (SUCCEEDED with that output, `cached` set) and is
/// never run; the others pass on, and observe() stores their outputs once
/// they SUCCEED. The supervisor reads it on one thread while the sink calls
/// observe() on another.
class cached_source : public task_source {
public:
  cached_source(std::shared_ptr<task_source> source,
                std::shared_ptr<const result_cache> cache,
                const config::target_config& target);

  /// The next task, answered or not: every one passes on to be run.
  bool next(task_spec& out) override;

  /// The next task, answered from the cache on a hit.
  bool next_item(source_item& out) override;

  std::string error() const override;

  /// The results observer (result_sink_config::observer): stores the
  /// output of a task passed on to be run, if it SUCCEEDED.
  void observe(const task_result& r);

private:
  std::shared_ptr<task_source> source_;
  std::shared_ptr<const result_cache> cache_;
  const config::target_config& target_;
  /// The keys of the tasks passed on to be run, by seq, until their result.
  std::mutex mutex_;
  std::unordered_map<uint64_t, std::string> keys_;
};

} // namespace troupe::runtime
