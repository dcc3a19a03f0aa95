// The results file of a run: create, resume, header, and the checks around
// them.

#include "runtime/results_target.hpp"

#include "actors/results/result_fields.hpp"
#include "actors/results/result_line.hpp"
#include "actors/results/result_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace troupe::runtime {

namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// "<manifest stem>-YYYYMMDD-HHMMSS.jsonl" in the current folder, made unique.
std::string default_results_path(const std::string& manifest) {
  auto base = manifest.substr(manifest.rfind('/') + 1);
  auto dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0)
    base.resize(dot);
  auto t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
  std::string path = base + "-" + stamp + ".jsonl";
  for (int i = 2; file_exists(path); ++i)
    path = base + "-" + stamp + "-" + std::to_string(i) + ".jsonl";
  return path;
}

// `what` failed on the file at `path`, which cannot be written.
bool cannot(open_error& err, const std::string& path, const char* what) {
  err.message = path + ": " + what + " (" + std::strerror(errno) + ")";
  err.unwritable = true;
  return false;
}

int open_results(const std::string& path, bool force, open_error& err) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? 0 : O_EXCL);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd >= 0)
    return fd;
  int why = errno;
  if (why == EEXIST) {
    err.message = path
                  + ": results file exists; pass --force to overwrite it, or "
                    "--out to choose another file";
    return fd;
  }
  cannot(err, path, "cannot create results file");
  // A folder, or a name no file could have: the option's fault.
  err.unwritable = why != EISDIR && why != ENAMETOOLONG;
  return fd;
}

// A file that a run killed before its first line left behind: empty, or
// a partial header line. --resume starts it afresh.
bool unstarted_results_file(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  if (st.st_size == 0)
    return true;
  if (st.st_size > 4096)
    return false;
  std::string head(static_cast<size_t>(st.st_size), '\0');
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr)
    return false;
  auto n = std::fread(head.data(), 1, head.size(), f);
  std::fclose(f);
  head.resize(n);
  // Any start of the header line: the header write was cut short.
  std::string_view prefix = header_line_prefix;
  return head.find('\n') == std::string::npos
         && prefix.substr(0, std::min(head.size(), prefix.size()))
              == std::string_view{head}.substr(0, prefix.size());
}

} // namespace

bool skip_on_resume(task_status last, bool rerun_failed) {
  switch (last) {
    case task_status::succeeded:
      return true;
    case task_status::failed:
    case task_status::timeout:
    case task_status::error:
      return !rerun_failed;
    default:
      return false; // CANCELLED, or no terminal line
  }
}

bool write_header(const results_target& t, const run_options& opts,
                  const config::manifest& m, int64_t epoch_us,
                  std::string& err) {
  header_info h;
  h.manifest_hash = m.hash;
  h.version = version();
  h.started_at_us = epoch_us;
  h.manifest = opts.manifest;
  h.name = m.name;
  h.target = config::target_type_name(m.target.type);
  h.tasks = m.task_count();
  h.resumed = t.index != nullptr;
  if (m.target.type == config::target_type::custom)
    h.executor = m.target.name;
  auto line = encode_header(h);
  if ((!t.truncate || ::ftruncate(t.fd, 0) == 0)
      && write_all(t.fd, line.data(), line.size()))
    return true;
  err = t.path + ": cannot write results (" + std::strerror(errno) + ")";
  return false;
}

