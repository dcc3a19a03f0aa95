// Streams every dataset once before a run: counts cases, finds broken lines
// and duplicate ids, and checks the tasks the stub script names.

#include "config/dataset_scan.hpp"

#include "config/dataset_reader.hpp"
#include "config/file_inputs.hpp"
#include "config/json_checks.hpp"
#include "messages/fnv1a.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
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

// What a pass over a dataset, or a part of its file, found.
struct part_scan {
  uint64_t count = 0;
  /// The lines read, blank ones included.
  uint64_t lines = 0;
  /// The ids' hashes, when a part after the first: they go to the filter
  /// in the file's order once every part is read.
  std::vector<uint64_t> hashes;
  /// The scripted ids found (indexes into the dataset's wanted ids).
  std::vector<size_t> found;
};

// What every part of a dataset's pass shares, read only.
struct scan_context {
  const checker& chk;
  manifest& m;
  size_t di;
  bool turns_allowed;
  bool files;
  const std::unordered_map<std::string, std::vector<size_t>>& wanted_ids;
};

// Reads the cases of `reader` into `out`: each id's hash to `filter` (its
// suspected duplicates to `suspects`), or without one to out.hashes. Throws
// check_failure at the first problem.
void scan_part(const scan_context& cx, case_reader& reader, id_filter* filter,
               std::vector<uint64_t>& suspects, part_scan& out) {
  auto& ds = cx.m.datasets[cx.di];
  auto& chk = cx.chk;
  case_config c;
  while (reader.next(c)) {
    if (!c.turns.empty() && !cx.turns_allowed)
      no_turns_here(chk, ds, cx.di, out.count, reader.line(), cx.m.target.type);
    if (cx.files)
      no_files_in_turns(chk, ds, cx.di, out.count, reader.line(), c);
    ++out.count;
    auto h = troupe_hash(c.id);
    if (filter == nullptr)
      out.hashes.push_back(h);
    else if (filter->add(h))
      suspects.push_back(h);
    if (!cx.wanted_ids.empty())
      if (auto i = cx.wanted_ids.find(c.id); i != cx.wanted_ids.end())
        out.found.insert(out.found.end(), i->second.begin(), i->second.end());
    if (cx.files && may_name_files(c.inputs_json)) {
      if (ds.file.empty())
        check_file_inputs(
          chk,
          index_path(index_path("datasets", cx.di) + ".cases", out.count - 1)
            + ".inputs",
          c.inputs_json, cx.m);
      else
        check_file_inputs(
          checker{ds.file + ":" + std::to_string(reader.line())}, "inputs",
          c.inputs_json, cx.m);
    }
  }
  if (reader.error())
    throw check_failure(reader.error()->message);
  out.lines = reader.lines_read();
}

// Where the parts of a file of `size` bytes begin: `n` of about equal size,
// each at the start of a line (fewer when lines are long).
std::vector<uint64_t> part_starts(const std::string& path, uint64_t size,
                                  size_t n) {
  std::vector<uint64_t> starts{0};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return starts;
  char buf[4096];
  for (size_t k = 1; k < n; ++k) {
    // From the byte before the k-th n-th of the file (and past the last
    // part's start): a line may begin right at that n-th.
    uint64_t pos = std::max(size * k / n, starts.back() + 1) - 1;
    if (::fseeko(f, static_cast<off_t>(pos), SEEK_SET) != 0)
      break;
    bool found = false;
    while (!found) {
      auto got = std::fread(buf, 1, sizeof(buf), f);
      if (got == 0)
        break;
      auto* nl = static_cast<char*>(std::memchr(buf, '\n', got));
      found = nl != nullptr;
      pos += found ? static_cast<uint64_t>(nl - buf) + 1 : got;
    }
    if (!found || pos >= size)
      break;
    starts.push_back(pos);
  }
  std::fclose(f);
  return starts;
}

