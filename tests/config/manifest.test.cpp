// Manifest parsing: every key into its struct, and every kind of bad input
// into an error that names the file, the path or line, and what was expected.
// The target, the stub script and the datasets have files of their own.

#include "config/dataset_reader.hpp"
#include "config/node_address.hpp"

#include "tests/config/manifest_fixture.hpp"

using namespace troupe;
using namespace troupe::config;
using troupe::test::manifest_fixture;

BOOST_FIXTURE_TEST_SUITE(manifest, manifest_fixture)

BOOST_AUTO_TEST_CASE(the_full_example_parses_into_structs) {
  dir.write("cases.jsonl", "{\"id\": \"b1\", \"inputs\": {\"x\": 1}}\n"
                           "\n"
                           "{\"id\": 2, \"query\": \"hi\"}\n");
  auto m = ok(R"(// comment
  {
    "name": "regression",
    "target": { "type": "stub" },
    "datasets": [
      { "name": "smoke",
        "cases": [ { "id": "c1", "inputs": { "text": "..." } },
                   { "id": "c2", "query": "q", "conversation_id": "x" }, ] },
      { "name": "bulk", "file": "cases.jsonl" },
    ],
    /* block comment */
    "parameters": [ { "style": "short" }, { "style": "long" } ],
    "execution_policy": { "concurrency": 16, "timeout_seconds": 2.5,
                          "deadline_seconds": 30 },
    "retry_policy": { "max_attempts": 5, "backoff_seconds": 0.5,
                      "backoff_multiplier": 3, "max_backoff_seconds": 9,
                      "jitter": "equal" },
    "stub": { "simulated_delay_seconds": 0.05, "failure_rate": 0.25,
              "seed": 9,
              "task_behaviors": { "smoke/c1#0": ["timeout", "success"],
                                  "bulk/2#1": "delay:20ms" } },
  })");
  BOOST_CHECK_EQUAL(m.name, "regression");
  BOOST_CHECK(m.target.type == target_type::stub);
  BOOST_REQUIRE_EQUAL(m.datasets.size(), 2u);
  BOOST_CHECK_EQUAL(m.datasets[0].case_count, 2u);
  BOOST_CHECK_EQUAL(m.datasets[0].cases[0].inputs_json, R"({"text":"..."})");
  BOOST_CHECK_EQUAL(m.datasets[0].cases[1].query, "q");
  BOOST_CHECK_EQUAL(m.datasets[0].cases[1].conversation_id, "x");
  BOOST_CHECK_EQUAL(m.datasets[1].file, dir.file("cases.jsonl"));
  BOOST_CHECK_EQUAL(m.datasets[1].case_count, 2u);
  BOOST_CHECK_EQUAL(m.parameters.size(), 2u);
  BOOST_CHECK_EQUAL(m.parameters[1], R"({"style":"long"})");
  BOOST_CHECK_EQUAL(m.task_count(), 8u);
  BOOST_CHECK_EQUAL(m.execution.concurrency, 16u);
  BOOST_CHECK_EQUAL(m.execution.timeout_seconds, 2.5);
  BOOST_CHECK_EQUAL(*m.execution.deadline_seconds, 30.0);
  BOOST_CHECK_EQUAL(m.retry.max_attempts, 5u);
  BOOST_CHECK_EQUAL(m.retry.backoff_seconds, 0.5);
  BOOST_CHECK_EQUAL(m.retry.backoff_multiplier, 3.0);
  BOOST_CHECK_EQUAL(m.retry.max_backoff_seconds, 9.0);
  BOOST_CHECK(m.retry.jitter == jitter_kind::equal);
  BOOST_CHECK_EQUAL(m.stub.simulated_delay_seconds, 0.05);
  BOOST_CHECK_EQUAL(m.stub.failure_rate, 0.25);
  BOOST_CHECK_EQUAL(m.stub.seed, 9u);
  BOOST_REQUIRE_EQUAL(m.stub.task_behaviors.at("smoke/c1#0").size(), 2u);
  BOOST_CHECK(m.stub.task_behaviors.at("smoke/c1#0")[0].action
              == stub_action::timeout);
  BOOST_CHECK_EQUAL(m.stub.task_behaviors.at("bulk/2#1")[0].delay_us, 20'000);
  BOOST_CHECK_EQUAL(m.hash.substr(0, 7), "sha256:");
  BOOST_CHECK_EQUAL(m.hash.size(), 7u + 64u);
}

BOOST_AUTO_TEST_CASE(defaults_apply_and_the_name_comes_from_the_file) {
  auto m = ok(with(""));
  BOOST_CHECK_EQUAL(m.name, "m");
  BOOST_CHECK_EQUAL(m.execution.concurrency, 8u);
  BOOST_CHECK_EQUAL(m.execution.timeout_seconds, 60.0);
  BOOST_CHECK(!m.execution.deadline_seconds);
  BOOST_CHECK_EQUAL(m.retry.max_attempts, 3u);
  BOOST_CHECK_EQUAL(m.parameters.size(), 1u);
  BOOST_CHECK_EQUAL(m.parameters[0], "{}");
  BOOST_CHECK_EQUAL(m.task_count(), 1u);
}

BOOST_AUTO_TEST_CASE(the_hash_ignores_comments_and_layout) {
  auto a = ok(with(R"("name": "x")"));
  auto b = ok("// note\n" + with(R"("name":   "x" ,)"));
  auto c = ok(with(R"("name": "y")"));
  BOOST_CHECK_EQUAL(a.hash, b.hash);
  BOOST_CHECK_NE(a.hash, c.hash);
}

BOOST_AUTO_TEST_CASE(a_byte_order_mark_is_no_json_and_changes_nothing) {
  // Windows editors save UTF-8 with a BOM; Boost.JSON alone reads it as a
  // syntax error at 1:1.
  auto plain = ok(with(R"("name": "x")"));
  auto marked = ok("\xEF\xBB\xBF" + with(R"("name": "x")"));
  BOOST_CHECK_EQUAL(marked.name, "x");
  BOOST_CHECK_EQUAL(marked.hash, plain.hash);
}

BOOST_AUTO_TEST_CASE(wrong_types_name_the_path_and_the_value) {
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"concurrency": "eight"})")),
    "DIR/m.json: execution_policy.concurrency: must be an "
    "integer from 1 to 100000, got \"eight\"");
  BOOST_CHECK_EQUAL(error(with(R"("name": 5)")),
                    "DIR/m.json: name: must be a string, got 5");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"}, "datasets": {}})"),
                    "DIR/m.json: datasets: must be an array, got an object {}");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "cases": [{"id": "c", "inputs": 3}]}]})"),
    "DIR/m.json: datasets[0].cases[0].inputs: must be an object, got 3");
  BOOST_CHECK_EQUAL(error(with(R"("retry_policy": {"jitter": "some"})")),
                    "DIR/m.json: retry_policy.jitter: must be \"none\", "
                    "\"full\" or \"equal\", got \"some\"");
  BOOST_CHECK_EQUAL(error(with(R"("execution_policy": {"concurrency": 2.5})")),
                    "DIR/m.json: execution_policy.concurrency: must be an "
                    "integer from 1 to 100000, got 2.5");
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_rejected) {
  BOOST_CHECK_EQUAL(error(with(R"("execution_policy": {"concurrency": 0})")),
                    "DIR/m.json: execution_policy.concurrency: must be an "
                    "integer from 1 to 100000, got 0");
  BOOST_CHECK_EQUAL(error(with(R"("stub": {"failure_rate": 1.5})")),
                    "DIR/m.json: stub.failure_rate: must be a number >= 0 and "
                    "<= 1, got 1.5");
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"timeout_seconds": 0})")),
    "DIR/m.json: execution_policy.timeout_seconds: must be a "
    "number > 0 and <= 86400, got 0");
  BOOST_CHECK_EQUAL(
    error(with(R"("retry_policy": {"backoff_multiplier": 0.5})")),
    "DIR/m.json: retry_policy.backoff_multiplier: must be a "
    "number >= 1 and <= 1000, got 0.5");
  BOOST_CHECK_EQUAL(error(with(R"("parameters": [])")),
                    "DIR/m.json: parameters: must hold at least one parameter "
                    "set");
}

