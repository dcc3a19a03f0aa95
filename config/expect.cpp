// Parsing and checking `expect`.

#include "config/expect.hpp"

#include "config/manifest_keys.hpp"

#include <boost/json/serialize.hpp>
#include <boost/regex.hpp>

namespace json = boost::json;

namespace troupe::config {

namespace {

// A string, or an array of strings.
std::vector<std::string> strings(const checker& chk, const json::value& v,
                                 const std::string& path) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.emplace_back(v.get_string());
    return out;
  }
  if (!v.is_array())
    chk.fail(path, "must be a string or an array of strings", v);
  auto& arr = v.get_array();
  for (size_t i = 0; i < arr.size(); ++i)
    out.push_back(chk.string(arr[i], index_path(path, i), true));
  return out;
}

} // namespace

bool valid_json_pointer(const std::string& pointer) {
  if (pointer.empty())
    return true;
  if (pointer[0] != '/')
    return false;
  for (size_t i = 0; i < pointer.size(); ++i)
    if (pointer[i] == '~'
        && (i + 1 >= pointer.size()
            || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
      return false;
  return true;
}

expectation parse_expect(const checker& chk, const json::value& v,
                         const std::string& path) {
  auto& obj = chk.object(v, path);
  chk.only_keys(obj, path, keys_of(manifest_object::expect));
  expectation e;
  if (auto* x = obj.if_contains("contains"))
    e.contains = strings(chk, *x, join_path(path, "contains"));
  if (auto* x = obj.if_contains("not_contains"))
    e.not_contains = strings(chk, *x, join_path(path, "not_contains"));
  if (auto* x = obj.if_contains("regex")) {
    auto rpath = join_path(path, "regex");
    e.regex = strings(chk, *x, rpath);
    for (size_t i = 0; i < e.regex.size(); ++i) {
      try {
        boost::regex re{e.regex[i], boost::regex::perl};
      } catch (const boost::regex_error& err) {
        chk.fail(x->is_array() ? index_path(rpath, i) : rpath,
                 std::string{"must be a valid regular expression ("}
                   + err.what() + ")",
                 json::value(e.regex[i]));
      }
    }
  }
  if (auto* x = obj.if_contains("equals")) {
    chk.finite_numbers(*x, join_path(path, "equals"));
    e.equals_json = json::serialize(*x);
  }
  if (auto* x = obj.if_contains("json")) {
    auto jpath = join_path(path, "json");
    for (auto& kv : chk.object(*x, jpath)) {
      std::string pointer{kv.key()};
      if (!valid_json_pointer(pointer))
        chk.fail(jpath + "[\"" + pointer + "\"]",
                 "must be keyed by a JSON Pointer (\"\" or \"/a/b\", with ~0 "
                 "and ~1 as the only escapes)");
      chk.finite_numbers(kv.value(), jpath + "[\"" + pointer + "\"]");
      e.json_pointers.push_back(pointer);
      e.json_values.push_back(json::serialize(kv.value()));
    }
  }
  if (auto* x = obj.if_contains("max_latency_ms"))
    e.max_latency_us = static_cast<int64_t>(
      chk.number(*x, join_path(path, "max_latency_ms"), 0, 86400e3) * 1000
      + 0.5);
  return e;
}

expectation merge_expect(const expectation& dataset, const expectation& c) {
  expectation out = dataset;
  auto add = [](auto& to, const auto& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  add(out.contains, c.contains);
  add(out.not_contains, c.not_contains);
  add(out.regex, c.regex);
  add(out.json_pointers, c.json_pointers);
  add(out.json_values, c.json_values);
  if (!c.equals_json.empty())
    out.equals_json = c.equals_json;
  if (c.max_latency_us >= 0)
    out.max_latency_us = c.max_latency_us;
  return out;
}

std::vector<turn_spec> parse_turns(const checker& chk, const json::value& v,
                                   const std::string& path) {
  auto& arr = chk.array(v, path);
  if (arr.empty())
    chk.fail(path, "must hold at least one turn", v);
  std::vector<turn_spec> out;
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    auto turn_path = index_path(path, i);
    auto& obj = chk.object(arr[i], turn_path);
    chk.only_keys(obj, turn_path, keys_of(manifest_object::turn));
    turn_spec t;
    t.query = chk.string(chk.required(obj, turn_path, "query"),
                         join_path(turn_path, "query"));
    if (auto* in = obj.if_contains("inputs")) {
      chk.object(*in, join_path(turn_path, "inputs"));
      chk.finite_numbers(*in, join_path(turn_path, "inputs"));
      t.inputs_json = json::serialize(*in);
    }
    if (auto* e = obj.if_contains("expect"))
      t.expect = parse_expect(chk, *e, join_path(turn_path, "expect"));
    out.push_back(std::move(t));
  }
  return out;
}

} // namespace troupe::config
