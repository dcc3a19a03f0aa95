// Turns a manifest's JSON into plain structs, checking every key; the target
// (target.cpp), the stub script (stub_config.cpp) and the pass over the
// datasets (dataset_scan.cpp) have files of their own.

#include "config/manifest.hpp"

#include "config/dataset_reader.hpp"
#include "config/dataset_scan.hpp"
#include "config/expect.hpp"
#include "config/hash.hpp"
#include "config/json_checks.hpp"
#include "config/manifest_keys.hpp"
#include "config/stub_config.hpp"
#include "config/target.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace json = boost::json;

namespace troupe::config {

namespace {

std::string folder_of(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos)
    return "";
  return path.substr(0, pos + 1);
}

// `folder` ("dir/" or "") as an absolute path without a trailing '/'.
std::string absolute_folder(const std::string& folder) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(folder.empty() ? "." : folder, ec);
  auto out
    = (ec ? std::filesystem::path{folder} : abs.lexically_normal()).string();
  while (out.size() > 1 && out.back() == '/')
    out.pop_back();
  return out;
}

std::string stem_of(const std::string& path) {
  auto base = path.substr(path.rfind('/') + 1);
  auto dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

dataset_config parse_dataset(const checker& chk, const json::value& v,
                             const std::string& path,
                             const std::string& base_dir) {
  auto& obj = chk.object(v, path);
  chk.only_keys(obj, path, keys_of(manifest_object::dataset));
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
    bool csv = is_csv_file(name);
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
  chk.only_keys(obj, p, keys_of(manifest_object::retry_policy));
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
  chk.only_keys(obj, p, keys_of(manifest_object::execution_policy));
  execution_policy e;
  if (auto* x = obj.if_contains("nodes")) {
    auto np = join_path(p, "nodes");
    auto& list = chk.array(*x, np);
    for (size_t i = 0; i < list.size(); ++i) {
      auto ip = index_path(np, i);
      auto parsed = parse_node_address(chk.string(list[i], ip));
      if (auto* err = std::get_if<std::string>(&parsed))
        chk.fail(ip, "must be HOST:PORT: " + *err);
      e.nodes.push_back(std::get<node_address>(parsed));
    }
    if (auto twice = repeated_node(e.nodes))
      chk.fail(index_path(np, twice->second),
               "\"" + e.nodes[twice->second].text() + "\" is already "
                 + index_path(np, twice->first)
                 + " (a node runs one supervisor's tasks; list it once)");
  }
  if (auto* x = obj.if_contains("local_workers"))
    e.local_workers = static_cast<uint32_t>(
      chk.integer(*x, join_path(p, "local_workers"), 0, 100000));
  if (auto* x = obj.if_contains("node_grace_seconds"))
    e.node_grace_seconds
      = chk.number(*x, join_path(p, "node_grace_seconds"), 0, 86400);
  if (auto* x = obj.if_contains("limits")) {
    auto lp = join_path(p, "limits");
    auto& lim = chk.object(*x, lp);
    chk.only_keys(lim, lp, keys_of(manifest_object::limits));
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
    chk.only_keys(rl, rp, keys_of(manifest_object::rate_limit));
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

} // namespace

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
    // A UTF-8 byte order mark (Windows editors write one) is no JSON.
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF")
      body.remove_prefix(3);
    auto root = parse_relaxed(body, path);
    auto& obj = chk.object(root, "");
    chk.only_keys(obj, "", keys_of(manifest_object::manifest));
    // "$schema" points an editor at config/manifest.schema.json; like a
    // comment, it changes neither the run nor the manifest's hash.
    if (auto* s = obj.if_contains("$schema")) {
      chk.string(*s, "$schema", true);
      root.as_object().erase("$schema");
    }
    manifest m;
    m.path = path;
    m.hash = "sha256:" + sha256_hex(json::serialize(root));
    m.name = stem_of(path);
    if (auto i = obj.find("name"); i != obj.end())
      m.name = chk.string(i->value(), "name");
    m.target = parse_target(chk, chk.required(obj, "", "target"));
    if (m.target.type == target_type::exec) {
      // The command runs in the manifest's folder, whatever troupe's own.
      m.target.working_dir = absolute_folder(folder_of(path));
      check_exec_command(chk, m.target);
    }
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
    if (opts.read_datasets)
      scan_datasets(chk, m);
    return m;
  } catch (const check_failure& e) {
    return config_error{e.what()};
  }
}

unsigned wanted_threads() {
  if (auto* env = std::getenv("TROUPE_THREADS")) {
    auto n = std::strtoul(env, nullptr, 10);
    if (n >= 1 && n <= 256)
      return static_cast<unsigned>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

result<manifest> read_datasets(manifest m) {
  try {
    scan_datasets(checker{m.path}, m);
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
