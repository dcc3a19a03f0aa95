#pragma once

// An incremental Server-Sent Events parser (WHATWG "event stream"
// interpretation): bytes in, in whatever pieces the network delivers them,
// events out. Handles LF, CRLF and CR line ends (also when a CRLF is split
// between reads), multi-line data, comments, and events without data (Dify's
// `event: ping`), which dispatch nothing.

#include <string>
#include <string_view>
#include <vector>

namespace troupe {

/// One dispatched event.
struct sse_event {
  /// The `event:` field, "message" when absent.
  std::string type;
  /// The `data:` lines, joined with "\n".
  std::string data;
};

/// Parses one stream.
class sse_parser {
public:
  /// Feeds the next bytes; complete events are appended to `out`.
  void feed(std::string_view bytes, std::vector<sse_event>& out);

  /// Bytes of an unfinished line or event held back.
  size_t pending() const noexcept {
    return line_.size() + data_.size();
  }

  /// Whether a started but unfinished event is pending (a stream cut short).
  bool mid_event() const noexcept {
    return !line_.empty() || has_data_ || !type_.empty();
  }

private:
  void on_line(std::string_view line, std::vector<sse_event>& out);

  std::string line_;
  std::string type_;
  std::string data_;
  bool has_data_ = false;
  bool skip_lf_ = false;
};

} // namespace troupe
