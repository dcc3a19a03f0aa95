#pragma once

// A `troupe node` child process for end-to-end tests: started on a port the
// system chose, its address read back from its "listening on" line, and
// stopped with SIGINT (after a SIGCONT, in case a test froze it).

#include <boost/test/unit_test.hpp>

#include "tests/support/process.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace troupe::test {

/// The whole text of a file ("" if it cannot be read).
inline std::string slurp_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A `troupe node --listen 127.0.0.1:0` (or `listen`) with `extra`
/// arguments and `env` ("NAME=value") added to its environment.
class node_process {
public:
  explicit node_process(uint32_t workers, std::vector<std::string> extra = {},
                        std::vector<std::string> env = {},
                        std::string listen = "127.0.0.1:0") {
    std::vector<std::string> args{troupe_binary(), "node",
                                  "--listen",      std::move(listen),
                                  "--workers",     std::to_string(workers)};
    args.insert(args.end(), extra.begin(), extra.end());
#ifdef TROUPE_SANITIZED_BUILD
    // CAF 0.17's middleman leaves a few of its objects in a reference cycle
    // now and then when a node's actor system shuts down (LeakSanitizer
    // named the BASP broker, its tables and a mailbox element, 4 KB, all
    // indirect): not troupe's, and the process is ending. Leak checks are
    // off for nodes; any other sanitizer report still fails the test that
    // started the node (tests/support/process.cpp).
    if (const char* asan = std::getenv("ASAN_OPTIONS"))
      env.push_back(std::string{"ASAN_OPTIONS="} + asan + ":detect_leaks=0");
#endif
    child_
      = std::make_unique<child_process>(std::move(args), "", std::move(env));
    auto err = child_->stderr_path();
    auto listening = [&] {
      auto text = slurp_file(err);
      auto pos = text.find("listening on ");
      auto end = text.find(" with", pos);
      if (pos == std::string::npos || end == std::string::npos)
        return false;
      address_ = text.substr(pos + 13, end - pos - 13);
      return true;
    };
    BOOST_REQUIRE_MESSAGE(eventually(listening, std::chrono::seconds{10}),
                          "the node did not start: " + slurp_file(err));
  }

  ~node_process() {
    child_->signal(SIGCONT);
    child_->signal(SIGINT);
    child_->wait(std::chrono::seconds{10});
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  /// "127.0.0.1:PORT".
  const std::string& address() const noexcept {
    return address_;
  }

  /// Sends `sig` to it (SIGKILL, SIGSTOP, ...).
  void signal(int sig) {
    child_->signal(sig);
  }

  /// Its standard error so far.
  std::string err() const {
    return slurp_file(child_->stderr_path());
  }

private:
  std::unique_ptr<child_process> child_;
  std::string address_;
};

} // namespace troupe::test
