#pragma once

// The run manifest (product.md, "The manifest") as plain structs. This is the
// only place that knows the manifest's JSON: actors and runtime see these
// structs. The key reference is config/README.md.

#include "config/node_address.hpp"
#include "messages/stub.hpp"
#include "messages/task.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace troupe::config {

/// A manifest, dataset or results error: file, JSON path or line, and what
/// was expected, ready to print. Always exit code 2.
struct config_error {
  std::string message;
};

/// Either a value or the error that prevented it.
template <class T>
using result = std::variant<T, config_error>;

enum class target_type {
  stub,
  dify_workflow,
  dify_chat,
  dify_completion,
  http,
  exec,
  /// Runs the executor a program gives through the library API
  /// (runtime/troupe.hpp); the troupe command refuses it.
  custom,
};

/// The name used in manifests ("dify-workflow").
const char* target_type_name(target_type x) noexcept;

/// Where tasks go.
struct target_config {
  target_type type = target_type::stub;
  /// Dify: the API's base URL, ending in /v1 ("https://api.dify.ai/v1").
  std::string base_url;
  /// The environment variable that holds the API key (never the key).
  std::string api_key_env;
  /// Dify: "blocking" or "streaming".
  bool streaming = false;
  /// Dify: the end-user id sent with every call.
  std::string user = "troupe";
  /// http: the method, URL and headers, with {{...}} placeholders.
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  /// http: the body template (JSON text, or any text), empty for none.
  std::string body;
  /// http: statuses that mean success, as inclusive ranges.
  std::vector<std::pair<int, int>> success_status{{200, 299}};
  /// http: a JSON Pointer to the output in the response ("" = all of it).
  std::string output_pointer;
  /// A CA bundle to verify the server with (default: the system's).
  std::string ca_file;
  /// A blocking response, or a stream's event or kept output, larger than
  /// this ends in ERROR.
  uint64_t max_response_bytes = 16 * 1024 * 1024;
  /// dify-chat: let Dify name new conversations (off: it costs an LLM call).
  bool auto_generate_name = false;
  /// Dify: the largest file input; 0 for Dify's default limit of its type
  /// (config/file_inputs.hpp).
  uint64_t max_upload_bytes = 0;
  /// exec: the command and its arguments; argv[0] is looked up on PATH
  /// unless it holds a '/' (then it is relative to working_dir).
  std::vector<std::string> argv;
  /// exec: the most processes at a time; 0 for the default,
  /// exec_pool_size() (config/README.md, "An exec target").
  uint32_t pool = 0;
  /// exec: the folder the command runs in, the manifest's (absolute), set
  /// when the manifest is loaded.
  std::string working_dir;
  /// custom: the program's executor, as the results header names it
  /// ("executor"); empty for none.
  std::string name;
};

/// Whether the target calls a service over HTTP.
inline bool is_http_target(target_type t) noexcept {
  return t != target_type::stub && t != target_type::exec
         && t != target_type::custom;
}

/// exec: the pool size a run uses, `pool` or by default the run's
/// concurrency capped at the machine's hardware threads.
uint32_t exec_pool_size(const target_config& t, uint32_t concurrency);

/// One case of a dataset.
struct case_config {
  std::string id;
  /// The case's inputs as compact JSON (an object).
  std::string inputs_json = "{}";
  std::string query;
  std::string conversation_id;
  /// The case's own checks (the dataset's are merged in per task).
  expectation expect;
  /// A conversation's turns (dify-chat, stub), in place of `query` and
  /// `expect`; empty for a single call.
  std::vector<turn_spec> turns;
};

/// A dataset: inline cases or a JSONL/CSV file read as a stream.
/// Default caps on input sizes: a dataset line, and a manifest file.
constexpr uint64_t default_max_line_bytes = uint64_t{16} << 20;
constexpr uint64_t default_max_manifest_bytes = uint64_t{64} << 20;

struct dataset_config {
  std::string name;
  double weight = 1.0;
  std::vector<case_config> cases;
  /// Path of the dataset file, resolved against the manifest's folder; empty
  /// for inline cases.
  std::string file;
  /// Number of cases, counted when the manifest is loaded.
  uint64_t case_count = 0;
  /// Checks for every case of the dataset.
  expectation expect;
  /// The longest line (or CSV record) its file may hold.
  uint64_t max_line_bytes = default_max_line_bytes;
};

enum class jitter_kind { none, full, equal };

/// How attempts are retried (product.md, "Retry").
struct retry_policy {
  uint32_t max_attempts = 3;
  double backoff_seconds = 2.0;
  double backoff_multiplier = 1.5;
  double max_backoff_seconds = 60.0;
  jitter_kind jitter = jitter_kind::none;
};

