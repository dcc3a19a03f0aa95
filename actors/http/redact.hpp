#pragma once

// Keeps a secret (an API key) out of what troupe writes and prints: a
// server may echo the key in an error or an output ("you sent Bearer
// app-..."), and results, summaries and reports must never hold it.

#include <cstddef>
#include <string>
#include <string_view>

namespace troupe {

/// What replaces a secret: its prefix up to the first '-' when that comes
/// within 8 characters, then "***" ("app-SECRET" -> "app-***").
std::string secret_mask(std::string_view secret);

/// Replaces every occurrence of `secret` in `text` by its mask; returns how
/// many. Secrets shorter than 6 characters are left alone: masking them
/// would mangle ordinary text.
size_t redact(std::string& text, std::string_view secret);

} // namespace troupe
