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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_outcome& x) {
  return f(caf::meta::type_name("troupe::http_outcome"), x.status, x.body,
           x.retry_after, x.content_type, x.transport_error,
           x.transport_message, x.tls_error, x.too_large);
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
