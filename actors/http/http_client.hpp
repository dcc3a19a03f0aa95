#pragma once

// An asynchronous HTTP client on libcurl's multi interface, driven by
// curl_multi_socket_action on an epoll loop in a thread of its own. Requests
// go in from any thread; completions (and, for streams, body chunks) come out
// through callbacks on the client's thread, which the executor turns into
// actor messages. No thread waits per request in flight: ten thousand
// transfers share the one loop. Connections are kept alive and reused.
//
// Why an epoll loop of our own rather than curl_multi_poll: curl_multi_poll
// (and curl_multi_perform around it) builds a pollfd array of every socket
// and walks every transfer on each wake-up, O(transfers) per event, which at
// 10,000 calls in flight is most of the CPU. With curl_multi_socket_action,
// libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
// to time out (CURLMOPT_TIMERFUNCTION); epoll then hands back only the ready
// ones, so each turn costs O(ready). Transfers are sharded over several
// multi handles on the same loop, at most transfers_per_shard on each
// (multi_shards.hpp): libcurl's cost of starting a transfer grows with the
// transfers on its handle. An eventfd in the same epoll set wakes
// the loop for new requests and aborts from other threads, which
// curl_multi_wakeup would also do but only for curl_multi_poll.

#include "actors/http/dify_protocol.hpp"

#include <caf/meta/type_name.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace troupe {

/// A transfer's times on the steady clock (http_client::now_us), in
/// microseconds, -1 where unknown: when the request could go on the wire,
/// when the latest byte of the answer came, and the new connection's set-up
/// (0 for a reused one).
struct wire_times {
  int64_t start_us = -1;
  int64_t end_us = -1;
  int64_t connect_us = -1;
};

/// Body bytes of a streaming transfer, as they came, with the HTTP status
/// and its times so far (times.end_us: when these bytes came).
struct http_chunk {
  uint64_t id = 0;
  int status = 0;
  std::string bytes;
  wire_times times;
};

/// Local messages only (CAF wants it inspectable all the same).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_chunk& x) {
  return f(caf::meta::type_name("troupe::http_chunk"), x.id, x.status, x.bytes,
           x.times.start_us, x.times.end_us, x.times.connect_us);
}

/// Transport settings shared by every request.
struct http_client_options {
  /// A CA bundle (PEM) to verify servers with; empty for the system's.
  std::string ca_file;
  /// Larger bodies are cut off (http_outcome::too_large); a 200 stream is
  /// not, its reader caps each event instead.
  uint64_t max_response_bytes = 16 * 1024 * 1024;
  /// Proxies, as the environment gives them (see proxy_from_environment).
  std::string http_proxy;
  std::string https_proxy;
  std::string no_proxy;
  /// Transfers per libcurl multi handle at most; more in flight spread over
  /// more handles on the same loop (multi_shards.hpp says why). 500:
  /// bench/README.md has the measurements behind it.
  uint32_t transfers_per_shard = 500;
};

/// Reads HTTP_PROXY/http_proxy, HTTPS_PROXY/https_proxy, ALL_PROXY and
/// NO_PROXY (either case) into `out`.
void proxy_from_environment(http_client_options& out);

/// The client. Destroying it stops the loop; no callback runs afterwards.
class http_client {
public:
  /// The transfers that finished in one turn of the loop, delivered
  /// together (one actor message for many responses).
  using done_fn = std::function<void(std::vector<http_result>&& done)>;

  /// The streams' chunks that came in one turn of the loop, in order, and
  /// before that turn's completions (one actor message for many chunks;
  /// each keeps the time it came).
  using chunks_fn = std::function<void(std::vector<http_chunk>&& chunks)>;

  explicit http_client(http_client_options opts);
  ~http_client();

  /// Starts the loop; the callbacks run on the client's thread.
  void start(done_fn on_done, chunks_fn on_chunks);

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Starts a transfer (thread-safe). Its completion is reported once.
  void submit(uint64_t id, http_call call);

  /// Drops a transfer and closes its connection (thread-safe); its
  /// completion is not reported.
  void abort(uint64_t id);

  /// Waits at most `limit` until no transfer is queued or in progress (the
  /// last stop calls of a run); false if some still are.
  bool drain(std::chrono::milliseconds limit);

  /// Stops the loop and drops every transfer; idempotent.
  void stop();

  /// Steady-clock microseconds, the time base of wire_times.
  static int64_t now_us();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace troupe