BOOST_AUTO_TEST_CASE(unknown_and_missing_keys_are_errors) {
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"concurency": 8})")),
    "DIR/m.json: execution_policy.concurency: unknown key (expected one of: "
    "concurrency, timeout_seconds, deadline_seconds, run_deadline_seconds, "
    "adaptive, batch_size, batch_pause_seconds, rate_limit, limits, nodes, "
    "local_workers, node_grace_seconds)");
  BOOST_CHECK_EQUAL(error(R"({"datasets": []})"),
                    "DIR/m.json: target: missing key");
  BOOST_CHECK_EQUAL(error(R"({"target": {}, "datasets": []})"),
                    "DIR/m.json: target.type: missing key");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"}})"),
                    "DIR/m.json: datasets: missing key");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d"}]})"),
    "DIR/m.json: datasets[0]: missing key: one of \"cases\" or \"file\"");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "cases": [{"inputs": {}}]}]})"),
                    "DIR/m.json: datasets[0].cases[0].id: missing key");
  BOOST_CHECK_EQUAL(error(with(R"("colour": "red")")),
                    "DIR/m.json: colour: unknown key (expected one of: name, "
                    "target, datasets, parameters, execution_policy, "
                    "retry_policy, stub, $schema)");
}

BOOST_AUTO_TEST_CASE(a_schema_key_is_taken_and_ignored) {
  // An editor's pointer to config/manifest.schema.json, like a comment,
  // changes neither the run nor its hash (so --resume still matches).
  auto plain = ok(with(""));
  auto pointed = ok(with(R"("$schema": "./config/manifest.schema.json")"));
  BOOST_CHECK_EQUAL(plain.hash, pointed.hash);
  BOOST_CHECK_EQUAL(pointed.task_count(), 1u);
  BOOST_CHECK_EQUAL(error(with(R"("$schema": 5)")),
                    "DIR/m.json: $schema: must be a string, got 5");
}

