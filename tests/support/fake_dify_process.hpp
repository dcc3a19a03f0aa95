#pragma once

// A `troupe fake-dify` server in its own process, on a free loopback port,
// for end-to-end tests; and a tiny blocking HTTP GET to read its stats.

#include <boost/json/object.hpp>

#include "tests/support/process.hpp"

#include <memory>
#include <string>
#include <vector>

namespace troupe::test {

/// A running fake Dify server; stopped when it goes out of scope.
class fake_dify_process {
public:
  /// Starts the server with `flags` and the bearer key `api_key`.
  explicit fake_dify_process(std::vector<std::string> flags = {},
                             std::string api_key = "app-test");
  ~fake_dify_process();

  /// "http://127.0.0.1:PORT" (or https://).
  const std::string& url() const noexcept {
    return url_;
  }

  /// The base URL a Dify target uses: url() + "/v1".
  std::string base_url() const {
    return url_ + "/v1";
  }

  /// GET /_fake/stats.
  boost::json::object stats() const;

  /// Number of POSTs to `path` ("/v1/workflows/run") so far.
  int64_t calls(const std::string& path) const;

private:
  std::unique_ptr<child_process> child_;
  std::string out_path_;
  std::string url_;
};

/// A blocking GET with a 10 s limit; the body, or "" on failure.
/// `ca_file` verifies an HTTPS server.
std::string http_get(const std::string& url, const std::string& ca_file = "");

/// What a raw request got back.
struct http_reply {
  /// The HTTP status, or 0 when the call failed on the wire.
  long status = 0;
  std::string body;
};

/// A blocking POST of the JSON `body` with `Authorization: authorization`,
/// within 10 s: for tests that look at the server itself, not at troupe.
http_reply http_post(const std::string& url, const std::string& body,
                     const std::string& authorization);

} // namespace troupe::test
