// Fuzzes the SSE parser: a stream fed whole and fed in pieces (the first
// byte picks the piece size) must give the same events.

#include "actors/http/sse_parser.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

using namespace troupe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  size_t piece = data[0] % 16 + 1;
  std::string_view bytes{reinterpret_cast<const char*>(data) + 1, size - 1};
  sse_parser whole;
  std::vector<sse_event> expected;
  whole.feed(bytes, expected);
  sse_parser split;
  std::vector<sse_event> got;
  for (size_t pos = 0; pos < bytes.size(); pos += piece)
    split.feed(bytes.substr(pos, piece), got);
  fuzz::require(got.size() == expected.size(), "event count differs");
  for (size_t i = 0; i < got.size(); ++i)
    fuzz::require(got[i].type == expected[i].type
                    && got[i].data == expected[i].data,
                  "event differs", got[i].data);
  fuzz::require(whole.pending() == split.pending()
                  && whole.mid_event() == split.mid_event(),
                "state differs");
  return 0;
}
