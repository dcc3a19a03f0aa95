#pragma once

// The epoll set of the HTTP client's loop, following libcurl's sockets
// (CURLMOPT_SOCKETFUNCTION, CURLOPT_CLOSESOCKETFUNCTION) lazily: a
// keep-alive connection goes idle and busy again with every request, so
// instead of deleting and adding it each time (two syscalls per request), an
// idle socket stays in the set ("parked") and leaves it only if it reports
// an event while parked. The close callback tells when a socket is really
// gone; not always though (libcurl 7.88 closes its resolver's socketpair
// itself), so a socket libcurl starts waiting on again is always
// re-registered (one epoll_ctl), never trusted to be in the set still. Internal
// to http_client.cpp; used on the loop's thread only.

#include <curl/curl.h>
#include <sys/epoll.h>

#include <cstdint>
#include <vector>

namespace troupe {

class socket_set;

/// What a multi handle's CURLMOPT_SOCKETDATA points to: the set, and the
/// shard whose sockets that handle reports.
struct socket_owner {
  socket_set* set = nullptr;
  uint32_t shard = 0;
};

/// An epoll set that libcurl's callbacks keep up to date.
class socket_set {
public:
  socket_set();
  ~socket_set();

  socket_set(const socket_set&) = delete;
  socket_set& operator=(const socket_set&) = delete;

  /// Adds a descriptor of our own (the wake-up eventfd), read events only.
  void add_reader(int fd);

  /// Waits up to `timeout_ms` (-1: forever) for events.
  int wait(std::vector<epoll_event>& events, int timeout_ms);

  /// Whether libcurl waits on `fd`; false for a parked socket.
  bool wanted(curl_socket_t fd) {
    return at(fd).wanted != 0;
  }

  /// The shard that owns `fd` (the last one to report it).
  uint32_t owner(curl_socket_t fd) {
    return at(fd).owner;
  }

  /// Stops listening to a parked socket that stirred (the server closed
  /// it).
  void unpark(curl_socket_t fd) {
    set_kernel(fd, 0);
  }

  /// CURLMOPT_SOCKETFUNCTION, with a socket_owner as CURLMOPT_SOCKETDATA.
  static int on_socket(CURL*, curl_socket_t fd, int what, void* self, void*);

  /// CURLOPT_CLOSESOCKETFUNCTION, with the set as CURLOPT_CLOSESOCKETDATA.
  static int on_close(void* self, curl_socket_t fd);

private:
  struct fd_state {
    uint32_t kernel = 0; // events registered with epoll, 0 = not in the set
    uint32_t wanted = 0; // events libcurl waits for, 0 = parked
    uint32_t owner = 0;  // the shard whose multi handle reported it
  };

  fd_state& at(curl_socket_t fd);
  /// Registers `events` for `fd`. `sure`: `kernel` is what epoll holds;
  /// otherwise even the same events are set again (MOD, or ADD if epoll
  /// has no such socket).
  void set_kernel(curl_socket_t fd, uint32_t events, bool sure = true);

  int epfd_ = -1;
  std::vector<fd_state> fds_;
};

} // namespace troupe
