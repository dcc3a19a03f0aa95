#pragma once

// The text form of a stub behaviour, as manifests and scenarios write it.

#include "messages/stub.hpp"

#include <string>

namespace troupe::config {

/// Parses "success", "delay:250ms", "429:retry-after=3", ...; false on error.
/// to_string(const stub_behavior&) writes the same form back.
bool parse_stub_behavior(const std::string& text, stub_behavior& out);

} // namespace troupe::config
