#pragma once

// The keys each kind of manifest object takes, in one table: the parser
// refuses any other key with it, and the schema test checks that
// config/manifest.schema.json lists the same keys at the same place.

#include <string_view>
#include <vector>

namespace troupe::config {

/// The kinds of JSON object a manifest holds.
enum class manifest_object {
  manifest,
  target,
  dataset,
  test_case,
  turn,
  expect,
  execution_policy,
  rate_limit,
  limits,
  retry_policy,
  stub,
  stub_event,
};

/// One kind of object: its keys and where the schema describes it.
struct object_keys {
  manifest_object kind;
  /// A JSON Pointer into config/manifest.schema.json ("/$defs/dataset").
  std::string_view schema_pointer;
  std::vector<std::string_view> keys;
};

/// Every kind of object, each once. A target's keys are those of every
/// type; target_keys_of() (target.hpp) says which type takes which.
const std::vector<object_keys>& manifest_objects();

/// The keys an object of `kind` may hold.
const std::vector<std::string_view>& keys_of(manifest_object kind);

} // namespace troupe::config
