#pragma once

// libcurl, loaded when the first HTTP client starts rather than with the
// process. Linked in, libcurl and the 25 libraries it brings (GnuTLS, LDAP,
// Kerberos, SSH, nettle, unistring...) cost 5 ms of every process start in
// the dynamic loader (7.3 ms for a program that only links libcurl, against
// 0.9 ms), on the runs that never make a call too: stub targets, exec and
// function executors, `troupe node` for them, validate, report, diff. So
// the troupe binary does not link libcurl; the HTTP client reaches it
// through this table, filled from dlopen once, on first use.

#include <curl/curl.h>

namespace troupe::curl {

/// libcurl's functions that troupe calls, `curl_` dropped from their names.
#define TROUPE_CURL_FUNCTIONS(X)                                               \
  X(easy_cleanup)                                                              \
  X(easy_getinfo)                                                              \
  X(easy_init)                                                                 \
  X(easy_setopt)                                                               \
  X(easy_strerror)                                                             \
  X(global_init)                                                               \
  X(mime_addpart)                                                              \
  X(mime_data)                                                                 \
  X(mime_filedata)                                                             \
  X(mime_free)                                                                 \
  X(mime_init)                                                                 \
  X(mime_name)                                                                 \
  X(mime_type)                                                                 \
  X(multi_add_handle)                                                          \
  X(multi_cleanup)                                                             \
  X(multi_info_read)                                                           \
  X(multi_init)                                                                \
  X(multi_remove_handle)                                                       \
  X(multi_setopt)                                                              \
  X(multi_socket_action)                                                       \
  X(share_cleanup)                                                             \
  X(share_init)                                                                \
  X(share_setopt)                                                              \
  X(slist_append)                                                              \
  X(slist_free_all)                                                            \
  X(version_info)

/// The entry points, as the headers troupe was built against declare them.
/// Variadic setters (easy_setopt, multi_setopt, share_setopt, easy_getinfo)
/// lose the GCC type checks of curl/typecheck-gcc.h, which only wrap the
/// direct calls.
struct library {
#define TROUPE_CURL_MEMBER(name) decltype(&::curl_##name) name = nullptr;
  TROUPE_CURL_FUNCTIONS(TROUPE_CURL_MEMBER)
#undef TROUPE_CURL_MEMBER
};

/// The library's file name, ABI 4 (libcurl's since 7.16, 2006).
inline constexpr const char* library_name = "libcurl.so.4";

/// libcurl, loaded and curl_global_init'ed on the first call (from any
/// thread: the first call does it once). Throws std::runtime_error naming
/// the library and the loader's reason when it cannot be loaded or lacks a
/// function; the next call tries again.
const library& lib();

} // namespace troupe::curl
