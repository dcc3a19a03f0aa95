#pragma once

// Command-line parsing for the troupe binary: subcommands, their flags and
// their --help texts. Parsing only; the work is in runtime/.

#include "config/manifest.hpp"
#include "runtime/diff.hpp"
#include "runtime/node.hpp"
#include "runtime/report.hpp"
#include "runtime/run.hpp"
#include "tools/troupe/init.hpp"

#include <string>
#include <variant>
#include <vector>

namespace troupe::cli {

/// Print this text and exit with this code (help, or a usage error).
struct message {
  std::string text;
  int code = 0;
};

struct run_command {
  runtime::run_options options;
};

struct validate_command {
  std::string manifest;
  config::load_options limits;
};

struct report_command {
  runtime::report_options options;
};

struct diff_command {
  runtime::diff_options options;
};

struct node_command {
  runtime::node_options options;
};

/// `troupe fake-dify ...`: its arguments, parsed by the server itself.
struct fake_dify_command {
  std::vector<std::string> args;
};

/// What the command line asks for.
using command
  = std::variant<message, run_command, validate_command, report_command,
                 fake_dify_command, node_command, diff_command, init_command>;

/// Parses argv (without the program name).
command parse(const std::vector<std::string>& args);

} // namespace troupe::cli
