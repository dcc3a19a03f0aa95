#pragma once

// One connection of fake-dify: it reads requests, asks the plan what to
// answer, and carries the plan out on the wire (plain TCP or TLS).

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace troupe::fake_dify {

class server_state;

/// Serves an accepted connection until it closes; over TLS when `tls` is set.
void start_session(boost::asio::ip::tcp::socket socket, server_state& st,
                   boost::asio::ssl::context* tls);

} // namespace troupe::fake_dify