/// How many tasks run at once, how fast and in which rhythm, and their time
/// limits.
struct execution_policy {
  uint32_t concurrency = 8;
  /// Per attempt.
  double timeout_seconds = 60.0;
  /// Per task, over all its attempts; nullopt for none.
  std::optional<double> deadline_seconds;
  /// For the whole run: then it is cancelled as by Ctrl+C.
  std::optional<double> run_deadline_seconds;
  /// AIMD on the number of calls in flight.
  bool adaptive = false;
  /// Tasks per batch (0: no batches), and the pause between batches.
  uint32_t batch_size = 0;
  double batch_pause_seconds = 0;
  /// Attempts per second for the whole run (0: no limit), and the burst.
  double rate_per_second = 0;
  uint32_t burst = 1;
  /// execution_policy.limits.max_line_bytes: the longest dataset line.
  uint64_t max_line_bytes = default_max_line_bytes;
  /// `troupe node`s whose workers join the run (--nodes wins), the
  /// supervisor's own workers next to them, and how long a run whose nodes
  /// are all gone waits for one to come back.
  std::vector<node_address> nodes;
  std::optional<uint32_t> local_workers;
  std::optional<double> node_grace_seconds;
};

/// An action at a given time since the start of the run (stub.events).
struct stub_event {
  enum kind_t {
    cancel,
    set_failure_rate,
    set_task_behavior,
    set_simulated_delay,
    clear_task_behaviors,
  };
  int64_t at_us = 0;
  kind_t kind = cancel;
  /// The failure rate, or the delay in seconds.
  double value = 0;
  /// For set_task_behavior: task id to behaviours.
  std::map<std::string, std::vector<stub_behavior>> behaviors;
};

/// The stub target's script.
struct stub_config {
  double simulated_delay_seconds = 0.0;
  double failure_rate = 0.0;
  uint64_t seed = 0;
  /// Task id to one behaviour per attempt (the last one repeats).
  std::map<std::string, std::vector<stub_behavior>> task_behaviors;
  /// Dataset name to the behaviours of its tasks that have none of their
  /// own.
  std::map<std::string, std::vector<stub_behavior>> dataset_behaviors;
  /// Scripted actions, in the order given.
  std::vector<stub_event> events;
};

/// A file that inputs name (`{"file": "path"}`), checked and hashed
/// before the run.
struct input_file {
  /// Resolved against the manifest's folder.
  std::string path;
  /// Dify's file type by the extension (which sets its size limit).
  std::string type;
  /// SHA-256 of the content (hex).
  std::string hash;
  uint64_t size = 0;
};

/// A whole manifest.
struct manifest {
  /// The file it was read from, as given.
  std::string path;
  std::string name;
  /// "sha256:<hex>" of the manifest's canonical JSON.
  std::string hash;
  target_config target;
  std::vector<dataset_config> datasets;
  /// The parameter sets as compact JSON objects; at least one ("{}").
  std::vector<std::string> parameters;
  execution_policy execution;
  retry_policy retry;
  stub_config stub;
  /// Dify targets: the files that inputs name, by the path as written,
  /// filled in by the pass over the datasets; empty when no input names a
  /// file.
  std::map<std::string, input_file> input_files;

  /// Number of tasks: every case times every parameter set.
  uint64_t task_count() const noexcept;
};

/// Caps set on the command line, over the manifest's own.
struct load_options {
  /// The largest manifest file (--max-manifest-bytes).
  uint64_t max_manifest_bytes = default_max_manifest_bytes;
  /// Overrides execution_policy.limits.max_line_bytes (--max-line-bytes).
  std::optional<uint64_t> max_line_bytes;
  /// Read and count the dataset files. A node (`troupe node`) parses the
  /// manifest it is sent without them: the datasets stay with the
  /// supervisor, and task_count() is 0.
  bool read_datasets = true;
};

/// The threads troupe keeps busy: TROUPE_THREADS (1 to 256) if set, for
/// benchmarks and machines shared with other work, else one per core.
unsigned wanted_threads();

/// Reads, checks and counts a manifest and its dataset files. Only regular
/// files are read: a FIFO or a device could feed it without end.
result<manifest> load_manifest(const std::string& path,
                               const load_options& opts = {});

/// Same, from text; `path` names the file in errors and anchors dataset paths.
result<manifest> parse_manifest(const std::string& text,
                                const std::string& path,
                                const load_options& opts = {});

/// Reads, checks and counts the datasets of `m`, loaded with read_datasets
/// off, as load_manifest would have: `m` with its counts, or the error.
result<manifest> read_datasets(manifest m);

/// Checks that `path` is a regular file of at most `max_bytes` (0: any
/// size); the error names `what` ("manifest", "dataset file").
std::optional<config_error> check_input_file(const std::string& path,
                                             const char* what,
                                             uint64_t max_bytes = 0);

} // namespace troupe::config
