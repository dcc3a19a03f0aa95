#pragma once

// A small HTTP proxy for tests, in threads of the test process: it forwards
// absolute-form requests (http:// through a proxy) and tunnels CONNECT
// (https:// through a proxy), and counts both.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace troupe::test {

class test_proxy {
public:
  /// Listens on a free loopback port; answers each CONNECT after
  /// `tunnel_delay` (a slow proxy or a far server: connect time).
  explicit test_proxy(std::chrono::milliseconds tunnel_delay = {});
  ~test_proxy();

  test_proxy(const test_proxy&) = delete;
  test_proxy& operator=(const test_proxy&) = delete;

  /// "http://127.0.0.1:PORT".
  std::string url() const;

  /// Requests forwarded in absolute form.
  int forwarded() const noexcept {
    return forwarded_.load();
  }

  /// CONNECT tunnels opened.
  int tunnels() const noexcept {
    return tunnels_.load();
  }

private:
  void accept_loop();
  void serve(int client);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::chrono::milliseconds tunnel_delay_;
  std::atomic<bool> stop_{false};
  std::atomic<int> forwarded_{0};
  std::atomic<int> tunnels_{0};
  std::thread acceptor_;
  std::mutex mtx_;
  std::vector<std::thread> workers_;
  std::vector<int> open_fds_;
};

} // namespace troupe::test
