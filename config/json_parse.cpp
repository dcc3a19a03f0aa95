// JSON parsed in one pass that also finds duplicate keys (json_checks.hpp).

#include "config/json_checks.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <string>
#include <utility>
#include <vector>

namespace json = boost::json;

namespace troupe::config {

namespace {

// A basic_parser handler that builds the tree as json::parser's does (a
// value_stack) and, in the same pass, keeps the keys of every open object
// to find the first one seen twice: Boost.JSON itself keeps one of two
// equal keys without a word, so a manifest's second "concurrency" would
// silently win. Its memory is kept from one document to the next.
class checked_handler {
public:
  static constexpr size_t max_object_size = json::object::max_size();
  static constexpr size_t max_array_size = json::array::max_size();
  static constexpr size_t max_key_size = json::string::max_size();
  static constexpr size_t max_string_size = json::string::max_size();

  json::value_stack st;
  /// The JSON path of the first key seen twice, if any.
  std::optional<std::string> found;

  bool on_document_begin(json::error_code&) {
    frames_.clear();
    keys_.clear();
    text_.clear();
    part_ = 0;
    found.reset();
    return true;
  }
  bool on_document_end(json::error_code&) {
    return true;
  }
  bool on_object_begin(json::error_code&) {
    return open(true);
  }
  bool on_object_end(size_t n, json::error_code&) {
    keys_.resize(frames_.back().keys);
    text_.resize(frames_.back().text);
    frames_.pop_back();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) {
    return open(false);
  }
  bool on_array_end(size_t n, json::error_code&) {
    frames_.pop_back();
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, size_t, json::error_code&) {
    text_.append(s.data(), s.size());
    part_ += s.size();
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, size_t, json::error_code&) {
    auto begin = text_.size() - part_;
    text_.append(s.data(), s.size());
    part_ = 0;
    std::string_view key{text_.data() + begin, text_.size() - begin};
    auto& f = frames_.back();
    bool seen = false;
    for (size_t i = f.keys; i < keys_.size() && !seen; ++i)
      seen = key == key_text(i);
    keys_.push_back({begin, key.size()});
    f.current = keys_.size() - 1;
    if (seen && !found)
      found = path();
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, size_t, json::error_code&) {
    enter_value();
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) {
    return true;
  }
  bool on_int64(int64_t i, json::string_view, json::error_code&) {
    enter_value();
    st.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, json::string_view, json::error_code&) {
    enter_value();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    enter_value();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    enter_value();
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    enter_value();
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) {
    return true;
  }
  bool on_comment(json::string_view, json::error_code&) {
    return true;
  }

private:
  struct frame {
    bool object;
    /// Where its keys start in keys_, and their bytes in text_.
    size_t keys;
    size_t text;
    /// Its key being read (an object), or its values so far (an array).
    size_t current;
    size_t index;
  };

  std::string_view key_text(size_t i) const {
    return {text_.data() + keys_[i].first, keys_[i].second};
  }
  // An object or an array begins: a frame of its own.
  bool open(bool object) {
    enter_value();
    frames_.push_back({object, keys_.size(), text_.size(), 0, 0});
    return true;
  }
  // A value inside an array moves the array's index on.
  void enter_value() {
    if (!frames_.empty() && !frames_.back().object)
      ++frames_.back().index;
  }
  std::string path() const {
    std::string out;
    for (auto& f : frames_)
      out = f.object ? join_path(out, key_text(f.current))
                     : index_path(out, f.index - 1);
    return out;
  }

  std::vector<frame> frames_;
  /// The keys of the open objects: offset and size in text_.
  std::vector<std::pair<size_t, size_t>> keys_;
  std::string text_;
  /// Bytes of the key being read that text_ holds already.
  size_t part_ = 0;
};

using checked_parser = json::basic_parser<checked_handler>;

// Parses `text` whole (as json::parser::write does): extra data after the
// document is an error too.
size_t parse_whole(checked_parser& p, std::string_view text,
                   json::error_code& ec) {
  auto n = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && n < text.size())
    ec = json::error::extra_data;
  return n;
}

} // namespace

std::optional<std::string> duplicate_key(std::string_view text,
                                         const json::parse_options& opts) {
  checked_parser p{opts};
  json::error_code ec;
  parse_whole(p, text, ec);
  return std::move(p.handler().found);
}

json::value parse_checked(std::string_view text, json::storage_ptr sp,
                          json::error_code& ec,
                          std::optional<std::string>& duplicate) {
  // One per thread: its stacks are reused from document to document.
  thread_local checked_parser p{json::parse_options{}};
  p.reset();
  p.handler().st.reset(std::move(sp));
  parse_whole(p, text, ec);
  if (ec) {
    // Now, while the values begun live in `sp`'s memory.
    p.reset();
    p.handler().st.reset();
    return nullptr;
  }
  duplicate = std::move(p.handler().found);
  return p.handler().st.release();
}

} // namespace troupe::config
