#pragma once

// A dataset case with every field set, for the readers' tests and fuzzing:
// a reader that forgets to reset a field it did not read shows.

#include "config/manifest.hpp"

namespace troupe::test {

inline config::case_config dirty_case() {
  config::case_config c;
  c.id = "old";
  c.inputs_json = R"({"old":1})";
  c.query = "old query";
  c.conversation_id = "old conversation";
  c.expect.contains.push_back("old");
  c.turns.emplace_back();
  return c;
}

} // namespace troupe::test
