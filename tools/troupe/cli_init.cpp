// `troupe init`'s options: --target, one of the starters' target types,
// and the folder to write into.

#include "tools/troupe/cli_parts.hpp"

namespace troupe::cli {

void add_init_options(CLI::App& init, init_command& cmd) {
  std::string names;
  for (auto t : init_targets)
    names += (names.empty() ? "" : ", ") + std::string{t};
  add_value(init, "--target", "TYPE",
            "the target type: dify-workflow (the default),\n"
            "dify-chat, dify-completion, http or stub",
            [&cmd](auto& v) { cmd.target = v; })
    ->check(non_empty("--target"))
    ->check(CLI::Validator(
      [names](std::string& v) -> std::string {
        for (auto t : init_targets)
          if (v == t)
            return {};
        throw usage_failure{"--target: must be one of " + names + ", got \"" + v
                            + "\""};
      },
      ""));
  init.add_option("DIR", cmd.dir,
                  "the folder to write into (default: the current\n"
                  "one; created if missing)");
}

} // namespace troupe::cli
