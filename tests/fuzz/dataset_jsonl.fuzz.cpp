// Fuzzes the JSONL dataset reader: one case object per line.

#include "tests/fuzz/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  troupe::fuzz::read_dataset(data, size, "fuzz.jsonl");
  return 0;
}
