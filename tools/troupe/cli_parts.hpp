#pragma once

// Pieces of the command line shared by cli.cpp and cli_node.cpp: the checks
// that word usage errors as product.md does, and the `node` subcommand's
// options with the TLS flags that `run --nodes` takes too.

#include "runtime/node.hpp"
#include "runtime/system.hpp"
#include "tools/troupe/init.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace troupe::cli {

/// A usage error of a subcommand, thrown by its checks while parsing: the
/// text that follows "troupe: COMMAND: ".
struct usage_failure {
  std::string what;
};

inline constexpr uint64_t max_concurrency = 100000;

/// An integer in [lo, hi], as strtoull reads it; nullopt otherwise.
std::optional<uint64_t> integer_in(const std::string& value, uint64_t lo,
                                   uint64_t hi);

/// Refuses an empty value ("--out=", "--out ''").
CLI::Validator non_empty(std::string flag);

/// Accepts an integer from lo to hi; `range` words the bounds in errors.
CLI::Validator range(std::string flag, uint64_t lo, uint64_t hi,
                     std::string range);

/// A number of seconds in [0, hi]; nullopt otherwise.
std::optional<double> seconds_in(const std::string& value, double hi);

/// Accepts a number of seconds from 0 to hi; `range` words the bounds.
CLI::Validator seconds_range(std::string flag, double hi, std::string range);

/// Adds an option taking one value; `take` stores it once checked.
CLI::Option* add_value(CLI::App& app, const std::string& name,
                       const std::string& type, const std::string& help,
                       std::function<void(const std::string&)> take);

/// --listen, --workers, --insecure and the TLS flags of `troupe node`.
void add_node_options(CLI::App& node, runtime::node_options& o);

/// `troupe init`'s --target (checked against init_targets) and DIR.
void add_init_options(CLI::App& init, init_command& cmd);

/// --tls-cert, --tls-key and --tls-ca; each needs `needs` unless null.
void add_tls_options(CLI::App& app, runtime::tls_files& tls,
                     const std::string& whose, CLI::Option* needs = nullptr);

/// The usage error when some but not all TLS flags were given.
std::optional<std::string> tls_usage_error(const runtime::tls_files& tls);

} // namespace troupe::cli
