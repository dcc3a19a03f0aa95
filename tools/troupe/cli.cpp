// The troupe command line on CLI11: subcommands, their flags, ranges and
// exclusions, and the generated --help. Usage errors keep product.md's
// wording ("troupe: run: --out needs a value"), and the first problem in
// argument order wins, as a reader scanning the line would find it.

#include "tools/troupe/cli.hpp"

#include "tools/troupe/cli_parts.hpp"
#include "tools/troupe/help.hpp"
#include "tools/troupe/version.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace troupe::cli {

namespace {

/// Help or the version, asked for on the command line.
struct early_message {
  message msg;
};

constexpr uint64_t min_limit_bytes = 1024;
constexpr uint64_t max_limit_bytes = uint64_t{1} << 40;

/// Accepts one of `names`, mapped to its value.
CLI::Validator one_of(std::string flag,
                      std::map<std::string, runtime::progress_mode> names,
                      std::string wording) {
  return CLI::Validator(
    [=](std::string& value) -> std::string {
      if (names.count(value) == 0)
        throw usage_failure{flag + ": must be " + wording + ", got \"" + value
                            + "\""};
      return {};
    },
    "");
}

/// Adds -h/--help, taken where it stands: an error before it wins.
void add_help(CLI::App& app, const char* text) {
  app.set_help_flag();
  app
    .add_flag_callback(
      "-h,--help", [] { throw CLI::CallForHelp(); }, text)
    ->trigger_on_parse();
}

/// --max-manifest-bytes and --max-line-bytes.
void add_limits(CLI::App& app, config::load_options& limits,
                bool non_empty_first) {
  auto add = [&](const char* name, const char* help, auto store) {
    auto* opt = add_value(app, name, "N", help, [&limits, store](auto& v) {
      store(limits, *integer_in(v, min_limit_bytes, max_limit_bytes));
    });
    if (non_empty_first)
      opt->check(non_empty(name));
    opt->check(range(name, min_limit_bytes, max_limit_bytes, "1024 to 2^40"));
  };
  add("--max-manifest-bytes", "refuse a manifest larger than N bytes (64 MiB)",
      [](config::load_options& l, uint64_t n) { l.max_manifest_bytes = n; });
  add("--max-line-bytes",
      "refuse a dataset line longer than N bytes, over\n"
      "execution_policy.limits.max_line_bytes (16 MiB)",
      [](config::load_options& l, uint64_t n) { l.max_line_bytes = n; });
}

/// The parser: the command tree, the commands it fills in, and the
/// translation of CLI11's errors into product.md's usage errors.
class parser {
public:
  parser() {
    auto help = std::make_shared<help_formatter>();
    formatter_ = help.get();
    help->column_width(26);
    app_.formatter(help);
    app_.description(
      "troupe: run test manifests against LLM workflow services, "
      "concurrently.");
    app_.footer(main_footer);
    app_.require_subcommand(1);
    add_help(app_, "show this help");
    app_
      .add_flag_callback(
        "--version", [] { throw early_message{version_message()}; },
        "print the version")
      ->trigger_on_parse();
    define_run();
    define_validate();
    define_report();
    define_diff();
    define_node();
    define_init();
    // Parsed by the server itself (main() dispatches before CLI11 runs);
    // listed here for the main help.
    auto* fake = app_.add_subcommand("fake-dify");
    fake->prefix_command();
    fake->set_help_flag();
    summary(fake, "serve a fake Dify API (tests, demos)");
    version_ = app_.add_subcommand("version");
    version_->group("")->allow_extras();
  }

