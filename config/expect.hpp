#pragma once

// The `expect` object of a case or dataset (product.md): parsed, and every
// regular expression and JSON Pointer checked before the run starts; and a
// conversation's `turns`, each a query with its own `expect`.

#include "config/json_checks.hpp"
#include "messages/task.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <vector>

namespace troupe::config {

/// Parses an `expect` object found at `path`.
expectation parse_expect(const checker& chk, const boost::json::value& v,
                         const std::string& path);

/// The dataset's checks and the case's together: lists add up, and the
/// case's `equals` and `max_latency_ms` win over the dataset's.
expectation merge_expect(const expectation& dataset, const expectation& c);

/// Parses a case's `turns` found at `path`: a non-empty array of objects,
/// each with a `query` (a string), and optional `inputs` (an object, merged
/// over the case's for that turn) and `expect`.
std::vector<turn_spec> parse_turns(const checker& chk,
                                   const boost::json::value& v,
                                   const std::string& path);

/// Whether `pointer` is a valid JSON Pointer (RFC 6901).
bool valid_json_pointer(const std::string& pointer);

} // namespace troupe::config
