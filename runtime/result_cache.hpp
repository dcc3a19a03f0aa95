#pragma once

// The result cache (--cache DIR): a task whose content hash (target, inputs,
// parameters, query) already SUCCEEDED is not sent again; its output is
// reused and the result line says `"cached": true`. Failures are never
// cached. Each entry is one file, written to a temporary name and renamed,
// so a crash leaves either the whole entry or none.

#include "config/manifest.hpp"
#include "messages/task.hpp"

#include <optional>
#include <string>

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

} // namespace troupe::runtime
