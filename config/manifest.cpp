// Turns a manifest's JSON into plain structs, checking every key, and streams
// its dataset files once to count cases and find broken lines and duplicate
// ids before any task runs.

#include "config/manifest.hpp"

#include "config/dataset_reader.hpp"
#include "config/expect.hpp"
#include "config/hash.hpp"
#include "config/json_checks.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

namespace json = boost::json;

namespace troupe::config {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string folder_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos)
    return "";
  return path.substr(0, pos + 1);
}

std::string stem_of(const std::string& path) {
  auto base = path.substr(path.rfind('/') + 1);
  auto dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

// Checks the {{...}} placeholders of an http target's template text.
void check_placeholders(const checker& chk, const std::string& text,
                        const std::string& path) {
  size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string::npos) {
    auto end = text.find("}}", pos);
    if (end == std::string::npos)
      chk.fail(path, "has an unclosed \"{{\"");
    auto name = text.substr(pos + 2, end - pos - 2);
    bool ok = name == "case_id" || name == "task_id"
              || (name.size() > 7 && name.compare(0, 7, "inputs.") == 0)
              || (name.size() > 7 && name.compare(0, 7, "params.") == 0);
    if (!ok)
      chk.fail(path, "unknown placeholder {{" + name
                       + "}} (expected {{inputs.NAME}}, {{params.NAME}}, "
                         "{{case_id}} or {{task_id}})");
    pos = end + 2;
  }
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

target_config parse_target(const checker& chk, const json::value& v) {
  auto& obj = chk.object(v, "target");
  chk.only_keys(obj, "target",
                {"type", "base_url", "api_key_env", "response_mode", "user",
                 "method", "url", "headers", "body", "success_status",
                 "output_pointer", "ca_file", "max_response_bytes"});
  auto& type_v = chk.required(obj, "target", "type");
  auto type = chk.string(type_v, "target.type");
  target_config t;
  if (type == "stub")
    t.type = target_type::stub;
  else if (type == "dify-workflow")
    t.type = target_type::dify_workflow;
  else if (type == "dify-chat")
    t.type = target_type::dify_chat;
  else if (type == "dify-completion")
    t.type = target_type::dify_completion;
  else if (type == "http")
    t.type = target_type::http;
  else
    chk.fail("target.type",
             "must be one of \"dify-workflow\", \"dify-chat\", "
             "\"dify-completion\", \"http\", \"stub\"",
             type_v);
  bool dify = t.type == target_type::dify_workflow
              || t.type == target_type::dify_chat
              || t.type == target_type::dify_completion;
  // Keys that only some types use.
  auto allowed = [&](std::string_view key) {
    if (key == "type")
      return true;
    if (t.type == target_type::stub)
      return false;
    if (key == "api_key_env" || key == "ca_file" || key == "max_response_bytes")
      return true;
    if (dify)
      return key == "base_url" || key == "response_mode" || key == "user";
    return key == "method" || key == "url" || key == "headers" || key == "body"
           || key == "success_status" || key == "output_pointer";
  };
  for (auto& kv : obj)
    if (!allowed(kv.key()))
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

dataset_config parse_dataset(const checker& chk, const json::value& v,
                             const std::string& path,
                             const std::string& base_dir) {
  auto& obj = chk.object(v, path);
  chk.only_keys(obj, path, {"name", "cases", "file", "weight", "expect"});
  dataset_config ds;
  ds.name
    = chk.string(chk.required(obj, path, "name"), join_path(path, "name"));
  if (ds.name.find_first_of("/#") != std::string::npos)
    chk.fail(join_path(path, "name"), "must not contain '/' or '#'",
             obj.at("name"));
  if (auto* e = obj.if_contains("expect"))
    ds.expect = parse_expect(chk, *e, join_path(path, "expect"));
  if (auto* w = obj.if_contains("weight"))
    ds.weight = chk.number(*w, join_path(path, "weight"), 0, 1e6, true);
  auto cases = obj.find("cases");
  auto file = obj.find("file");
  if (cases == obj.end() && file == obj.end())
    chk.fail(path, "missing key: one of \"cases\" or \"file\"");
  if (cases != obj.end() && file != obj.end())
    chk.fail(path, "has both \"cases\" and \"file\", expected one of them");
  if (cases != obj.end()) {
    auto cases_path = join_path(path, "cases");
    auto& arr = chk.array(cases->value(), cases_path);
    for (size_t i = 0; i < arr.size(); ++i) {
      auto case_path = index_path(cases_path, i);
      chk.object(arr[i], case_path);
      // Before serialize, which would write 1e400 as "Infinity".
      chk.finite_numbers(arr[i], case_path);
      auto parsed = parse_case(json::serialize(arr[i]), chk.where(), case_path);
      if (auto* err = std::get_if<config_error>(&parsed))
        throw check_failure(err->message);
      ds.cases.push_back(std::move(std::get<case_config>(parsed)));
    }
  } else {
    auto name = chk.string(file->value(), join_path(path, "file"));
    auto n = name.size();
    bool csv = n >= 4 && name.compare(n - 4, 4, ".csv") == 0;
    bool jsonl = (n >= 6 && name.compare(n - 6, 6, ".jsonl") == 0)
                 || (n >= 7 && name.compare(n - 7, 7, ".ndjson") == 0);
    if (!csv && !jsonl)
      chk.fail(join_path(path, "file"),
               "must name a .jsonl, .ndjson or .csv file", file->value());
    ds.file = name.front() == '/' ? name : base_dir + name;
  }
  return ds;
}

retry_policy parse_retry(const checker& chk, const json::value& v) {
  const std::string p = "retry_policy";
  auto& obj = chk.object(v, p);
  chk.only_keys(obj, p,
                {"max_attempts", "backoff_seconds", "backoff_multiplier",
                 "max_backoff_seconds", "jitter"});
  retry_policy r;
  if (auto i = obj.find("max_attempts"); i != obj.end())
    r.max_attempts = static_cast<uint32_t>(
      chk.integer(i->value(), join_path(p, "max_attempts"), 1, 1000));
  if (auto i = obj.find("backoff_seconds"); i != obj.end())
    r.backoff_seconds
      = chk.number(i->value(), join_path(p, "backoff_seconds"), 0, 86400);
  if (auto i = obj.find("backoff_multiplier"); i != obj.end())
    r.backoff_multiplier
      = chk.number(i->value(), join_path(p, "backoff_multiplier"), 1, 1000);
  if (auto i = obj.find("max_backoff_seconds"); i != obj.end())
    r.max_backoff_seconds
      = chk.number(i->value(), join_path(p, "max_backoff_seconds"), 0, 86400);
  if (auto i = obj.find("jitter"); i != obj.end()) {
    auto path = join_path(p, "jitter");
    auto s = chk.string(i->value(), path);
    if (s == "none")
      r.jitter = jitter_kind::none;
    else if (s == "full")
      r.jitter = jitter_kind::full;
    else if (s == "equal")
      r.jitter = jitter_kind::equal;
    else
      chk.fail(path, "must be \"none\", \"full\" or \"equal\"", i->value());
  }
  return r;
}

execution_policy parse_execution(const checker& chk, const json::value& v) {
  const std::string p = "execution_policy";
  auto& obj = chk.object(v, p);
  chk.only_keys(obj, p,
                {"concurrency", "timeout_seconds", "deadline_seconds",
                 "run_deadline_seconds", "adaptive", "batch_size",
                 "batch_pause_seconds", "rate_limit", "limits"});
  execution_policy e;
  if (auto* x = obj.if_contains("limits")) {
    auto lp = join_path(p, "limits");
    auto& lim = chk.object(*x, lp);
    chk.only_keys(lim, lp, {"max_line_bytes"});
    if (auto* b = lim.if_contains("max_line_bytes"))
      e.max_line_bytes = static_cast<uint64_t>(chk.integer(
        *b, join_path(lp, "max_line_bytes"), 1024, int64_t{1} << 30));
  }
  if (auto* x = obj.if_contains("run_deadline_seconds"))
    e.run_deadline_seconds = chk.number(
      *x, join_path(p, "run_deadline_seconds"), 0, 365 * 86400.0, true);
  if (auto* x = obj.if_contains("adaptive"))
    e.adaptive = chk.boolean(*x, join_path(p, "adaptive"));
  if (auto* x = obj.if_contains("batch_size"))
    e.batch_size = static_cast<uint32_t>(
      chk.integer(*x, join_path(p, "batch_size"), 0, 100'000'000));
  if (auto* x = obj.if_contains("batch_pause_seconds"))
    e.batch_pause_seconds
      = chk.number(*x, join_path(p, "batch_pause_seconds"), 0, 86400);
  if (auto* x = obj.if_contains("rate_limit")) {
    auto rp = join_path(p, "rate_limit");
    auto& rl = chk.object(*x, rp);
    chk.only_keys(rl, rp,
                  {"requests_per_second", "requests_per_minute", "burst"});
    auto* rps = rl.if_contains("requests_per_second");
    auto* rpm = rl.if_contains("requests_per_minute");
    if ((rps == nullptr) == (rpm == nullptr))
      chk.fail(rp, "needs one of requests_per_second and requests_per_minute");
    // At least one a day, or a token's wait overflows the timer arithmetic
    // (and a slower limit is a mistake, not a policy).
    e.rate_per_second
      = rps != nullptr ? chk.number(*rps, join_path(rp, "requests_per_second"),
                                    1.0 / 86400, 1e7)
                       : chk.number(*rpm, join_path(rp, "requests_per_minute"),
                                    1.0 / 1440, 6e8)
                           / 60.0;
    if (auto* b = rl.if_contains("burst"))
      e.burst = static_cast<uint32_t>(
        chk.integer(*b, join_path(rp, "burst"), 1, 1'000'000));
  }
  if (auto i = obj.find("concurrency"); i != obj.end())
    e.concurrency = static_cast<uint32_t>(
      chk.integer(i->value(), join_path(p, "concurrency"), 1, 100000));
  if (auto i = obj.find("timeout_seconds"); i != obj.end())
    e.timeout_seconds
      = chk.number(i->value(), join_path(p, "timeout_seconds"), 0, 86400, true);
  if (auto i = obj.find("deadline_seconds"); i != obj.end())
    e.deadline_seconds = chk.number(
      i->value(), join_path(p, "deadline_seconds"), 0, 30 * 86400.0, true);
  return e;
}

// One behaviour, or a list of them (one per attempt).
std::vector<stub_behavior> parse_behaviors(const checker& chk,
                                           const json::value& v,
                                           const std::string& path) {
  auto parse_one = [&](const json::value& b, const std::string& bpath) {
    auto text = chk.string(b, bpath);
    stub_behavior out;
    if (!parse_stub_behavior(text, out))
      chk.fail(bpath,
               "must be a behaviour (success, failure, fatal, timeout, "
               "error, 429, 429:retry-after=S, delay:Nms, auth, crash)",
               b);
    return out;
  };
  std::vector<stub_behavior> list;
  if (v.is_array()) {
    auto& arr = v.get_array();
    if (arr.empty())
      chk.fail(path, "must hold at least one behaviour");
    for (size_t j = 0; j < arr.size(); ++j)
      list.push_back(parse_one(arr[j], index_path(path, j)));
  } else {
    list.push_back(parse_one(v, path));
  }
  return list;
}

std::map<std::string, std::vector<stub_behavior>>
parse_behavior_map(const checker& chk, const json::value& v,
                   const std::string& path) {
  std::map<std::string, std::vector<stub_behavior>> out;
  for (auto& kv : chk.object(v, path))
    out.emplace(std::string{kv.key()},
                parse_behaviors(chk, kv.value(),
                                path + "[\"" + std::string{kv.key()} + "\"]"));
  return out;
}

stub_event parse_event(const checker& chk, const json::value& v,
                       const std::string& path) {
  auto& obj = chk.object(v, path);
  chk.only_keys(obj, path,
                {"at_ms", "cancel", "set_failure_rate", "set_task_behavior",
                 "set_simulated_delay", "clear_task_behaviors"});
  stub_event e;
  e.at_us
    = static_cast<int64_t>(chk.number(chk.required(obj, path, "at_ms"),
                                      join_path(path, "at_ms"), 0, 30 * 86400e3)
                             * 1000
                           + 0.5);
  int actions = 0;
  if (auto* x = obj.if_contains("cancel")) {
    if (!chk.boolean(*x, join_path(path, "cancel")))
      chk.fail(join_path(path, "cancel"), "must be true (or be left out)");
    e.kind = stub_event::cancel;
    ++actions;
  }
  if (auto* x = obj.if_contains("set_failure_rate")) {
    e.kind = stub_event::set_failure_rate;
    e.value = chk.number(*x, join_path(path, "set_failure_rate"), 0, 1);
    ++actions;
  }
  if (auto* x = obj.if_contains("set_task_behavior")) {
    e.kind = stub_event::set_task_behavior;
    e.behaviors
      = parse_behavior_map(chk, *x, join_path(path, "set_task_behavior"));
    ++actions;
  }
  if (auto* x = obj.if_contains("set_simulated_delay")) {
    e.kind = stub_event::set_simulated_delay;
    e.value = chk.number(*x, join_path(path, "set_simulated_delay"), 0, 86400);
    ++actions;
  }
  if (auto* x = obj.if_contains("clear_task_behaviors")) {
    if (!chk.boolean(*x, join_path(path, "clear_task_behaviors")))
      chk.fail(join_path(path, "clear_task_behaviors"),
               "must be true (or be left out)");
    e.kind = stub_event::clear_task_behaviors;
    ++actions;
  }
  if (actions != 1)
    chk.fail(path, "must hold exactly one action (cancel, set_failure_rate, "
                   "set_task_behavior, set_simulated_delay, "
                   "clear_task_behaviors)");
  return e;
}

stub_config parse_stub(const checker& chk, const json::value& v) {
  const std::string p = "stub";
  auto& obj = chk.object(v, p);
  chk.only_keys(obj, p,
                {"simulated_delay_seconds", "failure_rate", "seed",
                 "task_behaviors", "dataset_behaviors", "events"});
  stub_config s;
  if (auto i = obj.find("simulated_delay_seconds"); i != obj.end())
    s.simulated_delay_seconds = chk.number(
      i->value(), join_path(p, "simulated_delay_seconds"), 0, 86400);
  if (auto i = obj.find("failure_rate"); i != obj.end())
    s.failure_rate = chk.number(i->value(), join_path(p, "failure_rate"), 0, 1);
  if (auto i = obj.find("seed"); i != obj.end())
    s.seed = static_cast<uint64_t>(
      chk.integer(i->value(), join_path(p, "seed"), 0, INT64_MAX));
  if (auto* x = obj.if_contains("task_behaviors"))
    s.task_behaviors
      = parse_behavior_map(chk, *x, join_path(p, "task_behaviors"));
  if (auto* x = obj.if_contains("dataset_behaviors"))
    s.dataset_behaviors
      = parse_behavior_map(chk, *x, join_path(p, "dataset_behaviors"));
  if (auto* x = obj.if_contains("events")) {
    auto path = join_path(p, "events");
    auto& arr = chk.array(*x, path);
    for (size_t i = 0; i < arr.size(); ++i)
      s.events.push_back(parse_event(chk, arr[i], index_path(path, i)));
  }
  return s;
}

// A Bloom filter over case-id hashes: duplicate ids are found in memory that
// grows by a few bits per case, not by the ids themselves (B5: a million
// cases must not cost much more memory than a hundred thousand).
class id_filter {
public:
  explicit id_filter(uint64_t bits)
    : words_((std::max<uint64_t>(bits, 1024) + 63) / 64) {}

  /// Adds `h`; true if it may have been there already.
  bool add(uint64_t h) {
    auto n = words_.size() * 64;
    auto h1 = h;
    auto h2 = (h >> 33) | (h << 31) | 1;
    bool seen = true;
    for (int i = 0; i < hashes; ++i) {
      auto bit = (h1 + static_cast<uint64_t>(i) * h2) % n;
      auto& w = words_[bit / 64];
      auto mask = uint64_t{1} << (bit % 64);
      seen = seen && (w & mask) != 0;
      w |= mask;
    }
    return seen;
  }

private:
  static constexpr int hashes = 8;
  std::vector<uint64_t> words_;
};

uint64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// The case ids that task_behaviors names, per dataset, checked for form.
struct scripted_id {
  std::string key;
  std::string case_id;
  bool found = false;
};

std::vector<std::vector<scripted_id>> scripted_ids(const checker& chk,
                                                   const manifest& m) {
  std::vector<std::vector<scripted_id>> out(m.datasets.size());
  std::vector<std::pair<std::string, std::string>> ids; // id, path
  for (auto& kv : m.stub.task_behaviors)
    ids.emplace_back(kv.first, "stub.task_behaviors[\"" + kv.first + "\"]");
  for (size_t i = 0; i < m.stub.events.size(); ++i)
    for (auto& kv : m.stub.events[i].behaviors)
      ids.emplace_back(kv.first, index_path("stub.events", i)
                                   + ".set_task_behavior[\"" + kv.first
                                   + "\"]");
  for (auto& kv : m.stub.dataset_behaviors)
    if (std::none_of(m.datasets.begin(), m.datasets.end(),
                     [&](auto& d) { return d.name == kv.first; }))
      chk.fail("stub.dataset_behaviors[\"" + kv.first + "\"]",
               "no dataset named \"" + kv.first + "\"");
  for (auto& entry : ids) {
    // Named references, not a structured binding: the lambda below captures
    // them, which clang accepts only from C++20 on.
    auto& id = entry.first;
    auto& path = entry.second;
    auto slash = id.find('/');
    auto hash = id.rfind('#');
    auto bad = [&] {
      chk.fail(path, "must name a task of this manifest as "
                     "<dataset>/<case id>#<parameter index>");
    };
    if (slash == std::string::npos || hash == std::string::npos || hash < slash)
      bad();
    auto ds_name = id.substr(0, slash);
    auto case_id = id.substr(slash + 1, hash - slash - 1);
    auto index_text = id.substr(hash + 1);
    if (index_text.empty()
        || index_text.find_first_not_of("0123456789") != std::string::npos
        || index_text.size() > 9)
      bad();
    auto ds = std::find_if(m.datasets.begin(), m.datasets.end(),
                           [&](auto& d) { return d.name == ds_name; });
    if (ds == m.datasets.end())
      chk.fail(path, "no dataset named \"" + ds_name + "\"");
    if (std::stoul(index_text) >= m.parameters.size())
      chk.fail(path, "parameter index " + index_text
                       + " is out of range (the manifest has "
                       + std::to_string(m.parameters.size())
                       + " parameter set(s))");
    out[static_cast<size_t>(ds - m.datasets.begin())].push_back(
      {path, case_id, false});
  }
  return out;
}

// Finds the duplicate behind suspected hashes, if there is one (a Bloom
// filter hit may be a false alarm).
void confirm_duplicates(const checker& chk, const dataset_config& ds, size_t di,
                        std::vector<uint64_t> suspects) {
  std::sort(suspects.begin(), suspects.end());
  std::unordered_map<std::string, uint64_t> first;
  case_reader reader{ds};
  case_config c;
  uint64_t index = 0;
  while (reader.next(c)) {
    if (std::binary_search(suspects.begin(), suspects.end(), fnv1a(c.id))) {
      auto where = ds.file.empty() ? index : reader.line();
      auto [it, added] = first.emplace(c.id, where);
      if (!added) {
        if (ds.file.empty())
          chk.fail(index_path(index_path("datasets", di) + ".cases", index)
                     + ".id",
                   "duplicate case id \"" + c.id + "\" (first in cases["
                     + std::to_string(it->second) + "])");
        throw check_failure(
          ds.file + ":" + std::to_string(where) + ": id: duplicate case id \""
          + c.id + "\" (first at line " + std::to_string(it->second) + ")");
      }
    }
    ++index;
  }
}

// Streams every dataset once: counts cases, reports the first broken line
// and any duplicate id, and checks that every scripted task exists.
void scan_datasets(const checker& chk, manifest& m) {
  auto scripted = scripted_ids(chk, m);
  for (size_t di = 0; di < m.datasets.size(); ++di) {
    auto& ds = m.datasets[di];
    // About 16 bits per case for files (lines of 40 bytes or more), 32 for
    // inline cases: false alarms stay rare, and a false alarm only costs a
    // second pass.
    auto bits = ds.file.empty() ? ds.cases.size() * 32
                                : std::min<uint64_t>(file_size(ds.file) / 2,
                                                     uint64_t{1} << 32);
    id_filter filter{bits};
    std::vector<uint64_t> suspects;
    auto& wanted = scripted[di];
    std::unordered_map<std::string, std::vector<size_t>> wanted_ids;
    for (size_t i = 0; i < wanted.size(); ++i)
      wanted_ids[wanted[i].case_id].push_back(i);
    uint64_t count = 0;
    {
      case_reader reader{ds};
      case_config c;
      while (reader.next(c)) {
        ++count;
        auto h = fnv1a(c.id);
        if (filter.add(h))
          suspects.push_back(h);
        if (!wanted_ids.empty())
          if (auto i = wanted_ids.find(c.id); i != wanted_ids.end())
            for (auto k : i->second)
              wanted[k].found = true;
      }
      if (reader.error())
        throw check_failure(reader.error()->message);
    }
    ds.case_count = count;
    if (count == 0)
      chk.fail(index_path("datasets", di),
               "dataset \"" + ds.name + "\" has no cases");
    if (!suspects.empty())
      confirm_duplicates(chk, ds, di, std::move(suspects));
    for (auto& w : wanted)
      if (!w.found)
        chk.fail(w.key, "dataset \"" + ds.name + "\" has no case \"" + w.case_id
                          + "\"");
  }
}

} // namespace

const char* target_type_name(target_type x) noexcept {
  switch (x) {
    case target_type::stub:
      return "stub";
    case target_type::dify_workflow:
      return "dify-workflow";
    case target_type::dify_chat:
      return "dify-chat";
    case target_type::dify_completion:
      return "dify-completion";
    case target_type::http:
      return "http";
  }
  return "?";
}

uint64_t manifest::task_count() const noexcept {
  uint64_t n = 0;
  for (auto& ds : datasets)
    n += ds.case_count;
  return n * parameters.size();
}

result<manifest> parse_manifest(const std::string& text,
                                const std::string& path,
                                const load_options& opts) {
  try {
    checker chk{path};
    auto root = parse_relaxed(text, path);
    auto& obj = chk.object(root, "");
    chk.only_keys(obj, "",
                  {"name", "target", "datasets", "parameters",
                   "execution_policy", "retry_policy", "stub"});
    manifest m;
    m.path = path;
    m.hash = "sha256:" + sha256_hex(json::serialize(root));
    m.name = stem_of(path);
    if (auto i = obj.find("name"); i != obj.end())
      m.name = chk.string(i->value(), "name");
    m.target = parse_target(chk, chk.required(obj, "", "target"));
    auto& ds_arr = chk.array(chk.required(obj, "", "datasets"), "datasets");
    if (ds_arr.empty())
      chk.fail("datasets", "must hold at least one dataset");
    auto base_dir = folder_of(path);
    for (size_t i = 0; i < ds_arr.size(); ++i) {
      auto ds_path = index_path("datasets", i);
      m.datasets.push_back(parse_dataset(chk, ds_arr[i], ds_path, base_dir));
      for (size_t j = 0; j < i; ++j)
        if (m.datasets[j].name == m.datasets[i].name)
          chk.fail(join_path(ds_path, "name"),
                   "duplicate dataset name \"" + m.datasets[i].name + "\"");
    }
    if (auto i = obj.find("parameters"); i != obj.end()) {
      auto& arr = chk.array(i->value(), "parameters");
      if (arr.empty())
        chk.fail("parameters", "must hold at least one parameter set");
      for (size_t j = 0; j < arr.size(); ++j) {
        auto ppath = index_path("parameters", j);
        chk.object(arr[j], ppath);
        chk.finite_numbers(arr[j], ppath);
        m.parameters.push_back(json::serialize(arr[j]));
      }
    } else {
      m.parameters.push_back("{}");
    }
    if (auto i = obj.find("execution_policy"); i != obj.end())
      m.execution = parse_execution(chk, i->value());
    if (auto i = obj.find("retry_policy"); i != obj.end())
      m.retry = parse_retry(chk, i->value());
    if (auto i = obj.find("stub"); i != obj.end()) {
      if (m.target.type != target_type::stub)
        chk.fail("stub", "is only used with a \"stub\" target");
      m.stub = parse_stub(chk, i->value());
    }
    for (auto& ds : m.datasets)
      ds.max_line_bytes
        = opts.max_line_bytes.value_or(m.execution.max_line_bytes);
    scan_datasets(chk, m);
    return m;
  } catch (const check_failure& e) {
    return config_error{e.what()};
  }
}

std::optional<config_error> check_input_file(const std::string& path,
                                             const char* what,
                                             uint64_t max_bytes) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return config_error{path + ": cannot open " + what + " ("
                        + std::strerror(errno) + ")"};
  if (S_ISDIR(st.st_mode)) {
    // `what` may name the file already ("dataset file", "results file").
    std::string noun = what;
    if (noun.size() < 5 || noun.compare(noun.size() - 5, 5, " file") != 0)
      noun += " file";
    return config_error{path + ": is a directory, expected a " + noun};
  }
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return config_error{path + ": is " + kind + "; a " + what
                        + " must be a regular file"};
  }
  if (max_bytes > 0 && static_cast<uint64_t>(st.st_size) > max_bytes)
    return config_error{path + ": " + what + " is " + std::to_string(st.st_size)
                        + " bytes, over the limit of "
                        + std::to_string(max_bytes)
                        + " (--max-manifest-bytes raises it)"};
  return std::nullopt;
}

result<manifest> load_manifest(const std::string& path,
                               const load_options& opts) {
  if (auto err = check_input_file(path, "manifest", opts.max_manifest_bytes))
    return *err;
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return config_error{path + ": cannot open manifest (" + std::strerror(errno)
                        + ")"};
  // Read up to one byte past the cap: a file that grew since stat() still
  // fails.
  std::string text;
  char chunk[1 << 16];
  while (text.size() <= opts.max_manifest_bytes
         && in.read(chunk, sizeof(chunk)).gcount() > 0)
    text.append(chunk, static_cast<size_t>(in.gcount()));
  if (in.bad())
    return config_error{path + ": cannot read manifest (" + std::strerror(errno)
                        + ")"};
  if (text.size() > opts.max_manifest_bytes)
    return config_error{path + ": manifest is over the limit of "
                        + std::to_string(opts.max_manifest_bytes)
                        + " bytes (--max-manifest-bytes raises it)"};
  return parse_manifest(text, path, opts);
}

} // namespace troupe::config
