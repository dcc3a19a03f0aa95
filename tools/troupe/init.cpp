// `troupe init`: the starter manifests and cases files, one pair per target
// type, and the writing of them, which never replaces a file.
//
//   troupe init --target T DIR
//     -> DIR/troupe.json  (commented; runs against `troupe fake-dify`)
//     -> DIR/cases.jsonl  (three cases with checks)

#include "tools/troupe/init.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace troupe::cli {

namespace {

namespace fs = std::filesystem;

/// One target type's starter files and how to try them.
struct starter {
  std::string_view target;
  const char* manifest;
  const char* cases;
  /// The commands to run next; "%s" stands for the manifest's path.
  const char* next;
};

constexpr const char* schema_note
  = R"(// Every key is described in troupe's config/README.md. For completion and
// checks in an editor, add "$schema": "PATH/manifest.schema.json" (troupe's
// config/ folder, or share/troupe/ where troupe is installed).
)";

constexpr const char* dify_workflow_manifest
  = R"(// A starter manifest for a Dify workflow app, written by `troupe init`.
// Try it first against troupe's fake Dify server, which answers like a
// workflow app that echoes its "text" input (no account needed):
//   troupe fake-dify --listen 127.0.0.1:5001 &
//   DIFY_API_KEY=app-test troupe run troupe.json
// Then set base_url to your Dify's Service API (https://api.dify.ai/v1, or
// your server's /v1) and DIFY_API_KEY to the app's API key.
{
  "name": "starter",
  "target": {
    "type": "dify-workflow",
    // troupe fake-dify --listen 127.0.0.1:5001 serves here.
    "base_url": "http://127.0.0.1:5001/v1",
    // The variable that holds the app's key; the key never goes in here.
    "api_key_env": "DIFY_API_KEY",
    "response_mode": "blocking", // or "streaming"
  },
  "datasets": [
    // One case per line: {"id": ..., "inputs": {...}, "expect": {...}}.
    // The inputs are the app's input variables.
    { "name": "smoke", "file": "cases.jsonl",
      // A check on every case's output (the workflow's outputs object, as
      // compact JSON): that its "text" is not empty.
      "expect": { "regex": "\"text\":\"\\S" } },
  ],
  // Each case runs once per parameter set, merged under its inputs:
  // "parameters": [ { "tone": "formal" }, { "tone": "casual" } ],
  "execution_policy": { "concurrency": 4, "timeout_seconds": 60 },
  "retry_policy": { "max_attempts": 3, "backoff_seconds": 2,
                    "jitter": "full" },
}
)";

constexpr const char* text_cases
  = R"({"id": "greeting", "inputs": {"text": "Hello! What can you do?"}}
{"id": "refund", "inputs": {"text": "How do I get a refund for order 1234?"}, "expect": {"contains": "refund"}}
{"id": "summary", "inputs": {"text": "Summarise: troupe runs test cases against Dify apps."}, "expect": {"not_contains": "error"}}
)";

constexpr const char* dify_next
  = R"(  troupe fake-dify --listen 127.0.0.1:5001 &   # a fake Dify, or set base_url to yours
  export DIFY_API_KEY=app-test                  # your app's key for a real Dify
  troupe validate %s
  troupe run %s
)";

constexpr const char* dify_chat_manifest
  = R"(// A starter manifest for a Dify chat app (or chatflow), written by
// `troupe init`. Try it first against troupe's fake Dify server, which
// echoes each query (no account needed):
//   troupe fake-dify --listen 127.0.0.1:5001 &
//   DIFY_API_KEY=app-test troupe run troupe.json
// Then set base_url to your Dify's Service API (https://api.dify.ai/v1, or
// your server's /v1) and DIFY_API_KEY to the app's API key.
{
  "name": "starter",
  "target": {
    "type": "dify-chat",
    // troupe fake-dify --listen 127.0.0.1:5001 serves here.
    "base_url": "http://127.0.0.1:5001/v1",
    // The variable that holds the app's key; the key never goes in here.
    "api_key_env": "DIFY_API_KEY",
    // Streaming follows the answer as it comes and records first_event_ms.
    "response_mode": "streaming",
  },
  "datasets": [
    // One case per line: {"id": ..., "query": ..., "inputs": {...},
    // "expect": {...}}, or {"id": ..., "turns": [{"query": ...}, ...]} for
    // a conversation of several turns.
    { "name": "smoke", "file": "cases.jsonl",
      // A check on every answer: that it is not empty.
      "expect": { "regex": "\\S" } },
  ],
  "execution_policy": { "concurrency": 4, "timeout_seconds": 60 },
  "retry_policy": { "max_attempts": 3, "backoff_seconds": 2,
                    "jitter": "full" },
}
)";