  command parse(const std::vector<std::string>& args) {
    if (args.empty())
      return message{app_.help(), 2};
    CLI::App* sub = nullptr;
    for (auto* s : {run_, validate_, report_, diff_, version_, node_, init_})
      if (s->check_name(args[0]))
        sub = s;
    auto rest = spread_empty_values(sub, args);
    std::reverse(rest.begin(), rest.end()); // CLI11 takes them backwards
    try {
      app_.parse(rest);
    } catch (const early_message& e) {
      return e.msg;
    } catch (const usage_failure& e) {
      return unknown_first(sub).value_or(usage(sub, e.what));
    } catch (const CLI::CallForHelp&) {
      return unknown_first(sub).value_or(message{app_.help(), 0});
    } catch (const CLI::ArgumentMismatch& e) {
      if (sub == nullptr || sub == version_)
        return usage(nullptr, "unknown command \"" + args[0] + "\"");
      return unknown_first(sub).value_or(value_error(sub, e.what()));
    } catch (const CLI::ParseError& e) {
      return after_parse_error(sub, args[0], e.what());
    }
    if (sub == version_)
      return version_message();
    if (sub == run_ || sub == node_)
      if (auto why = tls_usage_error(sub == run_ ? run_cmd_.options.tls
                                                 : node_cmd_.options.tls))
        return usage(sub, *why);
    if (sub == run_)
      return run_cmd_;
    if (sub == validate_)
      return validate_cmd_;
    if (sub == node_)
      return node_cmd_;
    if (sub == diff_)
      return diff_cmd_;
    if (sub == init_)
      return init_cmd_;
    return report_cmd_;
  }

private:
  static message version_message() {
    return message{version_text(), 0};
  }

  void summary(CLI::App* sub, const char* text) {
    formatter_->summaries[sub->get_name()] = text;
  }

  CLI::App* subcommand(const char* name, const char* summary_text,
                       const char* intro) {
    auto* sub = app_.add_subcommand(name, intro);
    sub->footer(""); // not the main page's
    summary(sub, summary_text);
    add_help(*sub, "show this help");
    return sub;
  }

  void define_run() {
    run_ = subcommand("run", "run every task of a manifest", run_intro);
    run_->footer(run_footer);
    auto& o = run_cmd_.options;
    run_->add_option("MANIFEST", o.manifest, "the run manifest")->required();
    auto* out = add_value(*run_, "--out", "FILE",
                          "results file (default: MANIFEST's name and the "
                          "start\ntime, e.g. smoke-20261126-101500.jsonl)",
                          [&o](auto& v) { o.out = v; })
                  ->check(non_empty("--out"));
    auto* force = run_->add_flag(
      "--force", o.force, "overwrite FILE if it exists (never done otherwise)");
    add_value(*run_, "--concurrency", "N",
              "number of workers, overrides the manifest\n"
              "(1 to 100000)",
              [&o](auto& v) {
                o.concurrency
                  = static_cast<uint32_t>(*integer_in(v, 1, max_concurrency));
              })
      ->check(non_empty("--concurrency"))
      ->check(range("--concurrency", 1, max_concurrency, "1 to 100000"));
    add_value(*run_, "--summary-json", "FILE",
              "also write the summary as JSON to FILE",
              [&o](auto& v) { o.summary_json = v; })
      ->check(non_empty("--summary-json"));
    std::map<std::string, runtime::progress_mode> modes{
      {"auto", runtime::progress_mode::automatic},
      {"always", runtime::progress_mode::always},
      {"never", runtime::progress_mode::never}};
    add_value(*run_, "--progress", "MODE",
              "auto (live line on a terminal, a plain line every\n"
              "5 s otherwise), always (live line even off a\n"
              "terminal) or never",
              [&o, modes](auto& v) { o.progress = modes.at(v); })
      ->check(non_empty("--progress"))
      ->check(one_of("--progress", modes, "auto, always or never"));
    auto* resume
      = add_value(*run_, "--resume", "FILE",
                  "continue FILE: run only the tasks it lacks or that\n"
                  "ended CANCELLED, append their lines to it, and sum\n"
                  "up its whole history (its manifest must not change)",
                  [&o](auto& v) { o.resume = v; })
          ->check(non_empty("--resume"));
    resume->excludes(out)->excludes(force);
    run_
      ->add_flag("--rerun-failed", o.rerun_failed,
                 "with --resume, also rerun tasks whose last line is\n"
                 "FAILED, TIMEOUT or ERROR")
      ->needs(resume);
    add_value(*run_, "--cache", "DIR",
              "reuse outputs of tasks that already SUCCEEDED with\n"
              "the same target, inputs, parameters and query\n"
              "(marked \"cached\": true); failures are never cached",
              [&o](auto& v) { o.cache = v; })
      ->check(non_empty("--cache"));
    run_->add_flag("--virtual-time", o.virtual_time,
                   "run a stub manifest on CAF's deterministic\n"
                   "scheduler: waits take no time, times count from a\n"
                   "fixed virtual start, reruns give byte-identical\n"
                   "results, and the timeline of every attempt is\n"
                   "printed (in virtual ms)");
    add_value(*run_, "--timeline", "FILE",
              "with --virtual-time, write the whole timeline to\n"
              "FILE (the terminal gets its first 150 and last 50\n"
              "lines)",
              [&o](auto& v) { o.timeline = v; })
      ->check(non_empty("--timeline"));
    add_value(*run_, "--nodes", "LIST",
              "also run on these `troupe node`s: HOST:PORT,...\n"
              "(over execution_policy.nodes; results name each\n"
              "task's node)",
              [&o](auto& v) { o.nodes = v; })
      ->check(non_empty("--nodes"));
    add_value(*run_, "--local-workers", "N",
              "with nodes: workers in this process too (0 to\n"
              "100000, default 0)",
              [&o](auto& v) {
                o.local_workers
                  = static_cast<uint32_t>(*integer_in(v, 0, max_concurrency));
              })
      ->check(range("--local-workers", 0, max_concurrency, "0 to 100000"));
    add_value(*run_, "--node-grace", "SECONDS",
              "with nodes: when every node is gone, wait this\n"
              "long for one to come back, then end the rest\n"
              "CANCELLED \"no nodes\" (0 to 86400, default 30)",
              [&o](auto& v) { o.node_grace_seconds = *seconds_in(v, 86400); })
      ->check(seconds_range("--node-grace", 86400, "0 to 86400"));
    add_tls_options(*run_, o.tls, "nodes");
    run_
      ->add_flag("--send-keys", o.send_keys,
                 "with nodes and TLS: send the API key to the nodes\n"
                 "(by default each node reads its own environment)")
      ->disable_flag_override();
    add_limits(*run_, o.limits, true);
    for (auto* flag : {"--force", "--rerun-failed", "--virtual-time"})
      run_->get_option(flag)->disable_flag_override();
  }