// Opens --resume F: checks it belongs to this manifest, drops a partial
// last line, and learns which tasks are done.
std::optional<results_target> open_resume(const run_options& opts,
                                          const config::manifest& m,
                                          open_error& err) {
  if (unstarted_results_file(opts.resume)) {
    // Nothing was done: the file starts over, as a new one would.
    results_target out;
    out.path = opts.resume;
    out.fd = ::open(out.path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (out.fd < 0) {
      cannot(err, out.path, "cannot write");
      return std::nullopt;
    }
    std::fprintf(stderr, "troupe: %s: no result line yet; starting it afresh\n",
                 out.path.c_str());
    return out;
  }
  auto loaded = results_index::read(opts.resume, true);
  if (auto* bad = std::get_if<config::config_error>(&loaded)) {
    err.message = bad->message;
    return std::nullopt;
  }
  results_target out;
  out.path = opts.resume;
  out.index = std::make_shared<results_index>(
    std::move(std::get<results_index>(loaded)));
  auto& idx = *out.index;
  if (idx.header().manifest_hash != m.hash) {
    err.message
      = opts.resume + ": written for another manifest: its header says "
        + idx.header().manifest_hash + ", but " + opts.manifest + " is "
        + m.hash
        + "\nhint: resume with the manifest that wrote it, or start a "
          "new results file with --out";
    return std::nullopt;
  }
  if (idx.partial_bytes() > 0) {
    if (::truncate(opts.resume.c_str(),
                   static_cast<off_t>(idx.complete_bytes()))
        != 0) {
      cannot(err, opts.resume, "cannot drop the partial last line");
      return std::nullopt;
    }
    std::fprintf(stderr,
                 "troupe: %s: dropped a partial last line (%llu bytes) left "
                 "by an interrupted writer\n",
                 opts.resume.c_str(),
                 static_cast<unsigned long long>(idx.partial_bytes()));
  }
  out.baseline = std::make_shared<run_stats>();
  idx.for_each_last([&](task_result& r) {
    if (skip_on_resume(r.status, opts.rerun_failed)) {
      out.baseline->add(r);
      ++out.skipped;
    }
  });
  return out;
}

std::optional<results_target> open_new(const run_options& opts,
                                       open_error& err) {
  results_target out;
  out.path = opts.out.empty() ? default_results_path(opts.manifest) : opts.out;
  out.fd = open_results(out.path, opts.force, err);
  if (out.fd < 0)
    return std::nullopt;
  struct stat st;
  out.truncate = opts.force && ::fstat(out.fd, &st) == 0 && S_ISREG(st.st_mode)
                 && st.st_size > 0;
  return out;
}

bool reopen_for_append(results_target& t, open_error& err) {
  t.fd = ::open(t.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  return t.fd >= 0 || cannot(err, t.path, "cannot append");
}

// The manifest and dataset file that `output` would overwrite, if any:
// --force must never turn a run's own input into its results.
std::optional<std::string> input_named_by(const std::string& output,
                                          const config::manifest& m) {
  struct stat out;
  if (output.empty() || ::stat(output.c_str(), &out) != 0)
    return std::nullopt;
  auto same = [&](const std::string& path) {
    struct stat in;
    return ::stat(path.c_str(), &in) == 0 && in.st_dev == out.st_dev
           && in.st_ino == out.st_ino;
  };
  if (same(m.path))
    return "the manifest " + m.path;
  for (size_t i = 0; i < m.datasets.size(); ++i)
    if (!m.datasets[i].file.empty() && same(m.datasets[i].file))
      return "datasets[" + std::to_string(i) + "].file " + m.datasets[i].file;
  return std::nullopt;
}

// Refuses a run whose volume has no room for even its first results,
// when the volume says how much it has; warns when it looks short.
bool enough_space(const results_target& t, uint64_t tasks, std::string& err) {
  struct statvfs vfs;
  if (::fstatvfs(t.fd, &vfs) != 0 || vfs.f_blocks == 0)
    return true; // the volume does not say
  auto free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  constexpr uint64_t minimum = uint64_t{1} << 20;
  if (free_bytes < minimum) {
    err = t.path + ": only " + std::to_string(free_bytes / 1024)
          + " KiB free on its volume; free some space first (results could "
            "not be written)";
    return false;
  }
  // A result line takes about half a KiB, more with large outputs.
  if (free_bytes / 512 < tasks)
    std::fprintf(stderr,
                 "troupe: warning: %s: %llu MiB free may not hold %llu "
                 "results; the run stops at the first failed write\n",
                 t.path.c_str(),
                 static_cast<unsigned long long>(free_bytes >> 20),
                 static_cast<unsigned long long>(tasks));
  return true;
}

bool write_text_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return false;
  bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

} // namespace troupe::runtime
