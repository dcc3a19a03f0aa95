// Fuzzes the manifest parser (config::parse_manifest): any text gives a
// manifest or an error that names the file, never a crash.

#include "config/manifest.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace troupe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // Relative dataset files resolve against the fuzzer's working directory,
  // which tools/fuzz.sh keeps empty.
  auto parsed = config::parse_manifest(text, "fuzz.json");
  if (auto* err = std::get_if<config::config_error>(&parsed)) {
    fuzz::require(!err->message.empty(), "empty error message");
    return 0;
  }
  auto& m = std::get<config::manifest>(parsed);
  fuzz::require(!m.datasets.empty() && !m.parameters.empty(),
                "a manifest without datasets or parameter sets");
  for (auto& p : m.parameters)
    fuzz::require(fuzz::is_json(p), "parameter set is not JSON", p);
  for (auto& ds : m.datasets)
    for (auto& c : ds.cases)
      fuzz::require(fuzz::is_json(c.inputs_json), "inputs are not JSON",
                    c.inputs_json);
  return 0;
}
