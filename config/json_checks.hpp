#pragma once

// Typed access to parsed JSON with errors that name the file, the JSON path
// and what was expected (internal to config/).

#include "config/manifest.hpp"

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::config {

/// Thrown inside config/ and turned into a config_error at its boundary.
struct check_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Compact JSON of `v`, shortened for error messages.
std::string describe(const boost::json::value& v);

/// Joins a path and a key: ("", "a") -> "a", ("a", "b") -> "a.b".
std::string join_path(const std::string& path, std::string_view key);

/// Appends an index: ("a", 2) -> "a[2]".
std::string index_path(const std::string& path, size_t i);

/// Parses JSON that may hold // and /* */ comments and trailing commas.
/// Errors name `where` and the line and column.
boost::json::value parse_relaxed(std::string_view text,
                                 const std::string& where);

/// The JSON path of the first key that one object of `text` holds twice
/// ("target.type"), or nullopt. `text` parses under `opts`.
std::optional<std::string>
duplicate_key(std::string_view text, const boost::json::parse_options& opts);

/// Parses `text` (strict JSON) into `sp`'s memory, as json::parser would,
/// and finds the first key held twice by one object in the same pass: its
/// path goes to `duplicate`. On invalid JSON `ec` is set and the value is
/// null.
boost::json::value parse_checked(std::string_view text,
                                 boost::json::storage_ptr sp,
                                 boost::json::error_code& ec,
                                 std::optional<std::string>& duplicate);

/// Checks and reads values under one error prefix ("manifest.json").
class checker {
public:
  explicit checker(std::string where) : where_(std::move(where)) {}

  [[noreturn]] void fail(const std::string& path,
                         const std::string& what) const;

  [[noreturn]] void fail(const std::string& path, const std::string& what,
                         const boost::json::value& got) const;

  const boost::json::object& object(const boost::json::value& v,
                                    const std::string& path) const;

  const boost::json::array& array(const boost::json::value& v,
                                  const std::string& path) const;

  /// Fails on keys outside `allowed`.
  void only_keys(const boost::json::object& obj, const std::string& path,
                 std::initializer_list<std::string_view> allowed) const;

  /// Same, for a list built at run time.
  void only_keys(const boost::json::object& obj, const std::string& path,
                 const std::vector<std::string_view>& allowed) const;

  /// The value at `key`, or fails with "missing key".
  const boost::json::value& required(const boost::json::object& obj,
                                     const std::string& path,
                                     std::string_view key) const;

  std::string string(const boost::json::value& v, const std::string& path,
                     bool allow_empty = false) const;

  int64_t integer(const boost::json::value& v, const std::string& path,
                  int64_t min, int64_t max) const;

  /// A number in [min, max]; `min_exclusive` makes the lower bound strict.
  double number(const boost::json::value& v, const std::string& path,
                double min, double max, bool min_exclusive = false) const;

  bool boolean(const boost::json::value& v, const std::string& path) const;

  /// Fails on a number anywhere in `v` that overflows a double: Boost.JSON
  /// reads 1e400 as infinity and would write it back as invalid JSON.
  void finite_numbers(const boost::json::value& v,
                      const std::string& path) const;

  const std::string& where() const noexcept {
    return where_;
  }

private:
  std::string where_;
};

} // namespace troupe::config
