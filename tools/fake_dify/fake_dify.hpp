#pragma once

// `troupe fake-dify`: a real HTTP server, in its own process, that speaks the
// Dify Service API (dify-api.md, section 6) with settable faults, for tests,
// demos and benchmarks. Built on Boost.Beast/Asio: one event loop per thread,
// no thread per connection, ten thousand connections and more.

#include <string>
#include <vector>

namespace troupe::fake_dify {

/// Runs `troupe fake-dify ARGS...` (args without the program name and the
/// subcommand); returns the exit code.
int main(const std::vector<std::string>& args);

} // namespace troupe::fake_dify
