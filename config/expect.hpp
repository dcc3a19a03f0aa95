#pragma once

// The `expect` object of a case or dataset (product.md): parsed, and every
// regular expression and JSON Pointer checked before the run starts.

#include "config/json_checks.hpp"
#include "messages/task.hpp"

#include <boost/json/value.hpp>

#include <string>

namespace troupe::config {

/// Parses an `expect` object found at `path`.
expectation parse_expect(const checker& chk, const boost::json::value& v,
                         const std::string& path);

/// The dataset's checks and the case's together: lists add up, and the
/// case's `equals` and `max_latency_ms` win over the dataset's.
expectation merge_expect(const expectation& dataset, const expectation& c);

/// Whether `pointer` is a valid JSON Pointer (RFC 6901).
bool valid_json_pointer(const std::string& pointer);

} // namespace troupe::config
