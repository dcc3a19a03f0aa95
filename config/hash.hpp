// Content hashes: the manifest's hash and the result cache's keys.

#pragma once

#include <string>

namespace troupe::config {

/// SHA-256 of `data`, as 64 lowercase hex digits.
std::string sha256_hex(const std::string& data);

} // namespace troupe::config