// Reads a JSONL file in parts, the first on this thread and each other on
// one of its own, as one pass would: the same counts, the same suspects in
// the same order, and the first problem in the file's order, with its line.
void scan_in_parts(const scan_context& cx, const std::vector<uint64_t>& starts,
                   id_filter& filter, std::vector<uint64_t>& suspects,
                   part_scan& total) {
  auto& ds = cx.m.datasets[cx.di];
  auto n = starts.size();
  // The last part reads to the file's end, wherever that is by then.
  auto end_of = [&](size_t i) {
    return i + 1 < n ? starts[i + 1] : std::numeric_limits<uint64_t>::max();
  };
  std::vector<part_scan> parts(n);
  std::vector<std::exception_ptr> thrown(n);
  // Lines count from 1 in each part; a broken part after the first is read
  // again below, numbered from where it really starts.
  auto read = [&](size_t i) {
    try {
      case_reader reader{ds, starts[i], end_of(i), 1};
      scan_part(cx, reader, i == 0 ? &filter : nullptr, suspects, parts[i]);
    } catch (...) {
      thrown[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(n);
  size_t inline_from = n;
  for (size_t i = 1; i < n; ++i) {
    try {
      threads.emplace_back(read, i);
    } catch (const std::exception&) {
      inline_from = i; // no thread to be had: the rest here
      break;
    }
  }
  // Nothing below throws before the joins: `read` keeps what it caught.
  read(0);
  for (size_t i = inline_from; i < n; ++i)
    read(i);
  for (auto& t : threads)
    t.join();
  uint64_t first_line = 1;
  for (size_t i = 0; i < n; ++i) {
    if (thrown[i]) {
      try {
        std::rethrow_exception(thrown[i]);
      } catch (const check_failure&) {
        if (i == 0)
          throw; // numbered from the file's first line already
        // Again from its true first line: the error, numbered as one
        // pass numbers it; or, if the failure passed (a file descriptor
        // short), what the part holds.
        case_reader reader{ds, starts[i], end_of(i), first_line};
        parts[i] = part_scan{};
        std::vector<uint64_t> unused;
        scan_part(cx, reader, nullptr, unused, parts[i]);
      }
    }
    first_line += parts[i].lines;
  }
  for (size_t i = 0; i < n; ++i) {
    total.count += parts[i].count;
    total.found.insert(total.found.end(), parts[i].found.begin(),
                       parts[i].found.end());
    for (auto h : parts[i].hashes)
      if (filter.add(h))
        suspects.push_back(h);
  }
}

} // namespace

// Streams every dataset once: counts cases, reports the first broken line
// and any duplicate id, and checks that every scripted task exists.
void scan_datasets(const checker& chk, manifest& m, const scan_options& so) {
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
  auto threads = so.threads > 0 ? so.threads : std::min(8u, wanted_threads());
  for (size_t di = 0; di < m.datasets.size(); ++di) {
    auto& ds = m.datasets[di];
    auto size = ds.file.empty() ? 0 : file_size(ds.file);
    // About 16 bits per case for files (lines of 40 bytes or more), 32 for
    // inline cases: false alarms stay rare, and a false alarm only costs a
    // second pass.
    auto bits = ds.file.empty()
                  ? ds.cases.size() * 32
                  : std::min<uint64_t>(size / 2, uint64_t{1} << 32);
    id_filter filter{bits};
    std::vector<uint64_t> suspects;
    auto& wanted = scripted[di];
    std::unordered_map<std::string, std::vector<size_t>> wanted_ids;
    for (size_t i = 0; i < wanted.size(); ++i)
      wanted_ids[wanted[i].case_id].push_back(i);
    scan_context cx{chk, m, di, turns_allowed, files, wanted_ids};
    part_scan total;
    // A JSONL file in parts, one per core: file inputs (hashed into `m`
    // as they are found), CSV records (which may span lines) and files
    // over so.most_bytes in one.
    auto n = std::min<uint64_t>(threads,
                                size / std::max<uint64_t>(so.part_bytes, 1));
    std::vector<uint64_t> starts;
    if (n >= 2 && size <= so.most_bytes && !files && !is_csv_file(ds.file)
        && !check_input_file(ds.file, "dataset file"))
      starts = part_starts(ds.file, size, static_cast<size_t>(n));
    if (so.parts_read != nullptr)
      *so.parts_read
        = std::max(*so.parts_read, std::max<size_t>(starts.size(), 1));
    if (starts.size() >= 2) {
      scan_in_parts(cx, starts, filter, suspects, total);
    } else {
      case_reader reader{ds};
      scan_part(cx, reader, &filter, suspects, total);
    }
    for (auto k : total.found)
      wanted[k].found = true;
    ds.case_count = total.count;
    if (total.count == 0)
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
