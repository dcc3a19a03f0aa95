// Typed JSON access with path-naming errors.

#include "config/json_checks.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

namespace json = boost::json;

namespace troupe::config {

namespace {

std::string number_text(double x) {
  std::ostringstream out;
  out.precision(15);
  out << x;
  return out.str();
}

const char* kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

bool all_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (auto& x : v.get_array())
        if (!all_finite(x))
          return false;
      return true;
    case json::kind::object:
      for (auto& kv : v.get_object())
        if (!all_finite(kv.value()))
          return false;
      return true;
    default:
      return true;
  }
}

} // namespace

std::string describe(const json::value& v) {
  if (v.is_double())
    return number_text(v.get_double());
  auto text = json::serialize(v);
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  if (v.is_array() || v.is_object())
    return std::string{kind_name(v)} + " " + text;
  return text;
}

std::string join_path(const std::string& path, std::string_view key) {
  if (path.empty())
    return std::string{key};
  std::string result = path;
  result += '.';
  result += key;
  return result;
}

std::string index_path(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

json::value parse_relaxed(std::string_view text, const std::string& where) {
  json::parse_options opts;
  opts.allow_comments = true;
  opts.allow_trailing_commas = true;
  json::stream_parser p{json::storage_ptr{}, opts};
  json::error_code ec;
  size_t consumed = p.write(text.data(), text.size(), ec);
  if (!ec)
    p.finish(ec);
  if (ec) {
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < consumed && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    throw check_failure(where + ":" + std::to_string(line) + ":"
                        + std::to_string(column) + ": invalid JSON ("
                        + ec.message() + ")");
  }
  if (auto key = duplicate_key(text, opts))
    throw check_failure(where + ": " + *key
                        + ": duplicate key (each key may appear once in an "
                          "object)");
  return p.release();
}

void checker::fail(const std::string& path, const std::string& what) const {
  if (path.empty())
    throw check_failure(where_ + ": " + what);
  throw check_failure(where_ + ": " + path + ": " + what);
}

void checker::fail(const std::string& path, const std::string& what,
                   const json::value& got) const {
  fail(path, what + ", got " + describe(got));
}

const json::object& checker::object(const json::value& v,
                                    const std::string& path) const {
  if (!v.is_object())
    fail(path, "must be an object", v);
  return v.get_object();
}

const json::array& checker::array(const json::value& v,
                                  const std::string& path) const {
  if (!v.is_array())
    fail(path, "must be an array", v);
  return v.get_array();
}

void checker::only_keys(const json::object& obj, const std::string& path,
                        std::initializer_list<std::string_view> allowed) const {
  only_keys(obj, path, std::vector<std::string_view>{allowed});
}

void checker::only_keys(const json::object& obj, const std::string& path,
                        const std::vector<std::string_view>& allowed) const {
  for (auto& kv : obj) {
    bool known = false;
    for (auto& k : allowed)
      if (kv.key() == k)
        known = true;
    if (!known) {
      std::string list;
      for (auto& k : allowed) {
        if (!list.empty())
          list += ", ";
        list += k;
      }
      fail(join_path(path, kv.key()),
           "unknown key (expected one of: " + list + ")");
    }
  }
}

const json::value& checker::required(const json::object& obj,
                                     const std::string& path,
                                     std::string_view key) const {
  auto i = obj.find(key);
  if (i == obj.end())
    fail(join_path(path, key), "missing key");
  return i->value();
}

std::string checker::string(const json::value& v, const std::string& path,
                            bool allow_empty) const {
  if (!v.is_string())
    fail(path, "must be a string", v);
  auto& s = v.get_string();
  if (s.empty() && !allow_empty)
    fail(path, "must be a non-empty string", v);
  return std::string{s};
}

int64_t checker::integer(const json::value& v, const std::string& path,
                         int64_t min, int64_t max) const {
  auto expected = [&] {
    if (max == INT64_MAX)
      return "must be an integer >= " + std::to_string(min);
    return "must be an integer from " + std::to_string(min) + " to "
           + std::to_string(max);
  };
  int64_t x = 0;
  if (v.is_int64()) {
    x = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(INT64_MAX))
      fail(path, expected(), v);
    x = static_cast<int64_t>(v.get_uint64());
  } else if (v.is_double() && std::floor(v.get_double()) == v.get_double()
             && std::fabs(v.get_double()) < 9e15) {
    x = static_cast<int64_t>(v.get_double());
  } else {
    fail(path, expected(), v);
  }
  if (x < min || x > max)
    fail(path, expected(), v);
  return x;
}

double checker::number(const json::value& v, const std::string& path,
                       double min, double max, bool min_exclusive) const {
  auto expected = [&] {
    std::string s = "must be a number ";
    s += min_exclusive ? "> " : ">= ";
    s += number_text(min);
    if (std::isfinite(max))
      s += " and <= " + number_text(max);
    return s;
  };
  if (!v.is_number())
    fail(path, expected(), v);
  double x = v.to_number<double>();
  if (!std::isfinite(x) || x < min || x > max || (min_exclusive && x == min))
    fail(path, expected(), v);
  return x;
}

bool checker::boolean(const json::value& v, const std::string& path) const {
  if (!v.is_bool())
    fail(path, "must be true or false", v);
  return v.get_bool();
}

void checker::finite_numbers(const json::value& v,
                             const std::string& path) const {
  // A quick pass first: paths are built only to name a bad number.
  if (all_finite(v))
    return;
  switch (v.kind()) {
    case json::kind::double_:
      if (!std::isfinite(v.get_double()))
        fail(path, "number out of range (beyond +-1.8e308)");
      break;
    case json::kind::array: {
      auto& arr = v.get_array();
      for (size_t i = 0; i < arr.size(); ++i)
        finite_numbers(arr[i], index_path(path, i));
      break;
    }
    case json::kind::object:
      for (auto& kv : v.get_object())
        finite_numbers(kv.value(), join_path(path, kv.key()));
      break;
    default:
      break;
  }
}

} // namespace troupe::config
