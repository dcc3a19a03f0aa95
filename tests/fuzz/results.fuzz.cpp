// Fuzzes the results reader behind --resume and `report`: the index read
// strictly and leniently, then every line as `report` reads it, summed up,
// and written again as a result line, which must be valid JSON.

#include "actors/results/result_line.hpp"
#include "actors/results/result_line_reader.hpp"
#include "actors/supervisor/run_stats.hpp"
#include "runtime/results_file.hpp"

#include <boost/json/value.hpp>

#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

using namespace troupe;

namespace {

void read_index(const uint8_t* data, size_t size, bool strict) {
  auto* file = ::fmemopen(const_cast<uint8_t*>(data), size, "rb");
  if (file == nullptr)
    return;
  auto idx = runtime::results_index::read(file, "fuzz.jsonl", strict);
  std::fclose(file);
  if (auto* err = std::get_if<config::config_error>(&idx))
    fuzz::require(err->message.compare(0, 10, "fuzz.jsonl") == 0,
                  "the error does not name the file", err->message);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0; // fmemopen refuses an empty buffer
  read_index(data, size, true);
  read_index(data, size, false);
  std::string_view text{reinterpret_cast<const char*>(data), size};
  run_stats stats;
  std::string out;
  task_result r;
  size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos)
      break; // a partial last line is left out, as in for_each_last
    auto line = text.substr(pos, nl - pos);
    pos = nl + 1;
    boost::json::error_code ec;
    auto v = parse_results_json(line, ec);
    if (ec || !v.is_object() || !parse_result_line(v.get_object(), r))
      continue;
    stats.add(r);
    out.clear();
    append_result_line(out, r, 0);
    fuzz::require(fuzz::is_json(out), "result line is not JSON", out);
  }
  auto summary = encode_summary(stats.summary(), 0, true);
  fuzz::require(fuzz::is_json(summary), "summary is not JSON", summary);
  return 0;
}