BOOST_AUTO_TEST_CASE(broken_manifest_json_names_line_and_column) {
  BOOST_CHECK_EQUAL(error("{\n  \"name\": \"x\",\n  oops\n}"),
                    "DIR/m.json:3:3: invalid JSON (syntax error)");
  BOOST_CHECK_EQUAL(error("{} {}"),
                    "DIR/m.json:1:4: invalid JSON (extra data)");
}

BOOST_AUTO_TEST_CASE(expect_is_parsed_and_checked_before_the_run) {
  dir.write("c.jsonl",
            R"({"id": "x", "expect": {"json": {"/a": [1, {"b": null}]}}})"
            "\n");
  auto m = ok(R"({"target": {"type": "stub"},
    "datasets": [
      {"name": "d", "expect": {"contains": "echo", "max_latency_ms": 250},
       "cases": [{"id": "c", "expect": {"contains": ["a", "b"],
                                         "not_contains": "err",
                                         "regex": "^\\{", "equals": {"k": 1}}}]},
      {"name": "f", "file": "c.jsonl"}]})");
  auto& ds = m.datasets[0];
  BOOST_CHECK_EQUAL(ds.expect.contains.at(0), "echo");
  BOOST_CHECK_EQUAL(ds.expect.max_latency_us, 250'000);
  auto& e = ds.cases[0].expect;
  BOOST_CHECK_EQUAL(e.contains.size(), 2u);
  BOOST_CHECK_EQUAL(e.not_contains.at(0), "err");
  BOOST_CHECK_EQUAL(e.regex.at(0), "^\\{");
  BOOST_CHECK_EQUAL(e.equals_json, R"({"k":1})");
  case_reader reader{m.datasets[1]};
  case_config c;
  BOOST_REQUIRE(reader.next(c));
  BOOST_CHECK_EQUAL(c.expect.json_pointers.at(0), "/a");
  BOOST_CHECK_EQUAL(c.expect.json_values.at(0), R"([1,{"b":null}])");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
              "cases": [{"id": "c", "expect": {"regex": ["ok", "(unclosed"]}}]}]})"),
    "DIR/m.json: datasets[0].cases[0].expect.regex[1]: must be a valid "
    "regular expression (Unmatched marking parenthesis ( or \\(.  The error "
    "occurred while parsing the regular expression: '(unclosed>>>HERE>>>'.), "
    "got \"(unclosed\"");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
              "expect": {"json": {"answer": 1}}, "cases": [{"id": "c"}]}]})"),
    "DIR/m.json: datasets[0].expect.json[\"answer\"]: must be keyed by a "
    "JSON Pointer (\"\" or \"/a/b\", with ~0 and ~1 as the only escapes)");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
              "cases": [{"id": "c", "expect": {"contain": "x"}}]}]})"),
    "DIR/m.json: datasets[0].cases[0].expect.contain: unknown key (expected "
    "one of: contains, not_contains, regex, equals, json, max_latency_ms)");
  dir.write("bad.jsonl", R"({"id": "x", "expect": {"contains": 3}})"
                         "\n");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"},
              "datasets": [{"name": "d", "file": "bad.jsonl"}]})"),
    "DIR/bad.jsonl:1: expect.contains: must be a string or an array of "
    "strings, got 3");
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_errors_naming_the_key) {
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"concurrency": 0, "concurrency": 4})")),
    "DIR/m.json: execution_policy.concurrency: duplicate key (each key may "
    "appear once in an object)");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub"}, "datasets": [{"name": "d",
      "cases": [{"id": "a"}, {"id": "b", "inputs": {"x": 1, "x": 2}}]}]})"),
    "DIR/m.json: datasets[0].cases[1].inputs.x: duplicate key (each key may "
    "appear once in an object)");
  BOOST_CHECK_EQUAL(error(R"({"name": "a", // comment
      "name": "b", "target": {"type": "stub"}, "datasets": []})"),
                    "DIR/m.json: name: duplicate key (each key may appear "
                    "once in an object)");
  dir.write("cases.jsonl", "{\"id\": \"a\"}\n{\"id\": \"b\", \"id\": \"c\"}\n");
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "stub"},
      "datasets": [{"name": "d", "file": "cases.jsonl"}]})"),
                    "DIR/cases.jsonl:2: id: duplicate key (each key may "
                    "appear once in an object)");
}

