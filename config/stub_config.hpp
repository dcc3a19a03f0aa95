#pragma once

// Parses the manifest's "stub" object: the stub target's script and its
// timed events (internal to config/).

#include "config/manifest.hpp"

#include <boost/json/value.hpp>

namespace troupe::config {

class checker;

/// Reads "stub".
stub_config parse_stub(const checker& chk, const boost::json::value& v);

} // namespace troupe::config
