// The shared state behind one mutex; the active count is atomic, as every
// run call touches it.

#include "tools/fake_dify/server_state.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace troupe::fake_dify {

namespace json = boost::json;

server_state::server_state(const options& opts) : opts_(opts) {
  rng_.seed(opts.seed);
  if (opts.timing_log.empty())
    return;
  timing_log_ = std::fopen(opts.timing_log.c_str(), "a");
  if (timing_log_ == nullptr) // serve() reports it, exit 2
    throw std::runtime_error("--timing-log " + opts.timing_log
                             + ": cannot open it to append ("
                             + std::strerror(errno) + ")");
}

server_state::~server_state() {
  if (timing_log_ != nullptr)
    std::fclose(timing_log_);
}

void server_state::log_timing(const call_timing& t, int64_t answered_us) {
  if (timing_log_ == nullptr)
    return;
  auto first = t.first_event_us >= 0 ? std::to_string(t.first_event_us)
                                     : std::string{"null"};
  std::lock_guard<std::mutex> guard{log_mtx_};
  std::fprintf(timing_log_,
               "{\"inputs\":%s,\"received_us\":%lld,\"answered_us\":%lld,"
               "\"hold_us\":%lld,\"first_event_us\":%s,\"events\":%lld}\n",
               t.inputs.empty() ? "null" : t.inputs.c_str(),
               static_cast<long long>(t.received_us),
               static_cast<long long>(answered_us),
               static_cast<long long>(answered_us - t.received_us),
               first.c_str(), static_cast<long long>(t.events));
  // Whole lines for a reader while the server runs.
  std::fflush(timing_log_);
}

std::string inputs_of(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return {};
  auto* inputs = v.get_object().if_contains("inputs");
  return inputs != nullptr ? json::serialize(*inputs) : std::string{};
}

int64_t server_state::steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

uint64_t server_state::next_id() {
  return next_id_.fetch_add(1);
}

int64_t server_state::now() {
  return static_cast<int64_t>(std::time(nullptr));
}

double server_state::draw() {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::uniform_real_distribution<double>{0, 1}(rng_);
}

int64_t server_state::draw_between(int64_t lo, int64_t hi) {
  std::lock_guard<std::mutex> guard{mtx_};
  return std::uniform_int_distribution<int64_t>{lo, hi}(rng_);
}

int64_t server_state::count_fault(const std::string& key) {
  std::lock_guard<std::mutex> guard{mtx_};
  return ++fault_counts_[key];
}

namespace {

std::string conversation_key(const std::string& user, const std::string& id) {
  return user + '\0' + id;
}

} // namespace

std::optional<std::vector<std::string>>
server_state::conversation(const std::string& user, const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = conversations_.find(conversation_key(user, id));
  if (i == conversations_.end())
    return std::nullopt;
  return i->second;
}

void server_state::remember_turn(const std::string& user, const std::string& id,
                                 const std::string& query) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto key = conversation_key(user, id);
  auto [i, added] = conversations_.try_emplace(key);
  i->second.push_back(query);
  if (!added)
    return;
  conversation_order_.push_back(std::move(key));
  if (conversation_order_.size() > 100000) {
    conversations_.erase(conversation_order_.front());
    conversation_order_.pop_front();
  }
}

void server_state::count(const std::string& path, int status) {
  std::lock_guard<std::mutex> guard{mtx_};
  ++requests_;
  ++by_path_[path];
  ++by_status_[status];
}

void server_state::count_rejected() {
  std::lock_guard<std::mutex> guard{mtx_};
  ++rejected_active_;
}

void server_state::count_lingering() {
  std::lock_guard<std::mutex> guard{mtx_};
  ++lingering_;
}

void server_state::remember_run(const std::string& id, std::string run) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (runs_.emplace(id, std::move(run)).second) {
    run_order_.push_back(id);
    if (run_order_.size() > 10000) {
      runs_.erase(run_order_.front());
      run_order_.pop_front();
    }
  }
}

std::optional<std::string> server_state::find_run(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = runs_.find(id); i != runs_.end())
    return i->second;
  return std::nullopt;
}

void server_state::stop(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  stopped_.insert(id);
  stops_.push_back(id);
}

bool server_state::stopped(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopped_.count(id) > 0;
}

std::string server_state::stats_json() {
  std::lock_guard<std::mutex> guard{mtx_};
  json::object o;
  o["requests"] = requests_;
  o["max_active"] = max_active_seen.load();
  o["rejected_active"] = rejected_active_;
  o["lingering"] = lingering_;
  o["uploads"] = files.count();
  json::object paths;
  for (auto& [p, n] : by_path_)
    paths[p] = n;
  o["by_path"] = std::move(paths);
  json::object statuses;
  for (auto& [s, n] : by_status_)
    statuses[std::to_string(s)] = n;
  o["by_status"] = std::move(statuses);
  json::array st;
  for (auto& s : stops_)
    st.emplace_back(s);
  o["stops"] = std::move(st);
  if (barrier) {
    auto b = barrier->snapshot();
    o["held"] = b.held;
    o["hold_released"] = b.released;
    o["hold_timeouts"] = b.timeouts;
  }
  return json::serialize(o);
}

active_guard::active_guard(server_state& st) : st_(&st) {
  auto now = st.active.fetch_add(1) + 1;
  auto seen = st.max_active_seen.load();
  while (now > seen && !st.max_active_seen.compare_exchange_weak(seen, now)) {
  }
}

active_guard::~active_guard() {
  if (st_ != nullptr)
    st_->active.fetch_sub(1);
}

} // namespace troupe::fake_dify
