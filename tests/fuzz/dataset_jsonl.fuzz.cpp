// Fuzzes the JSONL dataset reader: one case object per line. The input's
// first line also goes to the plain case reader alone: whatever it accepts,
// the full parser must read the same way.

#include "config/plain_case.hpp"

#include "tests/fuzz/dataset.hpp"

#include <string_view>

namespace {

void compare_plain_with_full(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  text = text.substr(0, text.find('\n'));
  troupe::config::case_config plain;
  if (!troupe::config::parse_plain_case(text, plain))
    return;
  troupe::config::case_config full;
  full.query = "not reset";
  auto err = troupe::config::parse_case_full(text, "fuzz.jsonl", 1, "", full);
  using troupe::fuzz::require;
  require(!err, "the full parser refuses a plain case", text);
  require(plain.id == full.id, "the id differs", text);
  require(plain.inputs_json == full.inputs_json, "the inputs differ", text);
  require(full.query.empty() && plain.query.empty(), "a query", text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  compare_plain_with_full(data, size);
  troupe::fuzz::read_dataset(data, size, "fuzz.jsonl");
  return 0;
}