  void define_node() {
    node_
      = subcommand("node", "host workers for a remote supervisor", node_intro);
    add_node_options(*node_, node_cmd_.options);
  }

  void define_validate() {
    validate_ = subcommand("validate", "check a manifest, print its task count",
                           validate_intro);
    validate_
      ->add_option("MANIFEST", validate_cmd_.manifest, "the run manifest")
      ->required();
    add_limits(*validate_, validate_cmd_.limits, false);
  }

  void define_report() {
    report_ = subcommand("report", "sum up a results file (HTML, JUnit XML)",
                         report_intro);
    auto& o = report_cmd_.options;
    report_->add_option("RESULTS", o.results, "a results file")->required();
    add_value(*report_, "--html", "FILE", "also write an HTML report to FILE",
              [&o](auto& v) { o.html = v; });
    report_->add_flag("--json", o.json, "print the summary as JSON")
      ->disable_flag_override();
    add_value(*report_, "--summary-json", "FILE",
              "also write the summary as JSON to FILE (as run's\n"
              "--summary-json; docs/summary.schema.json)",
              [&o](auto& v) { o.summary_json = v; })
      ->check(non_empty("--summary-json"));
    add_value(*report_, "--junit", "FILE",
              "also write JUnit XML to FILE for CI: a testsuite\n"
              "per dataset, a testcase per task",
              [&o](auto& v) { o.junit = v; })
      ->check(non_empty("--junit"));
  }

  void define_diff() {
    diff_ = subcommand("diff", "compare two results files (exit 1: worse)",
                       diff_intro);
    auto& o = diff_cmd_.options;
    diff_->add_option("BASE", o.base, "the results to compare against")
      ->required();
    diff_->add_option("NEW", o.next, "the new results")->required();
    add_value(*diff_, "--html", "FILE",
              "also write the diff as one HTML page, whole\noutputs included",
              [&o](auto& v) { o.html = v; })
      ->check(non_empty("--html"));
    diff_->add_flag("--json", o.json, "print the diff as JSON")
      ->disable_flag_override();
    add_value(*diff_, "--slower", "X",
              "list tasks whose latency grew more than X times\n"
              "(1 to 1000, default 2)",
              [&o](auto& v) { o.slower = *seconds_in(v, 1000); })
      ->check(CLI::Validator(
        [](std::string& v) -> std::string {
          auto x = seconds_in(v, 1000);
          if (!x || *x < 1)
            throw usage_failure{"--slower: must be a number from 1 to 1000, "
                                "got \""
                                + v + "\""};
          return {};
        },
        ""));
  }

