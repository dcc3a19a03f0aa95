// A forwarding and tunnelling HTTP proxy for tests.

#include "tests/support/test_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace troupe::test {

namespace {

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    auto k = ::send(fd, data, n, MSG_NOSIGNAL);
    if (k <= 0)
      return false;
    data += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

int connect_to(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(),
              &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until "\r\n\r\n"; the head, with `rest` holding bytes after it.
bool read_head(int fd, std::string& buf, std::string& head) {
  for (;;) {
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = buf.substr(0, end + 4);
      buf.erase(0, end + 4);
      return true;
    }
    char tmp[4096];
    auto n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

size_t content_length(const std::string& head) {
  std::string lower = head;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto pos = lower.find("\r\ncontent-length:");
  if (pos == std::string::npos)
    return 0;
  return std::stoul(lower.substr(pos + 17));
}

// Copies bytes both ways until either side closes.
void relay(int a, int b) {
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  char buf[16384];
  for (;;) {
    if (::poll(fds, 2, 30000) <= 0)
      return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        auto n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
        if (n <= 0 || !write_all(fds[1 - i].fd, buf, static_cast<size_t>(n)))
          return;
      }
    }
  }
}

} // namespace

test_proxy::test_proxy(std::chrono::milliseconds tunnel_delay)
  : tunnel_delay_(tunnel_delay) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::listen(listen_fd_, 128);
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread{[this] { accept_loop(); }};
}

test_proxy::~test_proxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  acceptor_.join();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (int fd : open_fds_)
      ::shutdown(fd, SHUT_RDWR);
  }
  for (auto& t : workers_)
    t.join();
}

std::string test_proxy::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void test_proxy::accept_loop() {
  while (!stop_) {
    int client = ::accept(listen_fd_, nullptr, nullptr);
    if (client < 0)
      return;
    std::lock_guard<std::mutex> guard{mtx_};
    open_fds_.push_back(client);
    workers_.emplace_back([this, client] {
      serve(client);
      ::close(client);
    });
  }
}

void test_proxy::serve(int client) {
  std::string buf;
  std::string head;
  if (!read_head(client, buf, head))
    return;
  if (head.compare(0, 8, "CONNECT ") == 0) {
    // "CONNECT host:port HTTP/1.1"
    auto target = head.substr(8, head.find(' ', 8) - 8);
    auto colon = target.rfind(':');
    int upstream = connect_to(target.substr(0, colon),
                              std::stoi(target.substr(colon + 1)));
    if (upstream < 0)
      return;
    ++tunnels_;
    std::this_thread::sleep_for(tunnel_delay_);
    const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    write_all(client, ok, sizeof(ok) - 1);
    if (!buf.empty())
      write_all(upstream, buf.data(), buf.size());
    relay(client, upstream);
    ::close(upstream);
    return;
  }
  // Absolute form: "POST http://host:port/path HTTP/1.1". Each request is
  // rewritten to origin form; responses flow back untouched.
  auto scheme = head.find("http://");
  auto host_begin = scheme + 7;
  auto path_begin = head.find('/', host_begin);
  auto hostport = head.substr(host_begin, path_begin - host_begin);
  auto colon = hostport.rfind(':');
  int upstream = connect_to(
    hostport.substr(0, colon),
    colon == std::string::npos ? 80 : std::stoi(hostport.substr(colon + 1)));
  if (upstream < 0)
    return;
  std::thread back{[client, upstream] {
    char tmp[16384];
    for (;;) {
      auto n = ::recv(upstream, tmp, sizeof(tmp), 0);
      if (n <= 0 || !write_all(client, tmp, static_cast<size_t>(n)))
        break;
    }
    ::shutdown(client, SHUT_RDWR);
  }};
  for (;;) {
    auto method_end = head.find(' ');
    auto abs = head.find("http://", method_end);
    auto path = head.find('/', abs + 7);
    head = head.substr(0, method_end + 1) + head.substr(path);
    auto body_len = content_length(head);
    while (buf.size() < body_len) {
      char tmp[16384];
      auto n = ::recv(client, tmp, sizeof(tmp), 0);
      if (n <= 0)
        break;
      buf.append(tmp, static_cast<size_t>(n));
    }
    ++forwarded_;
    if (!write_all(upstream, head.data(), head.size())
        || !write_all(upstream, buf.data(), std::min(body_len, buf.size())))
      break;
    buf.erase(0, std::min(body_len, buf.size()));
    if (!read_head(client, buf, head))
      break;
  }
  ::shutdown(upstream, SHUT_RDWR);
  back.join();
  ::close(upstream);
}

} // namespace troupe::test