BOOST_AUTO_TEST_CASE(a_rate_limit_below_one_a_day_is_refused) {
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"rate_limit":
                   {"requests_per_second": 1e-10}})")),
    "DIR/m.json: execution_policy.rate_limit.requests_per_second: must be "
    "a number >= 1.15740740740741e-05 and <= 10000000, got 1e-10");
  auto m = ok(with(R"("execution_policy": {"rate_limit":
                        {"requests_per_minute": 1}})"));
  BOOST_CHECK_CLOSE(m.execution.rate_per_second, 1.0 / 60, 1e-9);
}

BOOST_AUTO_TEST_CASE(a_nodes_flag_lists_each_node_once) {
  auto ok_list = parse_node_addresses("a:1,b:1,a:2,[::1]:1");
  BOOST_REQUIRE(std::holds_alternative<std::vector<node_address>>(ok_list));
  BOOST_CHECK_EQUAL(std::get<std::vector<node_address>>(ok_list).size(), 4u);
  auto twice = parse_node_addresses("a:1,b:1,B:1");
  BOOST_REQUIRE(std::holds_alternative<std::string>(twice));
  BOOST_CHECK_EQUAL(std::get<std::string>(twice),
                    "\"B:1\" is given twice (a node runs one supervisor's "
                    "tasks; list it once)");
  // The first repeat by its later entry: y (1 and 3) before x (0 and 4).
  std::vector<node_address> five;
  for (auto host : {"x", "y", "z", "y", "x"})
    five.push_back(node_address{host, 1});
  auto pair = repeated_node(five);
  BOOST_REQUIRE(pair);
  BOOST_CHECK_EQUAL(pair->first, 1u);
  BOOST_CHECK_EQUAL(pair->second, 3u);
}

