// Registers troupe's message types with an actor system configuration.

#include "runtime/system.hpp"

#include "messages/type_ids.hpp"

#include <caf/actor_system_config.hpp>

namespace troupe::runtime {

void register_message_types(caf::actor_system_config& cfg) {
  for_each_message_type([&](auto tag, const char* name) {
    using type = typename decltype(tag)::type;
    cfg.add_message_type<type>(name);
  });
}

} // namespace troupe::runtime
