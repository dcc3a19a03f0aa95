// The version line: troupe's own, then CAF's and Boost's from their headers
// and libcurl's from the library actually loaded (it may be newer than the
// headers troupe was built against; loaded here for the line, as an HTTP
// run would: curl_library.hpp).

#include "tools/troupe/version.hpp"

#include "actors/http/curl_library.hpp"
#include "runtime/run.hpp"

#include <boost/version.hpp>
#include <caf/config.hpp>

#include <algorithm>
#include <stdexcept>

namespace troupe::cli {

std::string version_text() {
  std::string boost = BOOST_LIB_VERSION; // "1_81"
  std::replace(boost.begin(), boost.end(), '_', '.');
  std::string curl = "unavailable";
  try {
    if (auto* info = troupe::curl::lib().version_info(CURLVERSION_NOW))
      curl = info->version;
  } catch (const std::runtime_error&) {
    // The line still tells troupe's own version; an HTTP run says why.
  }
  return std::string{"troupe "} + runtime::version() + " (CAF "
         + std::to_string(CAF_MAJOR_VERSION) + "."
         + std::to_string(CAF_MINOR_VERSION) + "."
         + std::to_string(CAF_PATCH_VERSION) + ", Boost " + boost + ", libcurl "
         + curl + ")\n";
}

} // namespace troupe::cli
