// The troupe command line's parser on its own: what each subcommand's flags
// set, and the exact usage errors (exit code 2). tests/e2e/cli.test.cpp runs
// the binary; this suite needs no process.

#include "tools/troupe/cli.hpp"

#include <boost/test/unit_test.hpp>

#include <curl/curl.h>

using namespace troupe;

namespace {

using args = std::vector<std::string>;

template <class T>
T parsed(const args& xs) {
  auto c = cli::parse(xs);
  if (auto* m = std::get_if<cli::message>(&c))
    BOOST_FAIL("unexpected message: " + m->text);
  BOOST_REQUIRE(std::holds_alternative<T>(c));
  return std::get<T>(c);
}

/// The text of the message `xs` gives, which must exit with `code`.
std::string message_of(const args& xs, int code = 2) {
  auto c = cli::parse(xs);
  BOOST_REQUIRE(std::holds_alternative<cli::message>(c));
  auto& m = std::get<cli::message>(c);
  BOOST_CHECK_EQUAL(m.code, code);
  return m.text;
}

std::string usage(const std::string& what, const std::string& command) {
  return "troupe: " + what + "\nRun `troupe " + command
         + " --help` for usage.\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(cli_parse)

BOOST_AUTO_TEST_CASE(no_arguments_print_the_main_help_and_exit_2) {
  auto text = message_of({}, 2);
  BOOST_CHECK_EQUAL(message_of({"--help"}, 0), text);
  BOOST_CHECK_EQUAL(message_of({"-h"}, 0), text);
}

BOOST_AUTO_TEST_CASE(version_prints_the_versions_of_troupe_and_its_libraries) {
  auto text = message_of({"--version"}, 0);
  // CAF and Boost as compiled in, libcurl as loaded.
  auto curl = std::string{curl_version_info(CURLVERSION_NOW)->version};
  BOOST_CHECK_EQUAL(text, std::string{"troupe "} + runtime::version()
                            + " (CAF 0.17.6, Boost 1.81, libcurl " + curl
                            + ")\n");
  BOOST_CHECK_EQUAL(message_of({"version"}, 0), text);
}

BOOST_AUTO_TEST_CASE(an_unknown_command_is_a_usage_error) {
  BOOST_CHECK_EQUAL(message_of({"walk"}), "troupe: unknown command \"walk\"\n"
                                          "Run `troupe --help` for usage.\n");
}

BOOST_AUTO_TEST_CASE(init_takes_a_target_and_a_folder_both_optional) {
  auto d = parsed<cli::init_command>({"init"});
  BOOST_CHECK_EQUAL(d.target, "dify-workflow");
  BOOST_CHECK_EQUAL(d.dir, "");
  auto c = parsed<cli::init_command>({"init", "--target=stub", "demo"});
  BOOST_CHECK_EQUAL(c.target, "stub");
  BOOST_CHECK_EQUAL(c.dir, "demo");
  BOOST_CHECK_EQUAL(message_of({"init", "--target", "dify"}),
                    usage("init: --target: must be one of dify-workflow, "
                          "dify-chat, dify-completion, http, stub, got "
                          "\"dify\"",
                          "init"));
  BOOST_CHECK_EQUAL(message_of({"init", "--target"}),
                    usage("init: --target needs a value", "init"));
  BOOST_CHECK_EQUAL(message_of({"init", "a", "b"}),
                    usage("init: unexpected argument b", "init"));
  BOOST_CHECK(message_of({"--help"}, 0)
                .find("  troupe init [DIR] [options]         write a starter")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(run_defaults_leave_every_option_unset) {
  auto o = parsed<cli::run_command>({"run", "m.json"}).options;
  BOOST_CHECK_EQUAL(o.manifest, "m.json");
  BOOST_CHECK_EQUAL(o.out, "");
  BOOST_CHECK(!o.force && !o.rerun_failed && !o.virtual_time);
  BOOST_CHECK(!o.concurrency);
  BOOST_CHECK(o.progress == runtime::progress_mode::automatic);
  BOOST_CHECK(!o.limits.max_line_bytes);
}

BOOST_AUTO_TEST_CASE(run_flags_take_values_after_a_space_or_an_equals_sign) {
  // --resume takes no --out or --force: the resume flags go on a line of
  // their own.
  auto r = parsed<cli::run_command>(
             {"run", "m.json", "--rerun-failed", "--resume", "old"})
             .options;
  BOOST_CHECK_EQUAL(r.resume, "old");
  auto o = parsed<cli::run_command>(
             {"run", "--out", "r.jsonl", "--concurrency=8", "m.json",
              "--progress", "never", "--force", "--virtual-time",
              "--summary-json=s.json", "--cache", "c", "--timeline=t.txt",
              "--max-line-bytes", "2048", "--max-manifest-bytes=4096"})
             .options;
  BOOST_CHECK_EQUAL(o.manifest, "m.json");
  BOOST_CHECK_EQUAL(o.out, "r.jsonl");
  BOOST_REQUIRE(o.concurrency);
  BOOST_CHECK_EQUAL(*o.concurrency, 8u);
  BOOST_CHECK(o.progress == runtime::progress_mode::never);
  BOOST_CHECK(o.force && r.rerun_failed && o.virtual_time);
  BOOST_CHECK_EQUAL(o.summary_json, "s.json");
  BOOST_CHECK_EQUAL(r.resume, "old");
  BOOST_CHECK_EQUAL(o.cache, "c");
  BOOST_CHECK_EQUAL(o.timeline, "t.txt");
  BOOST_REQUIRE(o.limits.max_line_bytes);
  BOOST_CHECK_EQUAL(*o.limits.max_line_bytes, 2048u);
  BOOST_CHECK_EQUAL(o.limits.max_manifest_bytes, 4096u);
}

BOOST_AUTO_TEST_CASE(run_usage_errors_name_the_flag_and_the_value) {
  BOOST_CHECK_EQUAL(message_of({"run"}), usage("run: missing MANIFEST", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "a", "b"}),
                    usage("run: unexpected argument b", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--fast"}),
                    usage("run: unknown option --fast", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "-x"}),
                    usage("run: unknown option -x", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--out"}),
                    usage("run: --out needs a value", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--out="}),
                    usage("run: --out needs a value", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--force=yes"}),
                    usage("run: --force takes no value", "run"));
  BOOST_CHECK_EQUAL(
    message_of({"run", "m.json", "--concurrency", "0"}),
    usage("run: --concurrency: must be an integer from 1 to 100000, got \"0\"",
          "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--concurrency=eight"}),
                    usage("run: --concurrency: must be an integer from 1 to "
                          "100000, got \"eight\"",
                          "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--progress=sometimes"}),
                    usage("run: --progress: must be auto, always or never, "
                          "got \"sometimes\"",
                          "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--max-line-bytes=1023"}),
                    usage("run: --max-line-bytes: must be an integer from "
                          "1024 to 2^40, got \"1023\"",
                          "run"));
}

BOOST_AUTO_TEST_CASE(run_flag_combinations_are_usage_errors) {
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--rerun-failed"}),
                    usage("run: --rerun-failed goes with --resume F", "run"));
  auto appends = usage("run: --resume F appends to F; it takes no --out or "
                       "--force",
                       "run");
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--resume", "r", "--out=x"}),
                    appends);
  BOOST_CHECK_EQUAL(message_of({"run", "--force", "m.json", "--resume", "r"}),
                    appends);
  // Errors in argument order: an unknown option before the rule, and the
  // manifest before the rule.
  BOOST_CHECK_EQUAL(message_of({"run", "--bogus", "--rerun-failed", "m.json"}),
                    usage("run: unknown option --bogus", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "--rerun-failed"}),
                    usage("run: missing MANIFEST", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "--out=", "m.json"}),
                    usage("run: --out needs a value", "run"));
}

