// Fuzzes the node batches' wire encoding (messages/wire.hpp), which a
// supervisor reads from its nodes and a node from its supervisor: any bytes
// either fail or give a task or result that encodes back to the bytes read.

#include "messages/task.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace troupe;

namespace {

template <class... Ts>
void round_trip(std::string_view bytes, Ts&... xs) {
  wire::reader in{bytes.data(), bytes.size()};
  in(xs...);
  if (in.failed())
    return;
  std::string again;
  wire::writer{again}(xs...);
  fuzz::require(again.size() <= bytes.size()
                  && bytes.substr(0, again.size()) == again,
                "the encoding differs from the bytes read", again);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes{reinterpret_cast<const char*>(data), size};
  indexed_result r;
  round_trip(bytes, r.idx, r.worker, r.result);
  indexed_task t;
  round_trip(bytes, t.idx, t.task);
  return 0;
}
