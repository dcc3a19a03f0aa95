#pragma once

// `troupe init [--target TYPE] [DIR]`: writes a commented starter manifest
// (troupe.json) and a sample cases file (cases.jsonl) for one target type,
// never over an existing file.

#include <string>
#include <string_view>

namespace troupe::cli {

/// The target types `troupe init` writes starters for; the first is the
/// default (troupe is Dify-first, and a workflow app is the simplest).
inline constexpr std::string_view init_targets[]
  = {"dify-workflow", "dify-chat", "dify-completion", "http", "stub"};

/// The starter manifest's file name: names the tool in a project folder,
/// as package.json or tsconfig.json do.
inline constexpr const char* init_manifest_name = "troupe.json";

/// The sample cases file, which the manifest names.
inline constexpr const char* init_cases_name = "cases.jsonl";

/// What `troupe init` was asked for.
struct init_command {
  std::string target{init_targets[0]};
  /// The folder to write into, created if missing ("" is the current one).
  std::string dir;
};

/// Writes the starter files and prints them and the next commands. Exit
/// code 0; 2 when a file exists already (naming it; nothing is written) or
/// DIR is not a folder; 4 when a file cannot be written.
int init(const init_command& cmd);

} // namespace troupe::cli