BOOST_AUTO_TEST_CASE(run_node_flags_are_read_and_checked) {
  auto o = parsed<cli::run_command>({"run", "m.json", "--nodes", "a:1,b:2",
                                     "--local-workers=3", "--node-grace", "2.5",
                                     "--send-keys"})
             .options;
  BOOST_CHECK_EQUAL(o.nodes, "a:1,b:2");
  BOOST_CHECK_EQUAL(o.local_workers.value_or(0), 3u);
  BOOST_CHECK_EQUAL(o.node_grace_seconds.value_or(0), 2.5);
  BOOST_CHECK(o.send_keys);
  auto d = parsed<cli::run_command>({"run", "m.json"}).options;
  BOOST_CHECK(!d.local_workers && !d.node_grace_seconds && !d.send_keys);
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--node-grace=-1"}),
                    usage("run: --node-grace: must be a number of seconds "
                          "from 0 to 86400, got \"-1\"",
                          "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "--node-grace", "1e6"}),
                    usage("run: --node-grace: must be a number of seconds "
                          "from 0 to 86400, got \"1e6\"",
                          "run"));
}

BOOST_AUTO_TEST_CASE(run_help_wins_over_everything_else) {
  auto text = message_of({"run", "--help"}, 0);
  BOOST_CHECK_EQUAL(text.rfind("Usage: troupe run", 0), 0u);
  BOOST_CHECK_EQUAL(message_of({"run", "--bogus", "-h"}, 2),
                    usage("run: unknown option --bogus", "run"));
  BOOST_CHECK_EQUAL(message_of({"run", "m.json", "-h"}, 0), text);
}