constexpr const char* chat_cases
  = R"({"id": "greeting", "query": "Hello! What can you do?"}
{"id": "refund", "query": "How do I get a refund for order 1234?", "expect": {"contains": "refund"}}
{"id": "follow-up", "turns": [{"query": "I bought a kettle last week."}, {"query": "It leaks. What can I do?", "expect": {"contains": "kettle"}}]}
)";

constexpr const char* dify_completion_manifest
  = R"(// A starter manifest for a Dify completion app (a text generator),
// written by `troupe init`. Try it first against troupe's fake Dify
// server, which answers like a completion app that echoes its "text" input
// (no account needed):
//   troupe fake-dify --listen 127.0.0.1:5001 &
//   DIFY_API_KEY=app-test troupe run troupe.json
// Then set base_url to your Dify's Service API (https://api.dify.ai/v1, or
// your server's /v1) and DIFY_API_KEY to the app's API key.
{
  "name": "starter",
  "target": {
    "type": "dify-completion",
    // troupe fake-dify --listen 127.0.0.1:5001 serves here.
    "base_url": "http://127.0.0.1:5001/v1",
    // The variable that holds the app's key; the key never goes in here.
    "api_key_env": "DIFY_API_KEY",
    "response_mode": "blocking", // or "streaming"
  },
  "datasets": [
    // One case per line: {"id": ..., "inputs": {...}, "expect": {...}}.
    // The inputs are the app's variables, its prompt's text included (a
    // completion app takes no query of its own).
    { "name": "smoke", "file": "cases.jsonl",
      // A check on every answer: that it is not empty.
      "expect": { "regex": "\\S" } },
  ],
  "execution_policy": { "concurrency": 4, "timeout_seconds": 60 },
  "retry_policy": { "max_attempts": 3, "backoff_seconds": 2,
                    "jitter": "full" },
}
)";

constexpr const char* http_manifest
  = R"(// A starter manifest for any HTTP JSON endpoint, written by `troupe init`.
// It calls troupe's fake Dify server's workflow endpoint as a stand-in for
// your service (no account needed):
//   troupe fake-dify --listen 127.0.0.1:5001 &
//   SERVICE_TOKEN=app-test troupe run troupe.json
// Then set url, body and output_pointer for your service, and
// SERVICE_TOKEN to its bearer token.
{
  "name": "starter",
  "target": {
    "type": "http",
    "method": "POST",
    // troupe fake-dify --listen 127.0.0.1:5001 serves here.
    "url": "http://127.0.0.1:5001/v1/workflows/run",
    // Sent as "Authorization: Bearer <token>"; the token never goes in here.
    "api_key_env": "SERVICE_TOKEN",
    // {{inputs.NAME}}, {{params.NAME}}, {{case_id}} and {{task_id}} are
    // filled in per task (JSON-escaped in the body).
    "headers": { "X-Request-Id": "{{task_id}}" },
    "body": { "inputs": { "text": "{{inputs.text}}" }, "user": "troupe",
              "response_mode": "blocking" },
    "success_status": "200-299",
    // Where the output is in the response (a JSON Pointer).
    "output_pointer": "/data/outputs/text",
  },
  "datasets": [
    // One case per line: {"id": ..., "inputs": {...}, "expect": {...}}.
    { "name": "smoke", "file": "cases.jsonl",
      // A check on every output: that it is not empty.
      "expect": { "regex": "\\S" } },
  ],
  "execution_policy": { "concurrency": 4, "timeout_seconds": 30 },
  "retry_policy": { "max_attempts": 3, "backoff_seconds": 1,
                    "jitter": "full" },
}
)";

constexpr const char* http_next
  = R"(  troupe fake-dify --listen 127.0.0.1:5001 &   # a stand-in service, or set url to yours
  export SERVICE_TOKEN=app-test                 # your service's token
  troupe validate %s
  troupe run %s
)";

constexpr const char* stub_manifest
  = R"(// A starter manifest on troupe's scripted stub, written by `troupe init`:
