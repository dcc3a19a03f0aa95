// The stub target's script: behaviours per task and per dataset, and the
// events that change them at given times.

#include "config/stub_config.hpp"

#include "config/json_checks.hpp"
#include "config/manifest_keys.hpp"
#include "config/stub_behavior.hpp"

namespace json = boost::json;

namespace troupe::config {

namespace {

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
  chk.only_keys(obj, path, keys_of(manifest_object::stub_event));
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

} // namespace

stub_config parse_stub(const checker& chk, const json::value& v) {
  const std::string p = "stub";
  auto& obj = chk.object(v, p);
  chk.only_keys(obj, p, keys_of(manifest_object::stub));
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

} // namespace troupe::config