BOOST_AUTO_TEST_CASE(report_takes_one_file_html_and_json) {
  auto o = parsed<cli::report_command>(
             {"report", "r.jsonl", "--html", "r.html", "--json"})
             .options;
  BOOST_CHECK_EQUAL(o.results, "r.jsonl");
  BOOST_CHECK_EQUAL(o.html, "r.html");
  BOOST_CHECK(o.json);
  auto eq = parsed<cli::report_command>({"report", "--html=x.html", "r"});
  BOOST_CHECK_EQUAL(eq.options.html, "x.html");
  BOOST_CHECK(!eq.options.json);
  BOOST_CHECK_EQUAL(message_of({"report"}),
                    usage("report: missing RESULTS", "report"));
  BOOST_CHECK_EQUAL(message_of({"report", "a", "b"}),
                    usage("report: unexpected argument b", "report"));
  BOOST_CHECK_EQUAL(message_of({"report", "a", "--html"}),
                    usage("report: --html needs a value", "report"));
  BOOST_CHECK_EQUAL(message_of({"report", "a", "--json=1"}),
                    usage("report: unknown option --json", "report"));
  BOOST_CHECK_EQUAL(message_of({"report", "--help"}, 0)
                      .rfind("Usage: troupe report RESULTS", 0),
                    0u);
}

BOOST_AUTO_TEST_CASE(report_takes_junit_and_summary_json_files_together) {
  auto o
    = parsed<cli::report_command>({"report", "r.jsonl", "--junit", "j.xml",
                                   "--summary-json=s.json", "--html", "r.html"})
        .options;
  BOOST_CHECK_EQUAL(o.junit, "j.xml");
  BOOST_CHECK_EQUAL(o.summary_json, "s.json");
  BOOST_CHECK_EQUAL(o.html, "r.html");
  BOOST_CHECK_EQUAL(message_of({"report", "a", "--junit"}),
                    usage("report: --junit needs a value", "report"));
  BOOST_CHECK_EQUAL(message_of({"report", "a", "--junit="}),
                    usage("report: --junit needs a value", "report"));
  BOOST_CHECK_EQUAL(message_of({"report", "a", "--summary-json", ""}),
                    usage("report: --summary-json needs a value", "report"));
}

BOOST_AUTO_TEST_CASE(validate_takes_one_manifest_and_the_limits) {
  auto v = parsed<cli::validate_command>(
    {"validate", "--max-manifest-bytes", "1024", "m.json"});
  BOOST_CHECK_EQUAL(v.manifest, "m.json");
  BOOST_CHECK_EQUAL(v.limits.max_manifest_bytes, 1024u);
  BOOST_CHECK(!v.limits.max_line_bytes);
  BOOST_CHECK_EQUAL(message_of({"validate"}),
                    usage("validate: missing MANIFEST", "validate"));
  BOOST_CHECK_EQUAL(message_of({"validate", "a", "b"}),
                    usage("validate: unexpected argument b", "validate"));
  BOOST_CHECK_EQUAL(message_of({"validate", "--out", "x", "m.json"}),
                    usage("validate: unknown option --out", "validate"));
  BOOST_CHECK_EQUAL(message_of({"validate", "m.json", "--max-line-bytes"}),
                    usage("validate: --max-line-bytes: must be an integer "
                          "from 1024 to 2^40, got \"\"",
                          "validate"));
  BOOST_CHECK_EQUAL(
    message_of({"validate", "--max-line-bytes=1099511627777", "m.json"}),
    usage("validate: --max-line-bytes: must be an integer "
          "from 1024 to 2^40, got \"1099511627777\"",
          "validate"));
}

BOOST_AUTO_TEST_CASE(fake_dify_passes_its_arguments_through_unparsed) {
  auto f
    = parsed<cli::fake_dify_command>({"fake-dify", "--port", "0", "--bogus"});
  BOOST_TEST(f.args == (args{"--port", "0", "--bogus"}));
}

BOOST_AUTO_TEST_SUITE_END()
