// Server-Sent Events, incrementally.

#include "actors/http/sse_parser.hpp"

namespace troupe {

// A line that lies whole within `bytes` is read in place; only a line cut
// by the end of `bytes` is kept (in line_) for the next call.
void sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  size_t i = 0;
  while (i < bytes.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[i] == '\n') {
        ++i; // the LF of a CRLF split from its CR
        continue;
      }
    }
    auto end = i;
    while (end < bytes.size() && bytes[end] != '\r' && bytes[end] != '\n')
      ++end;
    auto part = bytes.substr(i, end - i);
    if (end == bytes.size()) {
      line_.append(part);
      return;
    }
    skip_lf_ = bytes[end] == '\r';
    if (line_.empty()) {
      on_line(part, out);
    } else {
      line_.append(part);
      on_line(line_, out);
      line_.clear();
    }
    i = end + 1;
  }
}

void sse_parser::on_line(std::string_view line, std::vector<sse_event>& out) {
  if (line.empty()) {
    // A blank line dispatches; an event without data dispatches nothing.
    if (has_data_)
      out.push_back(
        sse_event{type_.empty() ? "message" : type_, std::move(data_)});
    type_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line[0] == ':')
    return; // a comment
  auto colon = line.find(':');
  auto field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_)
      data_ += '\n';
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    type_.assign(value);
  }
  // "id" and "retry" do not matter here; other fields are ignored.
}

} // namespace troupe
