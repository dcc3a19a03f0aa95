// Fuzzes the JSONL dataset reader: one case object per line. Each line also
// goes to the plain case reader alone: whatever it accepts, the full parser
// must read the same way, every field reset alike.

#include "config/plain_case.hpp"

#include "tests/fuzz/dataset.hpp"
#include "tests/support/dirty_case.hpp"

#include <string_view>

namespace {

using troupe::test::dirty_case;

void compare_plain_with_full(std::string_view line) {
  auto plain = dirty_case();
  if (!troupe::config::parse_plain_case(line, plain))
    return;
  auto full = dirty_case();
  auto err = troupe::config::parse_case_full(line, "fuzz.jsonl", 1, "", full);
  using troupe::fuzz::require;
  require(!err, "the full parser refuses a plain case", line);
  require(plain.id == full.id, "the id differs", line);
  require(plain.inputs_json == full.inputs_json, "the inputs differ", line);
  require(plain.query == full.query && plain.query.empty(), "query", line);
  require(plain.conversation_id == full.conversation_id
            && plain.conversation_id.empty(),
          "conversation_id", line);
  require(plain.expect.empty() && full.expect.empty(), "expect", line);
  require(plain.turns.empty() && full.turns.empty(), "turns", line);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  while (!text.empty()) {
    auto end = text.find('\n');
    compare_plain_with_full(text.substr(0, end));
    if (end == std::string_view::npos)
      break;
    text.remove_prefix(end + 1);
  }
  troupe::fuzz::read_dataset(data, size, "fuzz.jsonl");
  return 0;
}