  void define_init() {
    init_ = subcommand("init", "write a starter manifest and cases file",
                       init_intro);
    init_->footer(init_footer);
    add_init_options(*init_, init_cmd_);
  }

  // "--out=" at the end of the line or before another argument means an
  // empty value, which the option's checks then refuse, rather than the
  // next argument taken as the value.
  static std::vector<std::string>
  spread_empty_values(CLI::App* sub, const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (auto& a : args) {
      auto* opt = sub != nullptr && a.size() > 3 && a.compare(0, 2, "--") == 0
                      && a.back() == '='
                    ? sub->get_option_no_throw(a.substr(0, a.size() - 1))
                    : nullptr;
      if (opt != nullptr && opt->get_items_expected_max() != 0) {
        out.push_back(a.substr(0, a.size() - 1));
        out.emplace_back();
      } else {
        out.push_back(a);
      }
    }
    return out;
  }

  static message usage(const CLI::App* sub, const std::string& what) {
    std::string text = "troupe: ";
    if (sub != nullptr)
      text += sub->get_name() + ": ";
    text += what + "\nRun `troupe ";
    if (sub != nullptr)
      text += sub->get_name() + " ";
    return message{text + "--help` for usage.\n", 2};
  }

  // An unknown option before the point where parsing stopped: it came
  // first, so it is the error.
  static std::optional<message> unknown_first(const CLI::App* sub) {
    if (sub == nullptr)
      return std::nullopt;
    for (auto& arg : sub->remaining())
      if (arg.size() > 1 && arg[0] == '-')
        return usage(sub, "unknown option "
                            + (arg.compare(0, 2, "--") == 0
                                 ? arg.substr(0, arg.find('='))
                                 : arg));
    return std::nullopt;
  }

  // A flag given a value, or an option given none (CLI11 names the option
  // first in its message, with or without its dashes).
  message value_error(const CLI::App* sub, const std::string& what) const {
    auto name = what.substr(0, what.find_first_of(": "));
    if (name.compare(0, 1, "-") != 0)
      name = "--" + name;
    auto* opt = sub->get_option_no_throw(name);
    if (opt != nullptr && opt->get_items_expected_max() == 0)
      return usage(sub, sub == report_ ? "unknown option " + name
                                       : name + " takes no value");
    if (sub == validate_)
      return usage(sub, name
                          + ": must be an integer from 1024 to 2^40, "
                            "got \"\"");
    return usage(sub, name + " needs a value");
  }

  // Errors CLI11 finds once the whole line is read: unknown options first,
  // then the positional argument, then the rules between flags.
  message after_parse_error(const CLI::App* sub, const std::string& first,
                            const std::string& what) {
    if (sub == nullptr || sub == version_)
      return usage(nullptr, "unknown command \"" + first + "\"");
    if (auto unknown = unknown_first(sub))
      return *unknown;
    for (auto* opt : sub->get_options())
      if (opt->get_positional() && opt->get_required() && opt->count() == 0)
        return usage(sub, "missing " + opt->get_name());
    if (auto extra = sub->remaining(); !extra.empty())
      return usage(sub, "unexpected argument " + extra.front());
    auto& o = run_cmd_.options;
    if (sub == run_ && o.rerun_failed && o.resume.empty())
      return usage(sub, "--rerun-failed goes with --resume F");
    if (sub == run_ && !o.resume.empty() && (!o.out.empty() || o.force))
      return usage(sub,
                   "--resume F appends to F; it takes no --out or --force");
    return usage(sub, what);
  }

  CLI::App app_{"", "troupe"};
  help_formatter* formatter_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* validate_ = nullptr;
  CLI::App* report_ = nullptr;
  CLI::App* diff_ = nullptr;
  CLI::App* version_ = nullptr;
  CLI::App* node_ = nullptr;
  CLI::App* init_ = nullptr;
  run_command run_cmd_;
  node_command node_cmd_;
  validate_command validate_cmd_;
  report_command report_cmd_;
  diff_command diff_cmd_;
  init_command init_cmd_;
};

} // namespace

command parse(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "fake-dify")
    return fake_dify_command{{args.begin() + 1, args.end()}};
  parser p;
  return p.parse(args);
}

} // namespace troupe::cli
