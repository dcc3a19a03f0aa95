#pragma once

// A temporary folder removed at the end of a test, with a helper to write
// files into it.

#include <string>

namespace troupe::test {

class temp_dir {
public:
  temp_dir();
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// The folder's path, without a trailing slash.
  const std::string& path() const noexcept {
    return path_;
  }

  /// path() + "/" + name.
  std::string file(const std::string& name) const;

  /// Writes `text` to `name` in the folder and returns its path.
  std::string write(const std::string& name, const std::string& text) const;

private:
  std::string path_;
};

/// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

} // namespace troupe::test
