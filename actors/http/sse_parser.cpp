// Server-Sent Events, incrementally.

#include "actors/http/sse_parser.hpp"

namespace troupe {

void sse_parser::feed(std::string_view bytes, std::vector<sse_event>& out) {
  for (char c : bytes) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n')
        continue; // the LF of a CRLF split from its CR
    }
    if (c == '\r') {
      skip_lf_ = true;
      on_line(out);
    } else if (c == '\n') {
      on_line(out);
    } else {
      line_ += c;
    }
  }
}

void sse_parser::on_line(std::vector<sse_event>& out) {
  if (line_.empty()) {
    // A blank line dispatches; an event without data dispatches nothing.
    if (has_data_)
      out.push_back(sse_event{type_.empty() ? "message" : type_, data_});
    type_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line_[0] == ':') {
    line_.clear(); // a comment
    return;
  }
  std::string_view line{line_};
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
  line_.clear();
}

} // namespace troupe
