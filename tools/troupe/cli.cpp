// Command-line parsing and help texts.

#include "tools/troupe/cli.hpp"

#include <cerrno>
#include <cstdlib>
#include <optional>

namespace troupe::cli {

namespace {

constexpr const char* main_help
  = R"(troupe: run test manifests against LLM workflow services, concurrently.

Usage:
  troupe run MANIFEST [options]     run every task of a manifest
  troupe validate MANIFEST          check a manifest, print its task count
  troupe report RESULTS [--html F]  sum up a results file, as HTML too
  troupe fake-dify --listen H:P     serve a fake Dify API (tests, demos)
  troupe --version                  print the version

Run `troupe COMMAND --help` for a command's options.
Exit codes: 0 all tasks succeeded, 1 some did not, 2 bad input or usage,
3 aborted by the service (auth, quota), 4 results could not be written,
130 cancelled (Ctrl+C).
)";

constexpr const char* run_help = R"(Usage: troupe run MANIFEST [options]

Runs every task of MANIFEST (each case crossed with each parameter set) and
writes one JSON line per finished task to the results file.

Options:
  --out FILE              results file (default: MANIFEST's name and the start
                          time, e.g. smoke-20261126-101500.jsonl)
  --force                 overwrite FILE if it exists (never done otherwise)
  --concurrency N         number of workers, overrides the manifest
  --summary-json FILE     also write the summary as JSON to FILE
  --progress MODE         auto (live line on a terminal, a plain line every
                          5 s otherwise), always (live line even off a
                          terminal) or never
  --resume FILE           continue FILE: run only the tasks it lacks or that
                          ended CANCELLED, append their lines to it, and sum
                          up its whole history (its manifest must not change)
  --rerun-failed          with --resume, also rerun tasks whose last line is
                          FAILED, TIMEOUT or ERROR
  --cache DIR             reuse outputs of tasks that already SUCCEEDED with
                          the same target, inputs, parameters and query
                          (marked "cached": true); failures are never cached
  --virtual-time          run a stub manifest on CAF's deterministic
                          scheduler: waits take no time, times count from a
                          fixed virtual start, reruns give byte-identical
                          results, and the timeline of every attempt is
                          printed (in virtual ms)
  --timeline FILE         with --virtual-time, write the whole timeline to
                          FILE (the terminal gets its first 150 and last 50
                          lines)
  --max-manifest-bytes N  refuse a manifest larger than N bytes (64 MiB)
  --max-line-bytes N      refuse a dataset line longer than N bytes, over
                          execution_policy.limits.max_line_bytes (16 MiB)
  -h, --help              show this help

Ctrl+C cancels the run: in-flight tasks finish, the others end CANCELLED, the
summary is printed and the exit code is 130. A second Ctrl+C quits at once.
)";

constexpr const char* validate_help
  = R"(Usage: troupe validate MANIFEST [options]

Checks MANIFEST and its dataset files without running anything and prints
the number of tasks. Exit code 0 if it is valid, 2 otherwise; errors name the
file, the JSON path or line, and what was expected.

Options:
  --max-manifest-bytes N  refuse a manifest larger than N bytes (64 MiB)
  --max-line-bytes N      refuse a dataset line longer than N bytes, over
                          execution_policy.limits.max_line_bytes (16 MiB)
)";

// "--max-...-bytes": an integer from 1,024 to 2^40.
std::optional<uint64_t> parse_bytes(const std::string& value) {
  errno = 0;
  char* end = nullptr;
  auto n = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || value[0] == '-' || n < 1024
      || n > (uint64_t{1} << 40))
    return std::nullopt;
  return n;
}

// Takes a --max-manifest-bytes or --max-line-bytes value; false if bad.
bool set_limit(config::load_options& limits, const std::string& name,
               const std::string& value) {
  auto n = parse_bytes(value);
  if (!n)
    return false;
  if (name == "--max-manifest-bytes")
    limits.max_manifest_bytes = *n;
  else
    limits.max_line_bytes = *n;
  return true;
}

bool is_limit(const std::string& name) {
  return name == "--max-manifest-bytes" || name == "--max-line-bytes";
}

message usage_error(const std::string& what, const char* command) {
  std::string text = "troupe: " + what + "\n";
  text += "Run `troupe ";
  if (command != nullptr) {
    text += command;
    text += " ";
  }
  text += "--help` for usage.\n";
  return message{text, 2};
}

bool is_help(const std::string& arg) {
  return arg == "-h" || arg == "--help";
}

// Splits "--name=value" into its parts.
bool split_option(const std::string& arg, std::string& name, std::string& value,
                  bool& has_value) {
  if (arg.size() < 3 || arg.compare(0, 2, "--") != 0)
    return false;
  auto eq = arg.find('=');
  has_value = eq != std::string::npos;
  name = arg.substr(0, eq);
  value = has_value ? arg.substr(eq + 1) : std::string{};
  return true;
}

