#pragma once

// Actor-system set-up shared by every command and by tests.

#include <caf/fwd.hpp>

namespace troupe::runtime {

/// Registers every message type of messages/type_ids.hpp.
void register_message_types(caf::actor_system_config& cfg);

/// Loads CAF's middleman for nodes and the supervisors that use them: the
/// application id that refuses other CAF programs, and heartbeats so that a
/// killed or frozen peer is found within 3 s (docs/distribution-plan.md).
void enable_network(caf::actor_system_config& cfg);

} // namespace troupe::runtime
