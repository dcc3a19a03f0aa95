// The result cache on disk (DIR/ab/abcdef....json), and in front of a run.

#include "runtime/result_cache.hpp"

#include "actors/results/json_text.hpp"
#include "config/hash.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace json = boost::json;

namespace troupe::runtime {

config::result<result_cache> result_cache::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    return config::config_error{dir + ": cannot use as the result cache ("
                                + (ec ? ec.message() : "not a folder") + ")"};
  result_cache c;
  c.dir_ = dir;
  return c;
}

std::string result_cache::key(const config::target_config& t,
                              const task_spec& task) {
  // Everything that shapes the answer, and nothing that does not (the
  // task's id, the run's name, retry and concurrency settings).
  std::string text = "troupe-cache-v1\n";
  text += config::target_type_name(t.type);
  text += '\n' + t.base_url + '\n' + t.url + '\n' + t.method + '\n' + t.body
          + '\n' + (t.streaming ? "streaming" : "blocking") + '\n' + t.user
          + '\n' + t.output_pointer + '\n';
  for (auto& [name, value] : t.headers)
    text += name + ": " + value + '\n';
  text += task.inputs_json + '\n' + task.params_json + '\n' + task.query + '\n'
          + task.conversation_id;
  // A file input's path is in the inputs; its content is not, so its hash
  // goes in (only then: the keys of runs without files stay as they were).
  for (auto& f : task.files)
    text += '\n' + f.hash;
  return config::sha256_hex(text);
}

std::string result_cache::path_of(const std::string& key) const {
  return dir_ + "/" + key.substr(0, 2) + "/" + key + ".json";
}

std::optional<std::string> result_cache::lookup(const std::string& key) const {
  std::ifstream in{path_of(key), std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  json::error_code ec;
  auto v = json::parse(text.str(), ec);
  // A damaged entry is a miss: the task simply runs again.
  if (ec || !v.is_object())
    return std::nullopt;
  auto* out = v.get_object().if_contains("output");
  if (out == nullptr)
    return std::nullopt;
  return out->is_null() ? std::string{} : json::serialize(*out);
}

bool result_cache::store(const std::string& key, const std::string& task_id,
                         const std::string& output_json) const {
  static std::atomic<uint64_t> counter{0};
  auto final_path = path_of(key);
  std::error_code ec;
  std::filesystem::create_directories(dir_ + "/" + key.substr(0, 2), ec);
  auto tmp = final_path + ".tmp." + std::to_string(::getpid()) + "."
             + std::to_string(counter++);
  std::string text = "{\"key\":\"" + key + "\",\"task_id\":";
  append_json_string(text, task_id);
  text += ",\"output\":";
  text += output_json.empty() ? "null" : output_json;
  text += "}\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return false;
  bool ok = ::write(fd, text.data(), text.size())
            == static_cast<ssize_t>(text.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

cached_source::cached_source(std::shared_ptr<task_source> source,
                             std::shared_ptr<const result_cache> cache,
                             const config::target_config& target)
  : source_(std::move(source)), cache_(std::move(cache)), target_(target) {}

bool cached_source::next(task_spec& out) {
  if (!source_->next(out))
    return false;
  // A conversation is never cached: each answer depends on the ones before
  // it, and one cached output could not stand for all its turns.
  if (!out.turns.empty())
    return true;
  auto key = result_cache::key(target_, out);
  std::lock_guard<std::mutex> guard{mutex_};
  keys_[out.seq] = std::move(key);
  return true;
}

bool cached_source::next_item(source_item& out) {
  out.answer.reset();
  if (!source_->next(out.task))
    return false;
  if (!out.task.turns.empty())
    return true; // never cached (see next)
  auto key = result_cache::key(target_, out.task);
  if (auto hit = cache_->lookup(key)) {
    auto& r = out.answer.emplace(result_for(out.task));
    r.status = task_status::succeeded;
    r.output_json = std::move(*hit);
    r.cached = true;
    return true;
  }
  std::lock_guard<std::mutex> guard{mutex_};
  keys_[out.task.seq] = std::move(key);
  return true;
}

std::string cached_source::error() const {
  return source_->error();
}

void cached_source::observe(const task_result& r) {
  std::string key;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto i = keys_.find(r.seq);
    if (i == keys_.end())
      return;
    key = std::move(i->second);
    keys_.erase(i);
  }
  if (r.status != task_status::succeeded || r.cached)
    return;
  if (!cache_->store(key, r.task_id, r.output_json))
    std::fprintf(stderr, "troupe: %s: cannot write a cache entry\n",
                 cache_->dir().c_str());
}

} // namespace troupe::runtime
