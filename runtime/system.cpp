// Registers troupe's message types with an actor system configuration, and
// turns on the network when a run spans nodes.

#include "runtime/system.hpp"

#include "messages/type_ids.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace troupe::runtime {

void register_message_types(caf::actor_system_config& cfg) {
  for_each_message_type([&](auto tag, const char* name) {
    using type = typename decltype(tag)::type;
    cfg.add_message_type<type>(name);
  });
}

void enable_network(caf::actor_system_config& cfg) {
  using namespace std::chrono_literals;
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.app-identifiers", std::vector<std::string>{"troupe"});
  // Both sides send heartbeats and drop a silent peer: a frozen node
  // (SIGSTOP) keeps its TCP connection open and would never be found.
  cfg.set("middleman.heartbeat-interval", caf::timespan{500ms});
  cfg.set("middleman.connection-timeout", caf::timespan{2s});
}

} // namespace troupe::runtime
