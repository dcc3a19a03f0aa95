// The manifest's target: each type, the keys it takes, and their checks.

#include "config/target.hpp"

#include "tests/config/manifest_fixture.hpp"

using namespace troupe;
using namespace troupe::config;
using troupe::test::manifest_fixture;

BOOST_FIXTURE_TEST_SUITE(manifest, manifest_fixture)

BOOST_AUTO_TEST_CASE(target_types_and_their_keys) {
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "dify-workflow"},
                              "datasets": []})"),
                    "DIR/m.json: target.base_url: missing key");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "dify-chat", "base_url": "http://x/v1"},
              "datasets": []})"),
    "DIR/m.json: target.api_key_env: missing key");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "dify-chat", "base_url": "ftp://x/v1",
                         "api_key_env": "K"}, "datasets": []})"),
    "DIR/m.json: target.base_url: must be an http:// or https:// URL, got "
    "\"ftp://x/v1\"");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "dify-workflow", "base_url": "http://x/v1",
                         "api_key_env": "K", "response_mode": "fast"},
              "datasets": []})"),
    "DIR/m.json: target.response_mode: must be \"blocking\" or "
    "\"streaming\", got \"fast\"");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "dify-workflow", "base_url": "http://x/v1",
                         "api_key_env": "K", "url": "http://y"},
              "datasets": []})"),
    "DIR/m.json: target.url: is not used by a \"dify-workflow\" target");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "stub", "base_url": "http://x/v1"},
              "datasets": []})"),
    "DIR/m.json: target.base_url: is not used by a \"stub\" target");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "http", "url": "http://x/{{input.q}}"},
              "datasets": []})"),
    "DIR/m.json: target.url: unknown placeholder {{input.q}} (expected "
    "{{inputs.NAME}}, {{params.NAME}}, {{case_id}} or {{task_id}})");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "http", "url": "http://x",
                         "success_status": "2xx"}, "datasets": []})"),
    "DIR/m.json: target.success_status: must be a status (200), a range "
    "(\"200-299\") or a list of them, got \"2xx\"");
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "http", "url": "http://x",
                         "api_key_env": "MY KEY"}, "datasets": []})"),
    "DIR/m.json: target.api_key_env: must name an environment variable "
    "(letters, digits and _), got \"MY KEY\"");
  auto m = ok(R"({"target": {"type": "http", "url": "https://x/{{case_id}}",
                             "method": "put", "headers": {"X-A": "{{inputs.a}}"},
                             "body": {"q": "{{inputs.q}}"},
                             "success_status": [200, "202-204"],
                             "output_pointer": "/data/answer"},
                  "datasets": [{"name": "d", "cases": [{"id": "c"}]}]})");
  BOOST_CHECK(m.target.type == target_type::http);
  BOOST_CHECK_EQUAL(m.target.method, "PUT");
  BOOST_CHECK_EQUAL(m.target.body, R"({"q":"{{inputs.q}}"})");
  BOOST_REQUIRE_EQUAL(m.target.success_status.size(), 2u);
  BOOST_CHECK_EQUAL(m.target.success_status[1].first, 202);
  BOOST_CHECK_EQUAL(m.target.success_status[1].second, 204);
  BOOST_CHECK_EQUAL(m.target.headers.at(0).second, "{{inputs.a}}");
  auto d = ok(R"({"target": {"type": "dify-chat", "base_url": "http://x/v1/",
                             "api_key_env": "DIFY_KEY",
                             "response_mode": "streaming", "user": "u1"},
                  "datasets": [{"name": "d", "cases": [{"id": "c"}]}]})");
  BOOST_CHECK_EQUAL(d.target.base_url, "http://x/v1");
  BOOST_CHECK(d.target.streaming);
  BOOST_CHECK_EQUAL(d.target.user, "u1");
  BOOST_CHECK_EQUAL(d.target.api_key_env, "DIFY_KEY");
  BOOST_CHECK(!d.target.auto_generate_name);
  BOOST_CHECK_EQUAL(error(R"({"target": {"type": "grpc"}, "datasets": []})"),
                    "DIR/m.json: target.type: must be one of "
                    "\"dify-workflow\", \"dify-chat\", \"dify-completion\", "
                    "\"http\", \"stub\", \"exec\", \"custom\", got \"grpc\"");
}

BOOST_AUTO_TEST_CASE(chat_targets_may_let_dify_name_conversations) {
  auto d = ok(R"({"target": {"type": "dify-chat", "base_url": "http://x/v1",
                             "api_key_env": "K", "auto_generate_name": true},
                  "datasets": [{"name": "d", "cases": [{"id": "c"}]}]})");
  BOOST_CHECK(d.target.auto_generate_name);
  BOOST_CHECK_EQUAL(
    error(R"({"target": {"type": "dify-workflow", "base_url": "http://x/v1",
                         "api_key_env": "K", "auto_generate_name": true},
              "datasets": []})"),
    "DIR/m.json: target.auto_generate_name: is not used by a "
    "\"dify-workflow\" target");
}

BOOST_AUTO_TEST_CASE(a_long_blocking_timeout_on_dify_cloud_gets_a_note) {
  target_config t;
  t.type = target_type::dify_workflow;
  t.base_url = "https://api.dify.ai/v1";
  BOOST_REQUIRE_EQUAL(target_notes(t, 120).size(), 1u);
  BOOST_CHECK(target_notes(t, 120)[0].find("cuts blocking calls after 100 s")
              != std::string::npos);
  BOOST_CHECK(target_notes(t, 100).empty());
  t.streaming = true;
  BOOST_CHECK(target_notes(t, 120).empty());
  t.streaming = false;
  t.base_url = "https://dify.example.com/v1"; // self-hosted: no cut
  BOOST_CHECK(target_notes(t, 120).empty());
  t.base_url = "https://API.dify.ai:443/v1";
  BOOST_CHECK_EQUAL(target_notes(t, 101).size(), 1u);
  BOOST_CHECK(target_notes(target_config{}, 120).empty()); // a stub
}

BOOST_AUTO_TEST_SUITE_END()
