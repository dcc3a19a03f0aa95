// The client's loop: libcurl multi driven by epoll, requests queued from
// other threads, finished transfers reported in batches.

#include "actors/http/http_client.hpp"

#include "actors/http/curl_library.hpp"
#include "actors/http/curl_transfer.hpp"
#include "actors/http/multi_shards.hpp"
#include "actors/http/socket_set.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace troupe {

namespace {

std::string getenv_any(std::initializer_list<const char*> names) {
  for (auto* name : names)
    if (auto* v = std::getenv(name); v != nullptr && *v != '\0')
      return v;
  return {};
}

using curl::header_lists;
using curl::transfer;

struct command {
  enum kind_t { submit, abort } kind;
  uint64_t id;
  http_call call;
};

} // namespace

struct http_client::impl {
  http_client_options opts;
  done_fn on_done;
  chunks_fn on_chunks;
  socket_set sockets;
  header_lists headers;
  multi_shards shards;
  int wakefd = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};
  /// Set by drain(): the loop then says when nothing is queued or active.
  std::atomic<bool> draining{false};
  std::mutex mtx;
  std::condition_variable idle_cv;
  bool idle = false; // guarded by mtx
  std::vector<command> queue;
  std::unordered_map<uint64_t, transfer*> active;
  std::vector<transfer*> spare;
  std::vector<http_result> done_batch;
  /// Streams' bytes of this turn, filled by curl::on_body.
  std::vector<http_chunk> chunk_batch;

  explicit impl(http_client_options o)
    : opts(std::move(o)),
      shards(sockets, opts.transfers_per_shard, [](CURLM* multi) {
        // Keep every idle connection for reuse: the default cache (four
        // per transfer in progress) shrinks as transfers finish and then
        // closes connections a moment later needs again.
        curl::lib().multi_setopt(multi, CURLMOPT_MAXCONNECTS, 100000L);
      }) {
    wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    sockets.add_reader(wakefd);
  }

  void start(done_fn d, chunks_fn c) {
    if (thread.joinable() || stopping)
      return;
    on_done = std::move(d);
    on_chunks = std::move(c);
    thread = std::thread{[this] { loop(); }};
  }

  // The sockets and header lists outlive the shards' multi handles (members
  // are destroyed in reverse order), whose cleanup closes the cached
  // connections through socket_set::on_close.
  ~impl() {
    stop();
    for (auto* t : spare) {
      curl::lib().easy_cleanup(t->easy);
      delete t;
    }
    ::close(wakefd);
  }

  void stop() {
    if (stopping.exchange(true))
      return;
    wake();
    if (thread.joinable())
      thread.join();
    for (auto& [id, t] : active)
      release(t);
    active.clear();
  }

  bool drain(std::chrono::milliseconds limit) {
    if (!thread.joinable() || stopping)
      return true;
    draining = true;
    wake(); // the loop checks after its next turn
    std::unique_lock<std::mutex> lock{mtx};
    return idle_cv.wait_for(lock, limit, [this] { return idle; });
  }

  // On the loop's thread, which alone touches `active`.
  void report_idle() {
    std::lock_guard<std::mutex> guard{mtx};
    idle = queue.empty() && active.empty();
    if (idle)
      idle_cv.notify_all();
  }

  void wake() {
    uint64_t one = 1;
    auto n = ::write(wakefd, &one, sizeof(one));
    (void)n;
  }

  void push(command cmd) {
    bool was_empty;
    {
      std::lock_guard<std::mutex> guard{mtx};
      was_empty = queue.empty();
      queue.push_back(std::move(cmd));
    }
    if (was_empty)
      wake();
  }

  // -- the loop ---------------------------------------------------------------

  void loop() {
    std::vector<epoll_event> events(512);
    while (!stopping) {
      int n = sockets.wait(events, shards.timeout_ms(http_client::now_us()));
      if (n < 0 && errno != EINTR)
        break;
      for (int i = 0; i < n; ++i)
        on_event(events[i]);
      shards.run_timers(http_client::now_us());
      collect_done();
      if (draining)
        report_idle();
    }
  }

  void on_event(const epoll_event& ev) {
    auto fd = ev.data.fd;
    if (fd == wakefd) {
      uint64_t count;
      while (::read(wakefd, &count, sizeof(count)) > 0) {
      }
      run_queue();
      return;
    }
    if (!sockets.wanted(fd)) {
      // Parked and stirring (the server closed it): stop listening.
      sockets.unpark(fd);
      return;
    }
    int flags = 0;
    if (ev.events & EPOLLIN)
      flags |= CURL_CSELECT_IN;
    if (ev.events & EPOLLOUT)
      flags |= CURL_CSELECT_OUT;
    if (ev.events & (EPOLLERR | EPOLLHUP))
      flags |= CURL_CSELECT_ERR;
    shards.on_socket_event(fd, flags);
  }

  void run_queue() {
    std::vector<command> cmds;
    {
      std::lock_guard<std::mutex> guard{mtx};
      cmds.swap(queue);
    }
    for (auto& cmd : cmds) {
      if (cmd.kind == command::submit)
        start(cmd.id, std::move(cmd.call));
      else
        drop(cmd.id);
    }
  }

  // -- transfers --------------------------------------------------------------

  transfer* acquire() {
    if (!spare.empty()) {
      // No curl_easy_reset: configure() sets every option a transfer uses.
      auto* t = spare.back();
      spare.pop_back();
      return t;
    }
    auto* t = new transfer;
    t->easy = curl::lib().easy_init();
    // Once per handle: setting it again would detach and attach each time.
    curl::lib().easy_setopt(t->easy, CURLOPT_SHARE, shards.share());
    t->chunks = &chunk_batch;
    return t;
  }

  void release(transfer* t) {
    if (t->active)
      shards.remove(t->shard, t->easy);
    t->active = false;
    curl::free_form(*t);
    if (t->owns_headers)
      curl::lib().slist_free_all(t->headers);
    t->headers = nullptr;
    t->owns_headers = false;
    t->call = http_call{};
    t->outcome = http_outcome{};
    t->received = 0;
    // Keep a bounded number of easy handles for reuse.
    if (spare.size() < 20000) {
      spare.push_back(t);
    } else {
      curl::lib().easy_cleanup(t->easy);
      delete t;
    }
  }

  void start(uint64_t id, http_call call) {
    auto* t = acquire();
    t->id = id;
    t->call = std::move(call);
    t->stream = t->call.stream;
    t->limit = opts.max_response_bytes;
    t->error[0] = '\0';
    headers.assign(*t);
    curl::configure(*t, opts, t->headers, &sockets);
    auto shard = shards.add(t->easy);
    if (shard < 0) {
      // libcurl refused it (out of memory): a transport error, reported
      // with this turn's other completions.
      curl::complete(*t, CURLE_OUT_OF_MEMORY);
      done_batch.push_back(http_result{id, std::move(t->outcome)});
      release(t);
      return;
    }
    t->shard = static_cast<uint32_t>(shard);
    t->active = true;
    active[id] = t;
  }

  void drop(uint64_t id) {
    auto i = active.find(id);
    if (i == active.end())
      return;
    auto* t = i->second;
    active.erase(i);
    release(t);
  }

  // The turn's chunks go first: a stream's last bytes before its end.
  void collect_done() {
    if (!chunk_batch.empty()) {
      on_chunks(std::move(chunk_batch));
      chunk_batch.clear();
    }
    shards.collect([this](CURLMsg* msg) {
      if (msg->msg != CURLMSG_DONE)
        return;
      transfer* t = nullptr;
      curl::lib().easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      curl::complete(*t, msg->data.result);
      auto id = t->id;
      done_batch.push_back(http_result{id, std::move(t->outcome)});
      active.erase(id);
      release(t);
    });
    if (!done_batch.empty()) {
      on_done(std::move(done_batch));
      done_batch.clear();
    }
  }
};

