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

/// Reads an exec target's own keys (exec_target.cpp).
void parse_exec_target(const checker& chk, const boost::json::object& obj,
                       target_config& t);

/// Checks that an exec target's argv[0] names an executable file, found as
/// the command will be (PATH, or relative to working_dir).
void check_exec_command(const checker& chk, const target_config& t);

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
