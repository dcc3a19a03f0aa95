// Results files, read back: the file, its lines, and the index.

#include "runtime/results_file.hpp"

#include "actors/results/result_fields.hpp"
#include "messages/fnv1a.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace json = boost::json;

namespace troupe::runtime {

namespace {

/// The longest line a results file may hold: a result's output is capped
/// at target.max_response_bytes (256 MiB at most), escaped at most 6-fold.
constexpr size_t max_results_line_bytes = size_t{2} << 30;

using line_fn = std::function<void(std::string_view, uint32_t, bool)>;

// Calls f(line, line number, complete?) for each line of an open file.
bool for_each_line(std::FILE* file, const std::string& path, const line_fn& f,
                   std::string& error) {
  std::vector<char> buf(1 << 16);
  std::string line;
  uint32_t number = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), file)) > 0) {
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        line.append(buf.data() + start, i - start);
        f(line, ++number, true);
        line.clear();
        start = i + 1;
      }
    }
    line.append(buf.data() + start, n - start);
    // A file without line breaks must not fill memory.
    if (line.size() > max_results_line_bytes) {
      error = path + ":" + std::to_string(number + 1) + ": line longer than "
              + std::to_string(max_results_line_bytes)
              + " bytes; is this a troupe results file?";
      return false;
    }
  }
  if (std::ferror(file)) {
    error = path + ": cannot read results file";
    return false;
  }
  if (!line.empty())
    f(line, ++number, false);
  return true;
}

// The same for the file at `path`.
bool for_each_line(const std::string& path, const line_fn& f,
                   std::string& error) {
  if (auto err = config::check_input_file(path, "results file")) {
    error = err->message;
    return false;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    error = path + ": cannot open results file (" + std::strerror(errno) + ")";
    return false;
  }
  bool ok = for_each_line(file, path, f, error);
  std::fclose(file);
  return ok;
}

} // namespace

uint64_t task_hash(std::string_view task_id) noexcept {
  return troupe_hash(task_id);
}

config::result<results_index> results_index::read(const std::string& path,
                                                  bool strict) {
  if (auto err = config::check_input_file(path, "results file"))
    return *err;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr)
    return config::config_error{path + ": cannot open results file ("
                                + std::strerror(errno) + ")"};
  auto result = read(file, path, strict);
  std::fclose(file);
  return result;
}

// Reads lines into an index: the header line first, then the result lines,
// the last one of each task winning.
struct results_index::builder {
  results_index idx;
  bool strict;
  std::string error;
  std::vector<entry> all;
  bool seen_header = false;
  std::string partial_start;

  void on_line(std::string_view line, uint32_t number, bool complete) {
    if (!error.empty())
      return;
    if (!complete) {
      idx.partial_bytes_ = line.size();
      partial_start = line.substr(0, header_line_prefix.size());
      return;
    }
    idx.complete_bytes_ += line.size() + 1;
    json::error_code ec;
    auto v = parse_results_json(line, ec);
    if (!seen_header && (ec || !v.is_object()))
      error = where(number)
              + ": not a troupe results file: expected a JSON header line "
                "({\"type\": \"header\", ...})";
    else if (ec || !v.is_object())
      broken(number, ": not a JSON object; a results file holds one per line");
    else if (!seen_header)
      on_first(v.get_object());
    else
      on_next(v.get_object(), number);
  }

  void on_first(const json::object& o) {
    if (!parse_header_line(o, idx.header_)) {
      error = idx.path_
              + ":1: expected a header line ({\"type\": \"header\", "
                "...}); is this a troupe results file?";
      return;
    }
    seen_header = true;
    idx.runs_ = 1;
  }

  void on_next(const json::object& o, uint32_t number) {
    auto type = line_type(o);
    if (type == line_type_of(header_line_prefix)) {
      ++idx.runs_;
      return;
    }
    if (type != line_type_of(result_line_prefix))
      return;
    result_key key;
    if (parse_result_key(o, key))
      all.push_back({task_hash(key.task_id), number, key.status});
    else
      broken(number, ": a result line needs task_id and status");
  }

  // An error when strict (resume), a count otherwise (report).
  void broken(uint32_t number, const char* what) {
    if (strict)
      error = where(number) + what;
    else
      ++idx.broken_lines_;
  }

  std::string where(uint32_t number) const {
    return idx.path_ + ":" + std::to_string(number);
  }

  config::result<results_index> finish() {
    if (!error.empty())
      return config::config_error{error};
    // A partial first line must have got as far as the header's type (its
    // closing quote may be cut off).
    auto start = header_line_prefix.substr(0, header_line_prefix.size() - 1);
    if (!seen_header && idx.partial_bytes_ > 0
        && partial_start.compare(0, start.size(), start) != 0)
      return config::config_error{
        idx.path_
        + ": not a troupe results file: " + std::to_string(idx.partial_bytes_)
        + " bytes without a line break, and no JSON header line"};
    if (!seen_header)
      return config::config_error{idx.path_
                                  + ": empty results file (no header line)"};
    std::stable_sort(all.begin(), all.end(),
                     [](auto& x, auto& y) { return x.hash < y.hash; });
    for (size_t i = 0; i < all.size(); ++i)
      if (i + 1 == all.size() || all[i + 1].hash != all[i].hash)
        idx.entries_.push_back(all[i]);
    return std::move(idx);
  }
};

config::result<results_index>
results_index::read(std::FILE* file, const std::string& path, bool strict) {
  builder b;
  b.idx.path_ = path;
  b.strict = strict;
  std::string error;
  auto on_line = [&](std::string_view line, uint32_t number, bool complete) {
    b.on_line(line, number, complete);
  };
  if (!for_each_line(file, path, on_line, error))
    return config::config_error{error};
  return b.finish();
}

std::optional<task_status>
results_index::last_status(const std::string& task_id) const {
  auto h = task_hash(task_id);
  auto i = std::lower_bound(entries_.begin(), entries_.end(), h,
                            [](auto& e, uint64_t x) { return e.hash < x; });
  if (i == entries_.end() || i->hash != h)
    return std::nullopt;
  return i->status;
}

bool results_index::for_each_last(
  const std::function<void(task_result&)>& f) const {
  std::string error;
  task_result r;
  auto on_line = [&](std::string_view line, uint32_t number, bool complete) {
    if (!complete)
      return;
    json::error_code ec;
    auto v = parse_results_json(line, ec);
    if (ec || !v.is_object() || !parse_result_line(v.get_object(), r))
      return;
    auto h = task_hash(r.task_id);
    auto i = std::lower_bound(entries_.begin(), entries_.end(), h,
                              [](auto& e, uint64_t x) { return e.hash < x; });
    if (i != entries_.end() && i->hash == h && i->line == number)
      f(r);
  };
  return for_each_line(path_, on_line, error);
}

} // namespace troupe::runtime
