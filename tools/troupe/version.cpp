// The version line: troupe's own, then CAF's and Boost's from their headers
// and libcurl's from the library actually loaded (it may be newer than the
// headers troupe was built against).

#include "tools/troupe/version.hpp"

#include "runtime/run.hpp"

#include <boost/version.hpp>
#include <caf/config.hpp>

#include <curl/curl.h>

#include <algorithm>

namespace troupe::cli {

std::string version_text() {
  std::string boost = BOOST_LIB_VERSION; // "1_81"
  std::replace(boost.begin(), boost.end(), '_', '.');
  auto* curl = curl_version_info(CURLVERSION_NOW);
  return std::string{"troupe "} + runtime::version() + " (CAF "
         + std::to_string(CAF_MAJOR_VERSION) + "."
         + std::to_string(CAF_MINOR_VERSION) + "."
         + std::to_string(CAF_PATCH_VERSION) + ", Boost " + boost + ", libcurl "
         + (curl != nullptr ? curl->version : "unknown") + ")\n";
}

} // namespace troupe::cli
