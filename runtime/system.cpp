// Registers troupe's message types with an actor system configuration, and
// turns on the network (plain or mutual TLS) when a run spans nodes.

#include "runtime/system.hpp"

#include "config/manifest.hpp"
#include "messages/type_ids.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/timespan.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace troupe::runtime {

namespace {

// OpenSSL's last error, for a message.
std::string openssl_error() {
  char text[256] = "unknown error";
  if (auto code = ERR_peek_last_error(); code != 0)
    ERR_error_string_n(code, text, sizeof(text));
  ERR_clear_error();
  return text;
}

} // namespace

size_t scheduler_threads() {
  return config::wanted_threads();
}

void idle_on_condition(caf::actor_system_config& cfg) {
  cfg.set("work-stealing.moderate-poll-attempts", size_t{1});
}

void register_message_types(caf::actor_system_config& cfg) {
  for_each_message_type([&](auto tag, const char* name) {
    using type = typename decltype(tag)::type;
    cfg.add_message_type<type>(name);
  });
}

std::string check_tls_files(const tls_files& tls) {
  const std::pair<const char*, const std::string*> files[] = {
    {"--tls-cert", &tls.cert}, {"--tls-key", &tls.key}, {"--tls-ca", &tls.ca}};
  for (auto& [flag, path] : files) {
    std::ifstream in{*path};
    if (!in)
      return std::string{flag} + " " + *path + ": cannot read it ("
             + std::strerror(errno) + ")";
  }
  // The same calls as CAF's openssl::session, here once, where a failure
  // is a message rather than an exception in the multiplexer's thread.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{
    SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx)
    return "cannot set up TLS (" + openssl_error() + ")";
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert.c_str()) != 1)
    return "--tls-cert " + tls.cert + ": not a PEM certificate ("
           + openssl_error() + ")";
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM)
        != 1
      || SSL_CTX_check_private_key(ctx.get()) != 1)
    return "--tls-key " + tls.key + ": not the private key of " + tls.cert
           + " (" + openssl_error() + ")";
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
    return "--tls-ca " + tls.ca + ": not PEM CA certificates ("
           + openssl_error() + ")";
  return {};
}

void enable_network(caf::actor_system_config& cfg, const tls_files& tls) {
  using namespace std::chrono_literals;
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.app-identifiers", std::vector<std::string>{"troupe"});
  // Both sides send heartbeats and drop a silent peer: a frozen node
  // (SIGSTOP) keeps its TCP connection open and would never be found.
  cfg.set("middleman.heartbeat-interval", caf::timespan{500ms});
  cfg.set("middleman.connection-timeout", caf::timespan{2s});
  // Messages from the network are read on the middleman's thread, not
  // handed to a BASP worker on the scheduler first (CAF's default on 2 to
  // 7 cores is one worker, and the middleman reads inline only while it
  // is busy). The handoff cost a wake-up and a context switch a message:
  // inline, B8 over 1 and 4 nodes makes a third more tasks/s (36,500 ->
  // 49,000 at one node; the supervisor's CPU 23.6 -> 17.5 us a task), and
  // B6's supervisor and nodes use 7 to 12 % less CPU (bench/README.md).
  // On 8 cores or more CAF's default is 2 to 4 workers, which decode in
  // parallel: left as it is there (not measured).
  if (std::thread::hardware_concurrency() < 8)
    cfg.set("middleman.workers", size_t{0});
  if (tls.enabled()) {
    // Any openssl option set turns on mutual authentication: each side
    // presents its certificate and checks the peer's against the CA (not
    // the host name; caf-0.17.md §6).
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = tls.cert;
    cfg.openssl_key = tls.key;
    cfg.openssl_cafile = tls.ca;
  }
}

} // namespace troupe::runtime
