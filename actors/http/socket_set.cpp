// libcurl's sockets in an epoll set, parked rather than removed when idle.

#include "actors/http/socket_set.hpp"

#include <unistd.h>

#include <cerrno>

namespace troupe {

socket_set::socket_set() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {}

socket_set::~socket_set() {
  ::close(epfd_);
}

void socket_set::add_reader(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

int socket_set::wait(std::vector<epoll_event>& events, int timeout_ms) {
  return ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                      timeout_ms);
}

socket_set::fd_state& socket_set::at(curl_socket_t fd) {
  if (static_cast<size_t>(fd) >= fds_.size())
    fds_.resize(static_cast<size_t>(fd) + 1024);
  return fds_[static_cast<size_t>(fd)];
}

void socket_set::set_kernel(curl_socket_t fd, uint32_t events, bool sure) {
  auto& f = at(fd);
  if (sure && f.kernel == events)
    return;
  epoll_event ev{};
  ev.data.fd = fd;
  ev.events = events;
  if (events == 0) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  } else if (f.kernel == 0) {
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
      ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
  } else if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0
             && errno == ENOENT) {
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }
  f.kernel = events;
}

int socket_set::on_socket(CURL*, curl_socket_t fd, int what, void* owner_ptr,
                          void*) {
  auto* owner = static_cast<socket_owner*>(owner_ptr);
  auto* self = owner->set;
  auto& f = self->at(fd);
  f.owner = owner->shard;
  if (what == CURL_POLL_REMOVE) {
    f.wanted = 0;
    // Parked: a writable socket would report at once, so keep only IN.
    if (f.kernel & EPOLLOUT)
      self->set_kernel(fd, EPOLLIN);
    return 0;
  }
  uint32_t events = 0;
  if (what & CURL_POLL_IN)
    events |= EPOLLIN;
  if (what & CURL_POLL_OUT)
    events |= EPOLLOUT;
  // A socket libcurl did not wait on may be a new one under a number whose
  // old socket libcurl closed without on_close (7.88's threaded resolver
  // does so with its socketpair after CURL_POLL_REMOVE): closing dropped it
  // from epoll, whatever fds_ says, so tell the kernel in any case.
  bool sure = f.wanted != 0;
  f.wanted = events;
  self->set_kernel(fd, events, sure);
  return 0;
}

int socket_set::on_close(void* self_ptr, curl_socket_t fd) {
  auto* self = static_cast<socket_set*>(self_ptr);
  // Closing removes the socket from the epoll set; forget it.
  auto& f = self->at(fd);
  f.kernel = 0;
  f.wanted = 0;
  f.owner = 0;
  return ::close(fd);
}

} // namespace troupe