void proxy_from_environment(http_client_options& out) {
  // libcurl itself ignores an upper-case HTTP_PROXY (the "httpoxy" rule for
  // CGI programs); troupe is no CGI program, so it takes both cases.
  auto all = getenv_any({"ALL_PROXY", "all_proxy"});
  out.http_proxy = getenv_any({"http_proxy", "HTTP_PROXY"});
  if (out.http_proxy.empty())
    out.http_proxy = all;
  out.https_proxy = getenv_any({"https_proxy", "HTTPS_PROXY"});
  if (out.https_proxy.empty())
    out.https_proxy = all;
  out.no_proxy = getenv_any({"no_proxy", "NO_PROXY"});
}

http_client::http_client(http_client_options opts)
  : impl_(std::make_unique<impl>(std::move(opts))) {}

void http_client::start(done_fn on_done, chunks_fn on_chunks) {
  impl_->start(std::move(on_done), std::move(on_chunks));
}

http_client::~http_client() = default;

void http_client::submit(uint64_t id, http_call call) {
  impl_->push(command{command::submit, id, std::move(call)});
}

void http_client::abort(uint64_t id) {
  impl_->push(command{command::abort, id, {}});
}

bool http_client::drain(std::chrono::milliseconds limit) {
  return impl_->drain(limit);
}

void http_client::stop() {
  impl_->stop();
}

int64_t http_client::now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace troupe