// no service and no account, so it shows retries, checks and the results
// file on its own:
//   troupe run troupe.json
// The stub answers {"task_id": ..., "echo": <inputs>}. Change target to a
// Dify app or an HTTP endpoint (`troupe init --help`) when you have one.
{
  "name": "starter",
  "target": { "type": "stub" },
  "datasets": [
    // One case per line: {"id": ..., "inputs": {...}, "expect": {...}}.
    { "name": "smoke", "file": "cases.jsonl",
      // A check on every output: that it is not empty.
      "expect": { "regex": "\\S" } },
  ],
  "execution_policy": { "concurrency": 4, "timeout_seconds": 1 },
  "retry_policy": { "max_attempts": 3, "backoff_seconds": 0.1 },
  "stub": {
    "simulated_delay_seconds": 0.05,
    "seed": 1,
    // Scripted attempts of a task (<dataset>/<case id>#<parameter index>):
    // this one fails once, is retried, then succeeds.
    "task_behaviors": { "smoke/refund#0": ["failure", "success"] },
  },
}
)";

constexpr const char* stub_next = R"(  troupe validate %s
  troupe run %s
)";

const starter starters[] = {
  {"dify-workflow", dify_workflow_manifest, text_cases, dify_next},
  {"dify-chat", dify_chat_manifest, chat_cases, dify_next},
  {"dify-completion", dify_completion_manifest, text_cases, dify_next},
  {"http", http_manifest, text_cases, http_next},
  {"stub", stub_manifest, text_cases, stub_next},
};

const starter* find_starter(std::string_view target) {
  for (auto& s : starters)
    if (s.target == target)
      return &s;
  return nullptr;
}

// The manifest's text: its header comment, the schema note, the JSON.
std::string manifest_text(const starter& s) {
  std::string text = s.manifest;
  auto body = text.find("\n{\n");
  return text.substr(0, body + 1) + schema_note + text.substr(body + 1);
}

// "troupe.json" in the current folder, "DIR/troupe.json" elsewhere.
std::string shown(const std::string& dir, const char* name) {
  if (dir.empty() || dir == ".")
    return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

int fail(const std::string& what, int code) {
  std::fprintf(stderr, "troupe: init: %s\n", what.c_str());
  return code;
}

// Writes a new file; fails if anything is there already ("x": O_EXCL).
bool write_new(const std::string& path, const std::string& text,
               std::string& error) {
  std::FILE* f = std::fopen(path.c_str(), "wx");
  if (f == nullptr) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    error = path + ": cannot write (" + std::strerror(errno) + ")";
    std::remove(path.c_str()); // ours (exclusive create): no half file stays
  }
  return ok;
}

} // namespace

int init(const init_command& cmd) {
  auto* s = find_starter(cmd.target);
  if (s == nullptr)
    return fail("no starter for target \"" + cmd.target + "\"", 2);
  std::string dir = cmd.dir.empty() ? "." : cmd.dir;
  std::error_code ec;
  auto st = fs::status(dir, ec);
  if (fs::exists(st) && !fs::is_directory(st))
    return fail(dir + ": exists and is not a folder", 2);
  std::vector<std::pair<std::string, std::string>> files{
    {shown(cmd.dir, init_manifest_name), manifest_text(*s)},
    {shown(cmd.dir, init_cases_name), s->cases}};
  // Refuse before writing anything, so a refused init changes nothing. A
  // dangling symlink counts as a file: writing through it would create its
  // target somewhere else.
  for (auto& [path, text] : files)
    if (fs::exists(fs::symlink_status(path, ec)))
      return fail(path
                    + " exists; init never overwrites a file (move it away "
                      "or give another DIR)",
                  2);
  if (!fs::exists(st) && !fs::create_directories(dir, ec) && ec)
    return fail(dir + ": cannot create the folder (" + ec.message() + ")", 4);
  std::vector<std::string> written;
  for (auto& [path, text] : files) {
    std::string error;
    if (!write_new(path, text, error)) {
      for (auto& w : written)
        fs::remove(w, ec);
      bool exists = error.find(std::strerror(EEXIST)) != std::string::npos;
      return fail(error, exists ? 2 : 4);
    }
    written.push_back(path);
  }
  auto manifest = files[0].first;
  std::printf("wrote %s (a %s manifest) and %s (3 cases)\nnext:\n",
              manifest.c_str(), s->target.data(), files[1].first.c_str());
  std::string next = s->next;
  // From after each replacement: the path itself may hold "%s".
  for (size_t pos = 0; (pos = next.find("%s", pos)) != std::string::npos;
       pos += manifest.size())
    next.replace(pos, 2, manifest);
  std::fputs(next.c_str(), stdout);
  return 0;
}

} // namespace troupe::cli
