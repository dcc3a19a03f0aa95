// troupe fake-dify: the Dify Service API on Boost.Beast, with faults.
//
//   client ──HTTP/1.1 keep-alive──▶ acceptor ──▶ session (one per connection)
//                                                 read ▶ plan ▶ [fault]
//                                                 [latency timer] ▶ write
//
// Faults come from flags (for every request) and from reserved input fields
// (per request), so one run can mix them: "_fault", "_fault_times",
// "_fault_key" and "_latency_ms". See `troupe fake-dify --help`.
// options.cpp reads the flags, plan.cpp decides each answer, session.cpp
// puts it on the wire; this file starts the server.

#include "tools/fake_dify/fake_dify.hpp"

#include "tools/fake_dify/hold_barrier.hpp"
#include "tools/fake_dify/options.hpp"
#include "tools/fake_dify/server_state.hpp"
#include "tools/fake_dify/session.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

namespace troupe::fake_dify {

namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

// -- the acceptor --

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(net::io_context& ioc, tcp::endpoint ep, server_state& st,
           ssl::context* tls)
    : ioc_(ioc), acceptor_(ioc), st_(st), tls_(tls) {
    acceptor_.open(ep.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  uint16_t port() const {
    return acceptor_.local_endpoint().port();
  }

  void accept() {
    acceptor_.async_accept(
      net::make_strand(ioc_),
      [self = shared_from_this()](boost::system::error_code ec,
                                  tcp::socket socket) {
        if (!ec)
          start_session(std::move(socket), self->st_, self->tls_);
        else if (ec == net::error::no_descriptors)
          std::this_thread::sleep_for(std::chrono::milliseconds{10});
        if (self->acceptor_.is_open())
          self->accept();
      });
  }

  void close() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  server_state& st_;
  ssl::context* tls_;
};

// 10,000 connections need as many descriptors: the soft limit goes up to
// the hard one.
void raise_file_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Serves until SIGINT or SIGTERM; throws when it cannot start.
void serve(const options& opts) {
  server_state st{opts};
  net::io_context ioc{opts.threads};
  // Declared after the io_context, so its timer goes first.
  std::optional<hold_barrier> barrier;
  if (opts.hold_until_active > 0)
    st.barrier
      = &barrier.emplace(ioc, opts.hold_until_active,
                         std::chrono::milliseconds{opts.hold_timeout_ms});
  std::optional<ssl::context> tls;
  if (!opts.tls_cert.empty()) {
    tls.emplace(ssl::context::tls_server);
    tls->use_certificate_chain_file(opts.tls_cert);
    tls->use_private_key_file(opts.tls_key, ssl::context::pem);
  }
  auto address = net::ip::make_address(opts.host);
  auto l = std::make_shared<listener>(ioc, tcp::endpoint{address, opts.port},
                                      st, tls ? &*tls : nullptr);
  l->accept();
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&](boost::system::error_code, int) {
    l->close();
    ioc.stop();
  });
  auto host = opts.host.find(':') != std::string::npos ? "[" + opts.host + "]"
                                                       : opts.host;
  fmt::print("fake-dify listening on {}://{}:{}\n", tls ? "https" : "http",
             host, l->port());
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (int i = 1; i < opts.threads; ++i)
    threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads)
    t.join();
}

} // namespace

int main(const std::vector<std::string>& args) {
  options opts;
  if (auto done = parse_options(args, opts))
    return *done;
  raise_file_limit();
  try {
    serve(opts);
  } catch (const std::exception& e) {
    fmt::print(stderr, "troupe fake-dify: {}\n", e.what());
    return 2;
  }
  return 0;
}

} // namespace troupe::fake_dify
