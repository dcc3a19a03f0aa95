// The table of the keys each manifest object takes.

#include "config/manifest_keys.hpp"

#include "config/target.hpp"

namespace troupe::config {

const std::vector<object_keys>& manifest_objects() {
  using k = manifest_object;
  static const std::vector<object_keys> table{
    // "$schema" lets an editor find config/manifest.schema.json; the
    // parser ignores it.
    {k::manifest,
     "",
     {"name", "target", "datasets", "parameters", "execution_policy",
      "retry_policy", "stub", "$schema"}},
    {k::target, "/$defs/target", all_target_keys()},
    {k::dataset,
     "/$defs/dataset",
     {"name", "cases", "file", "weight", "expect"}},
    {k::test_case,
     "/$defs/case",
     {"id", "inputs", "query", "conversation_id", "expect", "turns"}},
    {k::turn, "/$defs/turn", {"query", "inputs", "expect"}},
    {k::expect,
     "/$defs/expect",
     {"contains", "not_contains", "regex", "equals", "json", "max_latency_ms"}},
    {k::execution_policy,
     "/$defs/execution_policy",
     {"concurrency", "timeout_seconds", "deadline_seconds",
      "run_deadline_seconds", "adaptive", "batch_size", "batch_pause_seconds",
      "rate_limit", "limits", "nodes", "local_workers", "node_grace_seconds"}},
    {k::rate_limit,
     "/$defs/rate_limit",
     {"requests_per_second", "requests_per_minute", "burst"}},
    {k::limits, "/$defs/limits", {"max_line_bytes"}},
    {k::retry_policy,
     "/$defs/retry_policy",
     {"max_attempts", "backoff_seconds", "backoff_multiplier",
      "max_backoff_seconds", "jitter"}},
    {k::stub,
     "/$defs/stub",
     {"simulated_delay_seconds", "failure_rate", "seed", "task_behaviors",
      "dataset_behaviors", "events"}},
    {k::stub_event,
     "/$defs/stub_event",
     {"at_ms", "cancel", "set_failure_rate", "set_task_behavior",
      "set_simulated_delay", "clear_task_behaviors"}},
  };
  return table;
}

const std::vector<std::string_view>& keys_of(manifest_object kind) {
  for (auto& x : manifest_objects())
    if (x.kind == kind)
      return x.keys;
  static const std::vector<std::string_view> none;
  return none;
}

} // namespace troupe::config
