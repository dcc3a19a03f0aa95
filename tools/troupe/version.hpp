#pragma once

// `troupe --version`: troupe's version and those of the libraries that
// shape its behaviour, so a bug report says what the binary was built on.

#include <string>

namespace troupe::cli {

/// "troupe 0.1.0 (CAF 0.17.6, Boost 1.81, libcurl 7.88.1)\n": CAF and Boost
/// as compiled in, libcurl as loaded at run time.
std::string version_text();

} // namespace troupe::cli
