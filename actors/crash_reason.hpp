#pragma once

// The exit reason of an actor whose handler threw: the exception's text, so
// that whoever monitors or waits on it can say why. For
// `self->set_exception_handler(crash_reason)`; CAF 0.17 ends the actor
// whatever the handler returns, and its default handler prints to stdout.

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

#include <exception>
#include <string>

namespace troupe {

/// The exception in `x` as a `runtime_error` carrying its text.
inline caf::error crash_reason(caf::scheduled_actor*, std::exception_ptr& x) {
  try {
    std::rethrow_exception(x);
  } catch (const std::exception& e) {
    return caf::make_error(caf::sec::runtime_error, std::string{e.what()});
  } catch (...) {
    return caf::make_error(caf::sec::runtime_error,
                           std::string{"unknown exception"});
  }
}

/// An exit reason or request error for a person: the exception's text for
/// one made by crash_reason, CAF's rendering otherwise.
inline std::string crash_text(caf::actor_system& sys, const caf::error& err) {
  auto& ctx = err.context();
  if (err == caf::sec::runtime_error && ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return sys.render(err);
}

} // namespace troupe
