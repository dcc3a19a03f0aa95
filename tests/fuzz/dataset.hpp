#pragma once

// The dataset harnesses' common body: reads every case of an in-memory
// JSONL or CSV file through config::case_reader.

#include "config/dataset_reader.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace troupe::fuzz {

/// Reads the cases of `data` as the dataset file `name`.
inline void read_dataset(const uint8_t* data, size_t size,
                         const std::string& name) {
  if (size == 0)
    return; // fmemopen refuses an empty buffer
  auto* stream = ::fmemopen(const_cast<uint8_t*>(data), size, "rb");
  if (stream == nullptr)
    return;
  config::dataset_config ds;
  ds.name = "fuzz";
  ds.file = name;
  config::case_reader reader{ds, stream};
  config::case_config c;
  while (reader.next(c)) {
    require(!c.id.empty(), "a case without an id");
    require(is_json(c.inputs_json), "inputs are not JSON", c.inputs_json);
  }
  if (auto& err = reader.error())
    require(err->message.compare(0, name.size(), name) == 0,
            "the error does not name the file", err->message);
}

} // namespace troupe::fuzz
