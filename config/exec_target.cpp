// An exec target's keys (argv, pool), and the check that its command can be
// started, made when the manifest is loaded so that `troupe validate` and
// `troupe run` say so at once (exit 2) rather than each attempt failing.

#include "config/json_checks.hpp"
#include "config/target.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace json = boost::json;

namespace troupe::config {

namespace {

// An executable regular file, or why not ("" when it is one).
std::string not_executable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return std::strerror(errno);
  if (!S_ISREG(st.st_mode))
    return "not a regular file";
  if (::access(path.c_str(), X_OK) != 0)
    return "not executable";
  return "";
}

// `path` as the child sees it: relative paths start in its working folder.
std::string in_dir(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || dir.empty())
    return path;
  return dir + "/" + path;
}

} // namespace

void parse_exec_target(const checker& chk, const json::object& obj,
                       target_config& t) {
  auto& argv_v = chk.required(obj, "target", "argv");
  auto& arr = chk.array(argv_v, "target.argv");
  if (arr.empty())
    chk.fail("target.argv",
             "must hold the command and its arguments, "
             "at least one non-empty string",
             argv_v);
  for (size_t i = 0; i < arr.size(); ++i) {
    auto path = index_path("target.argv", i);
    auto arg = chk.string(arr[i], path);
    if (arg.find('\0') != std::string::npos)
      chk.fail(path, "must not hold a NUL character");
    t.argv.push_back(std::move(arg));
  }
  if (auto* p = obj.if_contains("pool"))
    t.pool = static_cast<uint32_t>(chk.integer(*p, "target.pool", 1, 10000));
}

void check_exec_command(const checker& chk, const target_config& t) {
  if (t.type != target_type::exec || t.argv.empty())
    return;
  auto& cmd = t.argv.front();
  const std::string path = "target.argv[0]";
  if (cmd.find('/') != std::string::npos) {
    auto full = in_dir(t.working_dir, cmd);
    if (auto why = not_executable(full); !why.empty())
      chk.fail(path, "\"" + cmd + "\" cannot be run: " + full + ": " + why);
    return;
  }
  // As posix_spawnp searches: PATH, or its default when unset; an empty
  // entry is the working folder.
  auto* env = std::getenv("PATH");
  std::string dirs = env != nullptr ? env : "/bin:/usr/bin";
  std::string why;
  size_t pos = 0;
  while (true) {
    auto end = dirs.find(':', pos);
    auto dir = dirs.substr(pos, end == std::string::npos ? end : end - pos);
    auto full = in_dir(t.working_dir, (dir.empty() ? "." : dir) + "/" + cmd);
    auto err = not_executable(full);
    if (err.empty())
      return;
    if (err != std::strerror(ENOENT) && why.empty())
      why = " (" + full + ": " + err + ")";
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  chk.fail(path, "\"" + cmd + "\" is not an executable file on PATH (" + dirs
                   + ")" + why);
}

uint32_t exec_pool_size(const target_config& t, uint32_t concurrency) {
  if (t.pool > 0)
    return t.pool;
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max(1u, std::min(concurrency, cores));
}

} // namespace troupe::config
