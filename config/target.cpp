// The manifest's "target" object: which service tasks go to, and the keys
// each target type takes (one table says which).

#include "config/target.hpp"

#include "config/json_checks.hpp"
#include "config/manifest_keys.hpp"
#include "messages/placeholders.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace json = boost::json;

namespace troupe::config {

namespace {

constexpr unsigned used_by(target_type t) {
  return 1u << static_cast<unsigned>(t);
}

constexpr unsigned dify_types = used_by(target_type::dify_workflow)
                                | used_by(target_type::dify_chat)
                                | used_by(target_type::dify_completion);
constexpr unsigned service_types = dify_types | used_by(target_type::http);
constexpr unsigned exec_type = used_by(target_type::exec);
constexpr unsigned all_types = service_types | used_by(target_type::stub)
                               | exec_type | used_by(target_type::custom);

/// The types' names in manifests, in the order errors list them.
constexpr std::pair<target_type, const char*> target_type_names[] = {
  {target_type::dify_workflow, "dify-workflow"},
  {target_type::dify_chat, "dify-chat"},
  {target_type::dify_completion, "dify-completion"},
  {target_type::http, "http"},
  {target_type::stub, "stub"},
  {target_type::exec, "exec"},
  {target_type::custom, "custom"},
};

// "\"dify-workflow\", \"dify-chat\", ..., \"stub\"".
std::string quoted_type_names() {
  std::string out;
  for (auto& [type, name] : target_type_names)
    out += (out.empty() ? "\"" : ", \"") + std::string{name} + "\"";
  return out;
}

/// A key of "target" and the types that take it.
struct target_key {
  std::string_view name;
  unsigned types;
};

/// Every key of "target", in the order errors list them.
constexpr target_key target_keys[] = {
  {"type", all_types},
  {"base_url", dify_types},
  {"api_key_env", service_types},
  {"response_mode", dify_types},
  {"user", dify_types},
  {"method", used_by(target_type::http)},
  {"url", used_by(target_type::http)},
  {"headers", used_by(target_type::http)},
  {"body", used_by(target_type::http)},
  {"success_status", used_by(target_type::http)},
  {"output_pointer", used_by(target_type::http)},
  {"ca_file", service_types},
  {"max_response_bytes", service_types | exec_type},
  {"auto_generate_name", used_by(target_type::dify_chat)},
  {"max_upload_bytes", dify_types},
  {"argv", exec_type},
  {"pool", exec_type},
  {"name", used_by(target_type::custom)},
};

bool takes_key(target_type t, std::string_view key) {
  for (auto& k : target_keys)
    if (k.name == key)
      return (k.types & used_by(t)) != 0;
  return false;
}

// Checks the {{...}} placeholders of an http target's template text.
void check_placeholders(const checker& chk, const std::string& text,
                        const std::string& path) {
  if (auto error = template_error(text))
    chk.fail(path, *error);
}

std::vector<std::pair<int, int>> parse_success_status(const checker& chk,
                                                      const json::value& v) {
  const std::string path = "target.success_status";
  std::vector<std::pair<int, int>> out;
  auto one = [&](const json::value& x, const std::string& p) {
    if (x.is_string()) {
      // "200-299"
      auto text = std::string{x.get_string()};
      int lo = 0;
      int hi = 0;
      char dash = 0;
      std::istringstream in{text};
      if ((in >> lo >> dash >> hi) && dash == '-' && in.eof() && lo >= 100
          && hi <= 599 && lo <= hi) {
        out.emplace_back(lo, hi);
        return;
      }
      chk.fail(p,
               "must be a status (200), a range (\"200-299\") or a list "
               "of them",
               x);
    }
    auto code = static_cast<int>(chk.integer(x, p, 100, 599));
    out.emplace_back(code, code);
  };
  if (v.is_array()) {
    auto& arr = v.get_array();
    if (arr.empty())
      chk.fail(path, "must hold at least one status");
    for (size_t i = 0; i < arr.size(); ++i)
      one(arr[i], index_path(path, i));
  } else {
    one(v, path);
  }
  return out;
}

} // namespace

std::vector<std::string_view> all_target_keys() {
  std::vector<std::string_view> out;
  for (auto& k : target_keys)
    out.push_back(k.name);
  return out;
}

std::vector<std::string_view> target_keys_of(target_type t) {
  std::vector<std::string_view> out;
  for (auto& k : target_keys)
    if ((k.types & used_by(t)) != 0)
      out.push_back(k.name);
  return out;
}

const char* target_type_name(target_type x) noexcept {
  for (auto& [type, name] : target_type_names)
    if (type == x)
      return name;
  return "?";
}

std::vector<std::string> target_notes(const target_config& t,
                                      double timeout_seconds) {
  std::vector<std::string> out;
  bool dify = (dify_types & used_by(t.type)) != 0;
  auto scheme = t.base_url.find("://");
  if (!dify || scheme == std::string::npos)
    return out;
  // The host of "https://HOST[:PORT]/...".
  auto host = t.base_url.substr(scheme + 3);
  host = host.substr(0, host.find_first_of(":/"));
  for (auto& c : host)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool cloud
    = host == "dify.ai" || host == "api.dify.ai"
      || (host.size() > 8 && host.substr(host.size() - 8) == ".dify.ai");
  if (cloud && !t.streaming && timeout_seconds > 100)
    out.push_back(
      "execution_policy.timeout_seconds is over 100 with a blocking target "
      "on Dify Cloud, which cuts blocking calls after 100 s; blocking calls "
      "also cannot be stopped. Consider \"response_mode\": \"streaming\".");
  return out;
}

target_config parse_target(const checker& chk, const json::value& v) {
  auto& obj = chk.object(v, "target");
  chk.only_keys(obj, "target", keys_of(manifest_object::target));
  auto& type_v = chk.required(obj, "target", "type");
  auto type = chk.string(type_v, "target.type");
  target_config t;
  auto known
    = std::find_if(std::begin(target_type_names), std::end(target_type_names),
                   [&](auto& x) { return type == x.second; });
  if (known == std::end(target_type_names))
    chk.fail("target.type", "must be one of " + quoted_type_names(), type_v);
  t.type = known->first;
  bool dify = (dify_types & used_by(t.type)) != 0;
  // Keys that only some types take.
  for (auto& kv : obj)
    if (!takes_key(t.type, kv.key()))
      chk.fail(join_path("target", kv.key()),
               "is not used by a \"" + type + "\" target");
  auto str = [&](const char* key, std::string& out, bool allow_empty = false) {
    if (auto i = obj.find(key); i != obj.end())
      out = chk.string(i->value(), join_path("target", key), allow_empty);
  };
  str("api_key_env", t.api_key_env);
  if (!t.api_key_env.empty()
      && (t.api_key_env.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
            != std::string::npos
          || std::isdigit(static_cast<unsigned char>(t.api_key_env[0]))))
    chk.fail("target.api_key_env",
             "must name an environment variable (letters, digits and _)",
             obj.at("api_key_env"));
  str("ca_file", t.ca_file);
  str("name", t.name);
  if (auto i = obj.find("max_response_bytes"); i != obj.end())
    t.max_response_bytes = static_cast<uint64_t>(chk.integer(
      i->value(), "target.max_response_bytes", 1024, int64_t{1} << 28));
  auto check_url = [&](const std::string& url, const char* key) {
    if (url.compare(0, 7, "http://") != 0 && url.compare(0, 8, "https://") != 0)
      chk.fail(join_path("target", key), "must be an http:// or https:// URL",
               obj.at(key));
  };
  if (dify) {
    t.base_url
      = chk.string(chk.required(obj, "target", "base_url"), "target.base_url");
    check_url(t.base_url, "base_url");
    while (!t.base_url.empty() && t.base_url.back() == '/')
      t.base_url.pop_back();
    t.api_key_env = chk.string(chk.required(obj, "target", "api_key_env"),
                               "target.api_key_env");
    if (auto i = obj.find("response_mode"); i != obj.end()) {
      auto mode = chk.string(i->value(), "target.response_mode");
      if (mode == "streaming")
        t.streaming = true;
      else if (mode != "blocking")
        chk.fail("target.response_mode",
                 "must be \"blocking\" or \"streaming\"", i->value());
    }
    str("user", t.user);
    if (auto i = obj.find("max_upload_bytes"); i != obj.end())
      t.max_upload_bytes = static_cast<uint64_t>(chk.integer(
        i->value(), "target.max_upload_bytes", 1, int64_t{1} << 40));
    if (auto i = obj.find("auto_generate_name"); i != obj.end())
      t.auto_generate_name
        = chk.boolean(i->value(), "target.auto_generate_name");
  } else if (t.type == target_type::exec) {
    parse_exec_target(chk, obj, t);
  } else if (t.type == target_type::http) {
    t.url = chk.string(chk.required(obj, "target", "url"), "target.url");
    check_url(t.url, "url");
    check_placeholders(chk, t.url, "target.url");
    if (auto i = obj.find("method"); i != obj.end()) {
      t.method = chk.string(i->value(), "target.method");
      for (auto& c : t.method)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      static const char* methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
      if (std::find(std::begin(methods), std::end(methods), t.method)
          == std::end(methods))
        chk.fail("target.method", "must be GET, POST, PUT, PATCH or DELETE",
                 i->value());
    }
    if (auto i = obj.find("headers"); i != obj.end()) {
      for (auto& kv : chk.object(i->value(), "target.headers")) {
        auto path = "target.headers[\"" + std::string{kv.key()} + "\"]";
        auto value = chk.string(kv.value(), path, true);
        check_placeholders(chk, value, path);
        t.headers.emplace_back(std::string{kv.key()}, value);
      }
    }
    if (auto i = obj.find("body"); i != obj.end()) {
      chk.finite_numbers(i->value(), "target.body");
      t.body = i->value().is_string() ? std::string{i->value().get_string()}
                                      : json::serialize(i->value());
      check_placeholders(chk, t.body, "target.body");
    }
    if (auto i = obj.find("success_status"); i != obj.end())
      t.success_status = parse_success_status(chk, i->value());
    if (auto i = obj.find("output_pointer"); i != obj.end()) {
      t.output_pointer = chk.string(i->value(), "target.output_pointer", true);
      if (!t.output_pointer.empty() && t.output_pointer[0] != '/')
        chk.fail("target.output_pointer",
                 "must be a JSON Pointer (\"\" or starting with /)",
                 i->value());
    }
  }
  return t;
}

} // namespace troupe::config
