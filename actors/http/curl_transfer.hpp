#pragma once

// One transfer on a libcurl easy handle: the options it sets, the header and
// body callbacks that fill in its outcome, and the header lists transfers
// share. Internal to http_client.cpp; used on the client's thread only.

#include "actors/http/http_client.hpp"

#include <curl/curl.h>

#include <cstdint>
#include <string>
#include <unordered_map>

namespace troupe::curl {

/// One transfer; its easy handle is reused for later transfers.
struct transfer {
  uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  /// A multipart body (an upload), freed with the transfer.
  curl_mime* mime = nullptr;
  http_call call;
  http_outcome outcome;
  bool owns_headers = false;
  bool stream = false;
  bool active = false;
  /// The multi handle (multi_shards) that holds it while active.
  uint32_t shard = 0;
  uint64_t received = 0;
  uint64_t limit = 0;
  /// When the request could go on the wire, and its connection's set-up
  /// time (see http_outcome); kept here for a stream's chunks too.
  int64_t wire_start_us = -1;
  int64_t connect_us = -1;
  /// When the answer's latest byte came.
  int64_t last_byte_us = -1;
  /// Where a stream's body goes, chunk by chunk (the client's batch).
  std::vector<http_chunk>* chunks = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
};

/// Sets every option a transfer uses on its easy handle (so a reused handle
/// needs no curl_easy_reset), with `headers` as its header list and
/// `sockets` (a socket_set) told when a connection closes.
void configure(transfer& t, const http_client_options& opts,
               curl_slist* headers, void* sockets);

/// Frees a transfer's multipart body, if it has one.
void free_form(transfer& t);

/// Fills in the outcome once libcurl is done with the transfer.
void complete(transfer& t, CURLcode rc);

/// Header lists shared between transfers with the same headers (all calls
/// of a Dify run): no list to build and free per request.
class header_lists {
public:
  header_lists() = default;
  ~header_lists();

  header_lists(const header_lists&) = delete;
  header_lists& operator=(const header_lists&) = delete;

  /// Gives `t` the list for its call's headers, shared or (once 64 are
  /// cached: templated headers) its own, which t.owns_headers then says.
  void assign(transfer& t);

private:
  std::unordered_map<std::string, curl_slist*> lists_;
};

} // namespace troupe::curl
