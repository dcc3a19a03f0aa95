// Streams dataset cases from inline arrays, JSONL files and CSV files.

#include "config/dataset_reader.hpp"

#include "config/expect.hpp"
#include "config/json_checks.hpp"
#include "config/manifest_keys.hpp"
#include "config/plain_case.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace json = boost::json;

namespace troupe::config {

namespace {

constexpr size_t read_chunk = 1 << 16;

// Case ids may come as numbers in JSONL and CSV files; they become strings.
std::string case_id_of(const checker& chk, const json::value& v,
                       const std::string& path) {
  if (v.is_int64() || v.is_uint64())
    return json::serialize(v);
  auto id = chk.string(v, path);
  for (char c : id)
    if (static_cast<unsigned char>(c) < 0x20)
      chk.fail(path, "must not hold control characters", v);
  return id;
}

// The error for a CSV field that is not UTF-8 (a file saved as Latin-1).
std::string not_utf8(size_t column, const char* of = "") {
  return "column " + std::to_string(column + 1) + of
         + " is not valid UTF-8 (save the file as UTF-8)";
}

} // namespace

std::optional<config_error>
parse_case_into(std::string_view json_text, const std::string& file,
                uint64_t line, const std::string& path, case_config& out) {
  if (parse_plain_case(json_text, out))
    return std::nullopt;
  return parse_case_full(json_text, file, line, path, out);
}

std::optional<config_error>
parse_case_full(std::string_view json_text, const std::string& file,
                uint64_t line, const std::string& path, case_config& out) {
  // One parser per thread (parse_checked's), its memory reused from line
  // to line: a dataset of a million lines costs no allocation per line for
  // the JSON tree, and one pass both builds it and finds duplicate keys.
  thread_local unsigned char scratch[16384];
  try {
    json::monotonic_resource mr{scratch, sizeof(scratch)};
    json::error_code ec;
    std::optional<std::string> duplicate;
    auto v = parse_checked(json_text, &mr, ec, duplicate);
    auto where
      = [&] { return line == 0 ? file : file + ":" + std::to_string(line); };
    if (ec)
      checker{where()}.fail(path, "invalid JSON (" + ec.message() + ")");
    if (duplicate)
      checker{where()}.fail(join_path(path, *duplicate),
                            "duplicate key (each key may appear once in an "
                            "object)");
    if (!v.is_object() || v.get_object().size() > 5
        || !v.get_object().contains("id")) {
      // The slow path, for its precise error messages.
      checker chk{where()};
      auto& obj = chk.object(v, path);
      chk.only_keys(obj, path, keys_of(manifest_object::test_case));
      chk.required(obj, path, "id");
    }
    auto& obj = v.get_object();
    for (auto& kv : obj) {
      auto key = kv.key();
      if (key == "id") {
        auto& id = kv.value();
        if (id.is_string() && !id.get_string().empty()
            && std::none_of(
              id.get_string().begin(), id.get_string().end(),
              [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
          out.id = id.get_string();
        else
          out.id = case_id_of(checker{where()}, id, join_path(path, "id"));
      } else if (key == "inputs") {
        if (!kv.value().is_object())
          checker{where()}.fail(join_path(path, "inputs"), "must be an object",
                                kv.value());
        checker{where()}.finite_numbers(kv.value(), join_path(path, "inputs"));
        out.inputs_json = json::serialize(kv.value());
      } else if (key == "query") {
        if (!kv.value().is_string())
          checker{where()}.fail(join_path(path, "query"), "must be a string",
                                kv.value());
        out.query = kv.value().get_string();
      } else if (key == "conversation_id") {
        if (!kv.value().is_string())
          checker{where()}.fail(join_path(path, "conversation_id"),
                                "must be a string", kv.value());
        out.conversation_id = kv.value().get_string();
      } else if (key == "expect") {
        out.expect = parse_expect(checker{where()}, kv.value(),
                                  join_path(path, "expect"));
      } else if (key == "turns") {
        checker chk{where()};
        out.turns = parse_turns(chk, kv.value(), join_path(path, "turns"));
        for (auto other : {"query", "expect"})
          if (obj.contains(other))
            chk.fail(join_path(path, other),
                     "a case with \"turns\" gives each turn its own query "
                     "and expect, expected it inside the turns");
      } else {
        checker{where()}.only_keys(obj, path,
                                   keys_of(manifest_object::test_case));
      }
    }
    if (!obj.contains("expect"))
      out.expect = expectation{};
    if (!obj.contains("inputs"))
      out.inputs_json = "{}";
    if (!obj.contains("query"))
      out.query.clear();
    if (!obj.contains("conversation_id"))
      out.conversation_id.clear();
    if (!obj.contains("turns"))
      out.turns.clear();
    return std::nullopt;
  } catch (const check_failure& e) {
    return config_error{e.what()};
  }
}

result<case_config> parse_case(const std::string& json_text,
                               const std::string& where,
                               const std::string& path) {
  case_config c;
  if (auto err = parse_case_into(json_text, where, 0, path, c))
    return *err;
  return c;
}

case_reader::case_reader(const dataset_config& ds) : ds_(ds) {
  if (ds_.file.empty())
    return;
  if (auto err = check_input_file(ds_.file, "dataset file")) {
    error_ = std::move(err);
    return;
  }
  file_ = std::fopen(ds_.file.c_str(), "rb");
  if (file_ == nullptr) {
    error_ = config_error{ds_.file + ": cannot open dataset file ("
                          + std::strerror(errno) + ")"};
    return;
  }
  start();
}

case_reader::case_reader(const dataset_config& ds, std::FILE* stream)
  : ds_(ds), file_(stream) {
  start();
}

case_reader::case_reader(const dataset_config& ds, uint64_t begin, uint64_t end,
                         uint64_t first_line)
  : ds_(ds),
    remaining_(end == UINT64_MAX ? UINT64_MAX : end - begin),
    line_(first_line - 1) {
  file_ = std::fopen(ds_.file.c_str(), "rb");
  if (file_ == nullptr
      || ::fseeko(file_, static_cast<off_t>(begin), SEEK_SET) != 0) {
    error_ = config_error{ds_.file + ": cannot open dataset file ("
                          + std::strerror(errno) + ")"};
    return;
  }
  // A byte order mark can only open the file.
  started_ = begin > 0;
  buf_.resize(read_chunk);
}

// Reads the CSV header row, if any, from the open file.
void case_reader::start() {
  csv_ = is_csv_file(ds_.file);
  buf_.resize(read_chunk);
  if (csv_) {
    if (!read_csv_record(csv_header_)) {
      if (!error_)
        fail("empty CSV file, expected a header row");
      return;
    }
    bool has_id = false;
    for (size_t i = 0; i < csv_header_.size(); ++i) {
      if (!valid_utf8(csv_header_[i]))
        fail(not_utf8(i, " of the header row"));
      if (csv_header_[i].empty())
        fail("column " + std::to_string(i + 1) + " has an empty name");
      for (size_t j = 0; j < i; ++j)
        if (csv_header_[j] == csv_header_[i])
          fail("duplicate column \"" + csv_header_[i] + "\"");
      if (csv_header_[i] == "id")
        has_id = true;
    }
    if (!has_id && !error_)
      fail("missing column \"id\" in the header row");
  }
}

case_reader::~case_reader() {
  if (file_ != nullptr)
    std::fclose(file_);
}

bool case_reader::fail(const std::string& what) {
  if (!error_)
    error_ = config_error{ds_.file + ":" + std::to_string(record_line_) + ": "
                          + what};
  return false;
}

bool case_reader::next(case_config& out) {
  if (error_)
    return false;
  if (ds_.file.empty()) {
    if (inline_pos_ >= ds_.cases.size())
      return false;
    out = ds_.cases[inline_pos_++];
    return true;
  }
  return csv_ ? next_csv(out) : next_jsonl(out);
}

bool case_reader::read_line(std::string& out) {
  out.clear();
  for (;;) {
    if (buf_pos_ == buf_len_) {
      if (eof_)
        return !out.empty();
      buf_len_ = std::fread(
        buf_.data(), 1,
        static_cast<size_t>(std::min<uint64_t>(buf_.size(), remaining_)),
        file_);
      remaining_ -= buf_len_;
      buf_pos_ = 0;
      // A UTF-8 byte order mark, as Excel's "CSV UTF-8" writes, is not
      // part of the first line (else the header's first column would be
      // "\xEF\xBB\xBFid", and no case would have an id).
      if (!started_) {
        started_ = true;
        if (buf_len_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0)
          buf_pos_ = 3;
      }
      if (buf_len_ == 0) {
        if (std::ferror(file_)) {
          record_line_ = line_ + 1;
          return fail(std::string{"read error ("} + std::strerror(errno) + ")");
        }
        eof_ = true;
        if (out.empty())
          return false;
        ++line_;
        return true;
      }
    }
    auto* begin = buf_.data() + buf_pos_;
    auto* nl
      = static_cast<char*>(std::memchr(begin, '\n', buf_len_ - buf_pos_));
    auto n
      = nl == nullptr ? buf_len_ - buf_pos_ : static_cast<size_t>(nl - begin);
    // A file without line breaks (or a runaway line) must not fill memory.
    if (out.size() + n > ds_.max_line_bytes + 1) {
      record_line_ = line_ + 1;
      return fail("line longer than the limit of "
                  + std::to_string(ds_.max_line_bytes)
                  + " bytes (execution_policy.limits.max_line_bytes, or "
                    "--max-line-bytes, raises it)");
    }
    if (nl == nullptr) {
      out.append(begin, n);
      buf_pos_ = buf_len_;
      continue;
    }
    out.append(begin, nl);
    buf_pos_ += static_cast<size_t>(nl - begin) + 1;
    ++line_;
    if (!out.empty() && out.back() == '\r')
      out.pop_back();
    return true;
  }
}

bool case_reader::next_jsonl(case_config& out) {
  while (read_line(scratch_)) {
    record_line_ = line_;
    auto pos = scratch_.find_first_not_of(" \t");
    if (pos == std::string::npos)
      continue; // blank lines are allowed
    if (auto err = parse_case_into(scratch_, ds_.file, record_line_, "", out)) {
      error_ = std::move(*err);
      return false;
    }
    return true;
  }
  return false;
}

// Reads one RFC 4180 record; quoted fields may hold commas, quotes ("") and
// line breaks.
bool case_reader::read_csv_record(std::vector<std::string>& fields) {
  fields.clear();
  std::string line;
  do {
    if (!read_line(line))
      return false;
  } while (line.empty());
  record_line_ = line_;
  std::string field;
  bool quoted = false;
  bool was_quoted = false;
  size_t i = 0;
  for (;;) {
    if (i == line.size()) {
      if (quoted) {
        // The quoted field goes on on the next line.
        field += '\n';
        if (!read_line(line))
          return error_ ? false : fail("unterminated quoted field");
        if (field.size() + line.size() > ds_.max_line_bytes)
          return fail("record longer than the limit of "
                      + std::to_string(ds_.max_line_bytes)
                      + " bytes (execution_policy.limits.max_line_bytes, or "
                        "--max-line-bytes, raises it)");
        i = 0;
        continue;
      }
      fields.push_back(std::move(field));
      return true;
    }
    char c = line[i++];
    if (quoted) {
      if (c == '"') {
        if (i < line.size() && line[i] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (was_quoted) {
      return fail("unexpected character after a quoted field in column "
                  + std::to_string(fields.size() + 1));
    } else {
      field += c;
    }
  }
}

bool case_reader::next_csv(case_config& out) {
  std::vector<std::string> fields;
  if (!read_csv_record(fields))
    return false;
  if (fields.size() != csv_header_.size())
    return fail("expected " + std::to_string(csv_header_.size())
                + " columns as in the header row, got "
                + std::to_string(fields.size()));
  case_config c;
  json::object inputs;
  for (size_t i = 0; i < fields.size(); ++i) {
    auto& name = csv_header_[i];
    // The fields become JSON (inputs, the task id in the results file).
    if (!valid_utf8(fields[i]))
      return fail(not_utf8(i));
    if (name == "id") {
      if (fields[i].empty())
        return fail("id: must be a non-empty string");
      c.id = fields[i];
    } else if (name == "query") {
      c.query = fields[i];
    } else if (name == "conversation_id") {
      c.conversation_id = fields[i];
    } else if (name == "expect") {
      // A JSON object, as in a JSONL case; empty for none.
      if (!fields[i].empty()) {
        try {
          checker chk{ds_.file + ":" + std::to_string(record_line_)};
          auto v = parse_relaxed(fields[i], chk.where());
          c.expect = parse_expect(chk, v, "expect");
        } catch (const check_failure& e) {
          error_ = config_error{e.what()};
          return false;
        }
      }
    } else {
      inputs[name] = fields[i];
    }
  }
  c.inputs_json = json::serialize(inputs);
  out = std::move(c);
  return true;
}

} // namespace troupe::config
