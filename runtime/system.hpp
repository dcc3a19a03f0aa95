#pragma once

// Actor-system set-up shared by every command and by tests.

#include <caf/fwd.hpp>

#include <cstddef>
#include <string>

namespace troupe::runtime {

/// Mutual TLS between nodes and supervisors (`--tls-cert F --tls-key F
/// --tls-ca F`): all three or none (the command line enforces it).
struct tls_files {
  /// PEM certificate (chain) this side presents.
  std::string cert;
  /// Its private key (PEM, unencrypted).
  std::string key;
  /// PEM CA certificates the peer's certificate must chain to.
  std::string ca;

  /// Whether TLS is on.
  bool enabled() const noexcept {
    return !cert.empty();
  }
};

/// CAF's scheduler threads: one per core; TROUPE_THREADS (1 to 256)
/// overrides it, for benchmarks and machines shared with other work.
size_t scheduler_threads();

/// Has an idle scheduler thread wait on its condition variable after its
/// 100 fast polls, skipping CAF's 500 more with a 50 us sleep each: for
/// processes whose work comes mostly from other threads (an HTTP client's,
/// the middleman's), where those sleeps cost a context switch each.
void idle_on_condition(caf::actor_system_config& cfg);

/// Registers every message type of messages/type_ids.hpp.
void register_message_types(caf::actor_system_config& cfg);

/// Checks that the TLS files exist and OpenSSL takes them (certificate,
/// key matching it, CA): "" when they do, else the error, naming the flag
/// and the file. CAF loads them only at the first connection, where a bad
/// file would end the process.
std::string check_tls_files(const tls_files& tls);

/// Loads CAF's middleman for nodes and the supervisors that use them: the
/// application id that refuses other CAF programs, and heartbeats so that a
/// killed or frozen peer is found within 3 s (docs/distribution-plan.md).
/// With `tls` enabled, also CAF's OpenSSL manager with those files, which
/// makes both sides present a certificate signed by the CA.
void enable_network(caf::actor_system_config& cfg, const tls_files& tls = {});

} // namespace troupe::runtime
