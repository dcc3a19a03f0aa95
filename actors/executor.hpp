#pragma once

// The executor interface every target implements (stub, Dify, HTTP): one
// attempt in, one classified reply out. When an attempt's deadline fires, or
// the run is aborted, the worker sends `abort` so the executor frees whatever
// the attempt holds (a timer, a connection); no reply follows. On a graceful
// cancel it sends `cancel`: the executor may stop the attempt early (a Dify
// stop call for a stream) and still replies.

#include "messages/type_ids.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>

namespace troupe {

/// Runs attempts.
using executor_actor = caf::typed_actor<
  caf::replies_to<execute_atom, attempt_request>::with<attempt_reply>,
  caf::reacts_to<abort_atom, uint64_t>, caf::reacts_to<cancel_atom, uint64_t>>;

} // namespace troupe
