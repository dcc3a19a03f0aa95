#pragma once

// Parses the manifest's "target" object (internal to config/).

#include "config/manifest.hpp"

#include <boost/json/value.hpp>

namespace troupe::config {

class checker;

/// Reads "target", checking that its type takes each key given.
target_config parse_target(const checker& chk, const boost::json::value& v);

} // namespace troupe::config
