// libcurl's table, filled from dlopen on first use (curl_library.hpp).

#include "actors/http/curl_library.hpp"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

namespace troupe::curl {

namespace {

/// CURLOPT_PREREQFUNCTION, the start of an attempt's wire time.
constexpr unsigned oldest_version = 0x075000; // 7.80.0

std::runtime_error cannot_load(const std::string& why) {
  return std::runtime_error{std::string{"cannot load "} + library_name + " ("
                            + why
                            + "): HTTP targets need libcurl 7.80 or newer "
                              "(Debian: libcurl4)"};
}

library load() {
  // RTLD_NODELETE: never unloaded, whatever else opens and closes it.
  void* handle = ::dlopen(library_name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr)
    throw cannot_load(::dlerror());
  library l;
#define TROUPE_CURL_RESOLVE(name)                                              \
  l.name = reinterpret_cast<decltype(l.name)>(::dlsym(handle, "curl_" #name)); \
  if (l.name == nullptr)                                                       \
    throw cannot_load("it has no curl_" #name);
  TROUPE_CURL_FUNCTIONS(TROUPE_CURL_RESOLVE)
#undef TROUPE_CURL_RESOLVE
  auto* info = l.version_info(CURLVERSION_NOW);
  if (info == nullptr || info->version_num < oldest_version)
    throw cannot_load(std::string{"it is version "}
                      + (info != nullptr ? info->version : "unknown"));
  if (auto rc = l.global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
    throw cannot_load(std::string{"curl_global_init: "} + l.easy_strerror(rc));
  return l;
}

} // namespace

const library& lib() {
  // A static's initialization runs once, on the first call that gets
  // through it; one that throws leaves it for the next call.
  static const library l = load();
  return l;
}

} // namespace troupe::curl