command parse_run(const std::vector<std::string>& args) {
  run_command cmd;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    auto& arg = args[i];
    if (is_help(arg))
      return message{run_help, 0};
    std::string name;
    std::string value;
    bool has_value = false;
    if (!split_option(arg, name, value, has_value)) {
      if (!arg.empty() && arg[0] == '-' && arg != "-")
        return usage_error("run: unknown option " + arg, "run");
      positional.push_back(arg);
      continue;
    }
    auto take_value = [&]() -> bool {
      if (has_value)
        return true;
      if (i + 1 >= args.size())
        return false;
      value = args[++i];
      return true;
    };
    if (name == "--force" || name == "--rerun-failed"
        || name == "--virtual-time") {
      if (has_value)
        return usage_error("run: " + name + " takes no value", "run");
      (name == "--force"          ? cmd.options.force
       : name == "--rerun-failed" ? cmd.options.rerun_failed
                                  : cmd.options.virtual_time)
        = true;
    } else if (name == "--out" || name == "--summary-json"
               || name == "--concurrency" || name == "--progress"
               || name == "--resume" || name == "--cache"
               || name == "--timeline" || is_limit(name)) {
      if (!take_value() || value.empty())
        return usage_error("run: " + name + " needs a value", "run");
      if (is_limit(name)) {
        if (!set_limit(cmd.options.limits, name, value))
          return usage_error("run: " + name
                               + ": must be an integer from 1024 to 2^40, "
                                 "got \""
                               + value + "\"",
                             "run");
      } else if (name == "--out") {
        cmd.options.out = value;
      } else if (name == "--resume") {
        cmd.options.resume = value;
      } else if (name == "--cache") {
        cmd.options.cache = value;
      } else if (name == "--timeline") {
        cmd.options.timeline = value;
      } else if (name == "--summary-json") {
        cmd.options.summary_json = value;
      } else if (name == "--concurrency") {
        errno = 0;
        char* end = nullptr;
        auto n = std::strtoul(value.c_str(), &end, 10);
        if (*end != '\0' || errno != 0 || n < 1 || n > 100000
            || value[0] == '-')
          return usage_error("run: --concurrency: must be an integer from 1 "
                             "to 100000, got \""
                               + value + "\"",
                             "run");
        cmd.options.concurrency = static_cast<uint32_t>(n);
      } else {
        if (value == "auto")
          cmd.options.progress = runtime::progress_mode::automatic;
        else if (value == "always")
          cmd.options.progress = runtime::progress_mode::always;
        else if (value == "never")
          cmd.options.progress = runtime::progress_mode::never;
        else
          return usage_error("run: --progress: must be auto, always or "
                             "never, got \""
                               + value + "\"",
                             "run");
      }
    } else {
      return usage_error("run: unknown option " + name, "run");
    }
  }
  if (positional.empty())
    return usage_error("run: missing MANIFEST", "run");
  if (positional.size() > 1)
    return usage_error("run: unexpected argument " + positional[1], "run");
  cmd.options.manifest = positional[0];
  return cmd;
}

constexpr const char* report_help
  = R"(Usage: troupe report RESULTS [--html FILE] [--json]

Sums up a results file again, an interrupted or resumed one included (the
last line of each task counts): the table, or with --json the summary as
JSON. --html writes one self-contained page (no network fetches) with the
status breakdown, a latency histogram, throughput over time, a table per
dataset, and the tasks that failed or whose checks failed.
)";

command parse_report(const std::vector<std::string>& args) {
  report_command cmd;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    auto& arg = args[i];
    if (is_help(arg))
      return message{report_help, 0};
    std::string name;
    std::string value;
    bool has_value = false;
    if (!split_option(arg, name, value, has_value)) {
      if (!arg.empty() && arg[0] == '-' && arg != "-")
        return usage_error("report: unknown option " + arg, "report");
      positional.push_back(arg);
    } else if (name == "--json" && !has_value) {
      cmd.options.json = true;
    } else if (name == "--html") {
      if (!has_value) {
        if (i + 1 >= args.size())
          return usage_error("report: --html needs a value", "report");
        value = args[++i];
      }
      cmd.options.html = value;
    } else {
      return usage_error("report: unknown option " + name, "report");
    }
  }
  if (positional.size() != 1)
    return usage_error(positional.empty()
                         ? "report: missing RESULTS"
                         : "report: unexpected argument " + positional[1],
                       "report");
  cmd.options.results = positional[0];
  return cmd;
}

command parse_validate(const std::vector<std::string>& args) {
  validate_command cmd;
  std::vector<std::string> positional;
  for (size_t i = 1; i < args.size(); ++i) {
    auto& arg = args[i];
    if (is_help(arg))
      return message{validate_help, 0};
    std::string name;
    std::string value;
    bool has_value = false;
    if (split_option(arg, name, value, has_value) && is_limit(name)) {
      if (!has_value && i + 1 < args.size()) {
        value = args[++i];
        has_value = true;
      }
      if (!has_value || !set_limit(cmd.limits, name, value))
        return usage_error("validate: " + name
                             + ": must be an integer from 1024 to 2^40, got "
                               "\""
                             + value + "\"",
                           "validate");
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-')
      return usage_error("validate: unknown option " + arg, "validate");
    positional.push_back(arg);
  }
  if (positional.size() != 1)
    return usage_error(positional.empty()
                         ? "validate: missing MANIFEST"
                         : "validate: unexpected argument " + positional[1],
                       "validate");
  cmd.manifest = positional[0];
  return cmd;
}

} // namespace

command parse(const std::vector<std::string>& args) {
  if (args.empty())
    return message{main_help, 2};
  auto& sub = args[0];
  if (is_help(sub))
    return message{main_help, 0};
  if (sub == "--version" || sub == "version")
    return message{std::string{"troupe "} + runtime::version() + "\n", 0};
  if (sub == "run")
    return parse_run(args);
  if (sub == "validate")
    return parse_validate(args);
  if (sub == "report")
    return parse_report(args);
  if (sub == "fake-dify")
    return fake_dify_command{{args.begin() + 1, args.end()}};
  return usage_error("unknown command \"" + sub + "\"", nullptr);
}

} // namespace troupe::cli
