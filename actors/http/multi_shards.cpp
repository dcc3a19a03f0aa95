// Multi handles, each with its own timer deadline, driven by one loop.

#include "actors/http/multi_shards.hpp"

#include "actors/http/curl_library.hpp"

#include <chrono>

namespace troupe {

namespace {

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace

size_t pick_shard(const std::vector<uint32_t>& loads, uint32_t per_shard) {
  for (size_t i = 0; i < loads.size(); ++i)
    if (loads[i] < per_shard)
      return i;
  return loads.size();
}

multi_shards::multi_shards(socket_set& sockets, uint32_t per_shard,
                           setup_fn setup)
  : sockets_(sockets),
    per_shard_(per_shard > 0 ? per_shard : 1),
    setup_(std::move(setup)),
    share_(curl::lib().share_init()) {
  curl::lib().share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
}

// The caller removed every transfer; cleanup closes the cached connections
// (through socket_set::on_close, so the set outlives this).
multi_shards::~multi_shards() {
  for (auto& s : shards_)
    curl::lib().multi_cleanup(s->multi);
  curl::lib().share_cleanup(share_);
}

int64_t multi_shards::add(CURL* easy) {
  auto i = pick_shard(loads_, per_shard_);
  if (i == shards_.size()) {
    auto s = std::make_unique<shard>();
    s->multi = curl::lib().multi_init();
    s->owner = socket_owner{&sockets_, static_cast<uint32_t>(i)};
    curl::lib().multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION,
                             &socket_set::on_socket);
    curl::lib().multi_setopt(s->multi, CURLMOPT_SOCKETDATA, &s->owner);
    curl::lib().multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, &on_timer);
    curl::lib().multi_setopt(s->multi, CURLMOPT_TIMERDATA, s.get());
    setup_(s->multi);
    shards_.push_back(std::move(s));
    loads_.push_back(0);
  }
  if (curl::lib().multi_add_handle(shards_[i]->multi, easy) != CURLM_OK)
    return -1;
  ++loads_[i];
  return static_cast<int64_t>(i);
}

void multi_shards::remove(uint32_t index, CURL* easy) {
  curl::lib().multi_remove_handle(shards_[index]->multi, easy);
  --loads_[index];
}

void multi_shards::on_socket_event(curl_socket_t fd, int flags) {
  int running = 0;
  curl::lib().multi_socket_action(shards_[sockets_.owner(fd)]->multi, fd, flags,
                                  &running);
}

int multi_shards::timeout_ms(int64_t now_us) const {
  int64_t first = -1;
  for (auto& s : shards_)
    if (s->deadline_us >= 0 && (first < 0 || s->deadline_us < first))
      first = s->deadline_us;
  if (first < 0)
    return -1;
  auto left = first - now_us;
  return left <= 0 ? 0 : static_cast<int>((left + 999) / 1000);
}

void multi_shards::run_timers(int64_t now_us) {
  for (auto& s : shards_) {
    if (s->deadline_us < 0 || s->deadline_us > now_us)
      continue;
    s->deadline_us = -1;
    int running = 0;
    curl::lib().multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

void multi_shards::collect(const std::function<void(CURLMsg*)>& fn) {
  for (auto& s : shards_) {
    int left = 0;
    while (auto* msg = curl::lib().multi_info_read(s->multi, &left))
      fn(msg);
  }
}

int multi_shards::on_timer(CURLM*, long timeout_ms, void* shard_ptr) {
  auto* s = static_cast<shard*>(shard_ptr);
  s->deadline_us = timeout_ms < 0 ? -1 : steady_us() + timeout_ms * 1000;
  return 0;
}

} // namespace troupe
