#pragma once

// File inputs (product.md: an input value `{"file": "path"}`): each task
// carries the files its inputs name, so that the HTTP executor uploads them
// (Dify's /files/upload) without parsing the inputs of every task.

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace troupe {

/// One file a task's inputs name, checked before the run.
struct file_input {
  /// The input variable that holds it.
  std::string input;
  /// Its place in a list of files, -1 when the input is one file.
  int32_t index = -1;
  /// The file's path, resolved against the manifest's folder.
  std::string path;
  /// Dify's file type: "document", "image", "audio", "video" or "custom".
  std::string type;
  /// SHA-256 of its content (hex): one upload per content in a run.
  std::string hash;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_input& x) {
  return f(caf::meta::type_name("troupe::file_input"), x.input, x.index, x.path,
           x.type, x.hash);
}

} // namespace troupe
