#pragma once

// Actor-system set-up shared by every command and by tests.

#include <caf/fwd.hpp>

namespace troupe::runtime {

/// Registers every message type of messages/type_ids.hpp.
void register_message_types(caf::actor_system_config& cfg);

} // namespace troupe::runtime