BOOST_AUTO_TEST_CASE(nodes_are_host_port_strings_with_their_settings) {
  auto m = ok(with(R"("execution_policy": {"nodes": ["10.0.0.5:7100",
                         "[::1]:7101"], "local_workers": 2,
                         "node_grace_seconds": 5.5})"));
  BOOST_REQUIRE_EQUAL(m.execution.nodes.size(), 2u);
  BOOST_CHECK_EQUAL(m.execution.nodes[0].text(), "10.0.0.5:7100");
  BOOST_CHECK_EQUAL(m.execution.nodes[1].host, "::1");
  BOOST_CHECK_EQUAL(m.execution.nodes[1].port, 7101);
  BOOST_CHECK_EQUAL(m.execution.local_workers.value_or(99), 2u);
  BOOST_CHECK_EQUAL(m.execution.node_grace_seconds.value_or(0), 5.5);
  auto d = ok(with(""));
  BOOST_CHECK(d.execution.nodes.empty());
  BOOST_CHECK(!d.execution.local_workers && !d.execution.node_grace_seconds);
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"nodes": ["a:1", "b:0"]})")),
    "DIR/m.json: execution_policy.nodes[1]: must be HOST:PORT: \"b:0\" is "
    "not HOST:PORT (a port from 1 to 65535)");
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"nodes": ["a:1", "b:2", "A:1"]})")),
    "DIR/m.json: execution_policy.nodes[2]: \"A:1\" is already "
    "execution_policy.nodes[0] (a node runs one supervisor's tasks; list it "
    "once)");
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"nodes": "a:1,b:2"})")),
    "DIR/m.json: execution_policy.nodes: must be an array, got \"a:1,b:2\"");
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"node_grace_seconds": -1})")),
    "DIR/m.json: execution_policy.node_grace_seconds: must be a number >= 0 "
    "and <= 86400, got -1");
}

BOOST_AUTO_TEST_CASE(input_limits_are_settable_and_only_regular_files_load) {
  auto m = ok(with(R"("execution_policy": {"limits": {"max_line_bytes":
                                                       2048}})"));
  BOOST_CHECK_EQUAL(m.execution.max_line_bytes, 2048u);
  BOOST_CHECK_EQUAL(m.datasets[0].max_line_bytes, 2048u);
  BOOST_CHECK_EQUAL(
    error(with(R"("execution_policy": {"limits": {"max_line_bytes": 10}})")),
    "DIR/m.json: execution_policy.limits.max_line_bytes: must be an integer "
    "from 1024 to 1073741824, got 10");
  auto r = load_manifest(dir.path());
  BOOST_REQUIRE(std::holds_alternative<config_error>(r));
  BOOST_CHECK_EQUAL(std::get<config_error>(r).message,
                    dir.path() + ": is a directory, expected a manifest file");
  r = load_manifest("/dev/null");
  BOOST_REQUIRE(std::holds_alternative<config_error>(r));
  BOOST_CHECK_EQUAL(std::get<config_error>(r).message,
                    "/dev/null: is a character device; a manifest must be a "
                    "regular file");
}

BOOST_AUTO_TEST_CASE(a_missing_manifest_is_an_error) {
  auto r = load_manifest(dir.file("absent.json"));
  BOOST_REQUIRE(std::holds_alternative<config_error>(r));
  BOOST_CHECK_EQUAL(std::get<config_error>(r).message,
                    dir.file("absent.json")
                      + ": cannot open manifest (No such file or directory)");
}

BOOST_AUTO_TEST_SUITE_END()
