#pragma once

// The common dataset line, read without a JSON tree: `{"id": ..., "inputs":
// {...}}` with flat inputs. Every run reads each line twice (the pass before
// the run, then the dispatch), and a line of this shape is most of what
// datasets hold; the full parser (parse_case_full, which parse_case_into
// falls back to) builds a tree, checks it, and serializes the inputs back,
// at about three times the cost.

#include "config/manifest.hpp"

#include <string_view>

namespace troupe::config {

/// Reads `text` into `out` when it is a plain case and returns true, leaving
/// `out` exactly as the full parser would. A plain case is an object with an
/// "id" (a non-empty string, or an integer of at most 18 digits) and at most
/// an "inputs" object besides, whose values are strings, integers of at most
/// 18 digits, true, false or null; no key twice; strings without escapes or
/// control characters, in valid UTF-8, none over 1 GiB. Anything else returns
/// false (`out` partly written): the full parser reads it, and gives the error
/// if any.
bool parse_plain_case(std::string_view text, case_config& out);

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF), as JSON text must be.
bool valid_utf8(std::string_view s);

} // namespace troupe::config
