#pragma once

// What an HTTP transfer brought back: the libcurl client's thread hands
// finished transfers to the HTTP executor actor in a message, so they are
// part of the message vocabulary (and of the type-ID block).

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace troupe {

/// What the transport brought back.
struct http_outcome {
  /// The HTTP status, 0 when no response came.
  int status = 0;
  std::string body;
  std::string retry_after;
  std::string content_type;
  /// A transport failure (libcurl's code and text), 0 for none.
  int transport_error = 0;
  std::string transport_message;
  /// The transfer was a TLS failure (certificate, handshake).
  bool tls_error = false;
  /// The response passed max_response_bytes and was cut off.
  bool too_large = false;
  /// Steady-clock microseconds (http_client::now_us) when the request could
  /// go on the wire (connection ready, CURLOPT_PREREQFUNCTION) and when the
  /// answer's last byte came; -1 when it never got that far.
  int64_t wire_start_us = -1;
  int64_t wire_end_us = -1;
  /// TCP and TLS set-up of a new connection, 0 on a reused one, -1 unknown.
  int64_t connect_us = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_outcome& x) {
  return f(caf::meta::type_name("troupe::http_outcome"), x.status, x.body,
           x.retry_after, x.content_type, x.transport_error,
           x.transport_message, x.tls_error, x.too_large, x.wire_start_us,
           x.wire_end_us, x.connect_us);
}

/// A finished transfer: its id and what came back.
struct http_result {
  uint64_t id = 0;
  http_outcome outcome;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_result& x) {
  return f(caf::meta::type_name("troupe::http_result"), x.id, x.outcome);
}

} // namespace troupe
