// Fuzzes the Dify (and http target) response classifier: an HTTP status,
// headers and a body, blocking or as an SSE stream, always give a reply
// whose output is valid JSON.
//
// Input: byte 0 flags (bits 0-1 target kind, 2 streaming, 3 stop requested,
// 4 transport error, 5 response too large), bytes 1-2 the HTTP status (big
// endian, mod 600), then a line "Retry-After<TAB>output_pointer", then the
// body.

#include "actors/http/dify_protocol.hpp"

#include "tests/fuzz/fuzz_support.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace troupe;

namespace {

void check(const attempt_reply& r) {
  if (!r.output_json.empty())
    fuzz::require(fuzz::is_json(r.output_json), "output is not JSON",
                  r.output_json);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3)
    return 0;
  uint8_t flags = data[0];
  http_target t;
  t.kind = static_cast<target_kind>(flags & 3);
  t.streaming = (flags & 4) != 0 && t.kind != target_kind::http;
  bool stop_requested = (flags & 8) != 0;
  http_outcome o;
  o.status = (data[1] << 8 | data[2]) % 600;
  if ((flags & 16) != 0) {
    o.transport_error = 56;
    o.transport_message = "Failure when receiving data from the peer";
  }
  o.too_large = (flags & 32) != 0;
  std::string_view rest{reinterpret_cast<const char*>(data) + 3, size - 3};
  auto nl = rest.find('\n');
  auto meta = rest.substr(0, nl);
  rest
    = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  auto tab = meta.find('\t');
  o.retry_after = std::string{meta.substr(0, tab)};
  if (tab != std::string_view::npos)
    t.output_pointer = std::string{meta.substr(tab + 1)};
  o.body = std::string{rest};
  const int64_t now = 1'764'000'000;
  if (t.streaming && o.status == 200) {
    // As the executor does: events as they come, then the end of the stream.
    sse_parser parser;
    dify_stream stream{t.kind};
    std::vector<sse_event> events;
    for (size_t pos = 0; pos < rest.size(); pos += 64) {
      events.clear();
      parser.feed(rest.substr(pos, 64), events);
      for (auto& e : events)
        stream.on_event(e);
    }
    check(stream.finish(o, stop_requested, now));
  } else {
    check(classify_response(t, o, now));
  }
  parse_retry_after(o.retry_after, now);
  return 0;
}
