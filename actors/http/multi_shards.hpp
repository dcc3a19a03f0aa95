#pragma once

// The HTTP client's transfers, sharded over several libcurl multi handles
// that one epoll loop (one thread) drives. Why: libcurl 7.88 keeps one
// connection bundle per host in each multi handle and, for every new
// transfer, walks every connection of that bundle to find one to reuse, so
// the cost of starting a transfer grows with the transfers (and cached
// connections) on its handle. At 10,000 calls in flight on one handle that
// walk is most of the CPU and the ramp takes seconds (issue 13). No libcurl
// option bounds the walk without also bounding the connections:
// CURLMOPT_MAX_HOST_CONNECTIONS and CURLMOPT_MAX_TOTAL_CONNECTIONS queue
// transfers once the cap is reached, CURLOPT_MAXCONNECTS only trims the idle
// cache, and CURLOPT_PIPEWAIT is for HTTP/2 multiplexing. So each handle
// takes at most `per_shard` transfers at once, and a handle is added when
// all are full.
//
//   submit ─▶ pick(): the first shard with room, else a new one
//   epoll event on fd ─▶ socket_set::owner(fd) ─▶ that shard's multi
//   earliest timer deadline of all shards ─▶ epoll_wait's timeout
//
// Keep-alive: a connection lives in the cache of the multi handle that
// opened it and is reused only by transfers of that shard. Filling the
// lowest shard with room first (rather than the least loaded) keeps a
// modest run (B4's 64 calls) on one handle, so its connections are reused
// as before; at 10,000 in flight each shard holds its own connections and
// no scan is longer than `per_shard`.
//
// Names: every transfer shares one DNS cache (a CURLSH with
// CURL_LOCK_DATA_DNS only, set on each easy handle by share()), as with a
// single multi handle, so new shards do not each look the target's name up
// again. The connection cache is not shared (no CURL_LOCK_DATA_CONNECT):
// that would bring the one long scan back. One thread uses it: no lock
// callbacks.

#include "actors/http/socket_set.hpp"

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace troupe {

/// The shard for a new transfer, given how many each shard holds: the first
/// with fewer than `per_shard`, or loads.size() when a new one is needed.
size_t pick_shard(const std::vector<uint32_t>& loads, uint32_t per_shard);

/// The multi handles of one loop; used on the loop's thread only.
class multi_shards {
public:
  /// The options every new multi handle gets (the deadline callback and the
  /// sockets are set here).
  using setup_fn = std::function<void(CURLM*)>;

  multi_shards(socket_set& sockets, uint32_t per_shard, setup_fn setup);
  ~multi_shards();

  multi_shards(const multi_shards&) = delete;
  multi_shards& operator=(const multi_shards&) = delete;

  /// Adds a transfer to a shard with room; returns that shard. A transfer
  /// libcurl refuses (out of memory) is not added: -1.
  int64_t add(CURL* easy);

  /// The DNS cache every transfer uses (CURLOPT_SHARE).
  CURLSH* share() const noexcept {
    return share_;
  }

  /// Removes a transfer from the shard that holds it.
  void remove(uint32_t index, CURL* easy);

  /// Hands an epoll event on a libcurl socket to the shard that owns it.
  void on_socket_event(curl_socket_t fd, int flags);

  /// epoll_wait's timeout in ms for the earliest shard deadline; -1: none.
  int timeout_ms(int64_t now_us) const;

  /// Runs the timeouts of every shard whose deadline has passed.
  void run_timers(int64_t now_us);

  /// Calls `fn` with every finished transfer of every shard.
  void collect(const std::function<void(CURLMsg*)>& fn);

  /// The number of multi handles so far.
  size_t size() const noexcept {
    return shards_.size();
  }

private:
  struct shard {
    CURLM* multi = nullptr;
    socket_owner owner;
    /// When libcurl wants CURL_SOCKET_TIMEOUT, -1 for never.
    int64_t deadline_us = -1;
  };

  static int on_timer(CURLM*, long timeout_ms, void* shard_ptr);

  socket_set& sockets_;
  uint32_t per_shard_;
  setup_fn setup_;
  CURLSH* share_ = nullptr;
  std::vector<std::unique_ptr<shard>> shards_;
  std::vector<uint32_t> loads_;
};

} // namespace troupe
