#pragma once

// Parses the manifest's "target" object (internal to config/).

#include "config/manifest.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace troupe::config {

class checker;

/// Reads "target", checking that its type takes each key given.
target_config parse_target(const checker& chk, const boost::json::value& v);

/// Every key of "target", whatever its type ("type" first).
std::vector<std::string_view> all_target_keys();

/// The keys a target of type `t` takes, "type" included.
std::vector<std::string_view> target_keys_of(target_type t);

/// Notes on a valid target that will not work as its user expects, for
/// `troupe validate` (stdout, exit code unchanged): a blocking target on
/// Dify Cloud with an attempt timeout over the 100 s after which the cloud
/// cuts blocking calls.
std::vector<std::string> target_notes(const target_config& t,
                                      double timeout_seconds);

} // namespace troupe::config
