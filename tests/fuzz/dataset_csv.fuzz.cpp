// Fuzzes the CSV dataset reader: a header row, then one case per record.

#include "tests/fuzz/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  troupe::fuzz::read_dataset(data, size, "fuzz.csv");
  return 0;
}
