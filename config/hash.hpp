// Content hashes: the manifest's hash and the result cache's keys.

#pragma once

#include <optional>
#include <string>

namespace troupe::config {

/// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(const std::string& data);

/// SHA-256 of the content of the file at `path`, read in chunks, or
/// nullopt (errno says why) when it cannot be read.
std::optional<std::string> sha256_file_hex(const std::string& path);

} // namespace troupe::config
