// Streams every dataset once before a run: counts cases, finds broken lines
// and duplicate ids, and checks the tasks the stub script names.

#include "config/dataset_scan.hpp"

#include "config/dataset_reader.hpp"
#include "config/file_inputs.hpp"
#include "config/json_checks.hpp"
#include "messages/fnv1a.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

namespace troupe::config {

namespace {

// A Bloom filter over case-id hashes: duplicate ids are found in memory that
// grows by a few bits per case, not by the ids themselves (B5: a million
// cases must not cost much more memory than a hundred thousand). It takes at
// least 1 MiB: then up to some 200,000 cases a false alarm, which costs a
// second pass over the dataset, is too rare to matter (at 16 bits a case,
// 20,000 cases had a few nearly every time: 13 ms of B2's 1 s).
class id_filter {
public:
  explicit id_filter(uint64_t bits)
    : words_((std::max<uint64_t>(bits, uint64_t{1} << 23) + 63) / 64) {}

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
    if (std::binary_search(suspects.begin(), suspects.end(),
                           troupe_hash(c.id))) {
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

// Fails for case `index` of dataset `di` at `sub` (a path inside the
// case): by JSON path for inline cases, by file and line for files.
[[noreturn]] void fail_in_case(const checker& chk, const dataset_config& ds,
                               size_t di, uint64_t index, uint64_t line,
                               const std::string& sub,
                               const std::string& what) {
  if (ds.file.empty())
    chk.fail(index_path(index_path("datasets", di) + ".cases", index) + "."
               + sub,
             what);
  throw check_failure(ds.file + ":" + std::to_string(line) + ": " + sub + ": "
                      + what);
}

// A conversation's turns on a target that holds no conversations.
[[noreturn]] void no_turns_here(const checker& chk, const dataset_config& ds,
                                size_t di, uint64_t index, uint64_t line,
                                target_type type) {
  fail_in_case(chk, ds, di, index, line, "turns",
               std::string{"is for dify-chat (and stub) targets, not "}
                 + target_type_name(type) + ", expected a query or inputs");
}

// A turn's own inputs may not name files: the task uploads the files of
// its case's inputs only.
void no_files_in_turns(const checker& chk, const dataset_config& ds, size_t di,
                       uint64_t index, uint64_t line, const case_config& c) {
  for (size_t k = 0; k < c.turns.size(); ++k)
    if (names_files(c.turns[k].inputs_json))
      fail_in_case(chk, ds, di, index, line, index_path("turns", k) + ".inputs",
                   "a turn's inputs cannot name files, expected the file in "
                   "the case's inputs");
}

} // namespace

// Streams every dataset once: counts cases, reports the first broken line
// and any duplicate id, and checks that every scripted task exists.
void scan_datasets(const checker& chk, manifest& m) {
  auto scripted = scripted_ids(chk, m);
  bool turns_allowed = m.target.type == target_type::dify_chat
                       || m.target.type == target_type::stub;
  // File inputs ({"file": path}) are Dify's: checked (and hashed) here,
  // once per file, so that a missing or oversized one stops the run.
  bool files = m.target.type == target_type::dify_workflow
               || m.target.type == target_type::dify_chat
               || m.target.type == target_type::dify_completion;
  if (files)
    for (size_t j = 0; j < m.parameters.size(); ++j)
      check_file_inputs(chk, index_path("parameters", j), m.parameters[j], m);
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
        if (!c.turns.empty() && !turns_allowed)
          no_turns_here(chk, ds, di, count, reader.line(), m.target.type);
        if (files)
          no_files_in_turns(chk, ds, di, count, reader.line(), c);
        ++count;
        auto h = troupe_hash(c.id);
        if (filter.add(h))
          suspects.push_back(h);
        if (!wanted_ids.empty())
          if (auto i = wanted_ids.find(c.id); i != wanted_ids.end())
            for (auto k : i->second)
              wanted[k].found = true;
        if (files && may_name_files(c.inputs_json)) {
          if (ds.file.empty())
            check_file_inputs(
              chk,
              index_path(index_path("datasets", di) + ".cases", count - 1)
                + ".inputs",
              c.inputs_json, m);
          else
            check_file_inputs(
              checker{ds.file + ":" + std::to_string(reader.line())}, "inputs",
              c.inputs_json, m);
        }
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

} // namespace troupe::config
