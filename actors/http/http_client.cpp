// libcurl multi + epoll.

#include "actors/http/http_client.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
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

bool is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return true;
    default:
      return false;
  }
}

/// One transfer; its easy handle is reused for later transfers.
struct transfer {
  uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  http_call call;
  http_outcome outcome;
  bool owns_headers = false;
  bool stream = false;
  bool active = false;
  uint64_t received = 0;
  uint64_t limit = 0;
  /// The client's impl, for stream chunks.
  void* owner = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
};

struct command {
  enum kind_t { submit, abort } kind;
  uint64_t id;
  http_call call;
};

} // namespace

struct http_client::impl {
  http_client_options opts;
  done_fn on_done;
  chunk_fn on_chunk;
  CURLM* multi = nullptr;
  int epfd = -1;
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
  int64_t timer_deadline_us = -1;

  explicit impl(http_client_options o) : opts(std::move(o)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    epfd = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &impl::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &impl::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    // Keep every idle connection for reuse: the default cache (four per
    // transfer in progress) shrinks as transfers finish and then closes
    // connections a moment later needs again.
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 100000L);
  }

  void start(done_fn d, chunk_fn c) {
    if (thread.joinable() || stopping)
      return;
    on_done = std::move(d);
    on_chunk = std::move(c);
    thread = std::thread{[this] { loop(); }};
  }

  ~impl() {
    stop();
    for (auto* t : spare) {
      curl_easy_cleanup(t->easy);
      delete t;
    }
    curl_multi_cleanup(multi);
    for (auto& kv : header_lists)
      curl_slist_free_all(kv.second);
    ::close(epfd);
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

  // -- curl callbacks ---------------------------------------------------------

  // The epoll set follows libcurl lazily. A keep-alive connection goes
  // idle and busy again with every request; instead of deleting and adding
  // it each time (two syscalls per request), an idle socket stays in the set
  // ("parked") and leaves it only if it reports an event while parked. The
  // close callback tells when a socket is really gone.
  struct fd_state {
    uint32_t kernel = 0; // events registered with epoll, 0 = not in the set
    uint32_t wanted = 0; // events libcurl waits for, 0 = parked
  };
  std::vector<fd_state> fds;

  fd_state& fd_at(curl_socket_t fd) {
    if (static_cast<size_t>(fd) >= fds.size())
      fds.resize(static_cast<size_t>(fd) + 1024);
    return fds[static_cast<size_t>(fd)];
  }

  void set_kernel(curl_socket_t fd, uint32_t events) {
    auto& f = fd_at(fd);
    if (f.kernel == events)
      return;
    epoll_event ev{};
    ev.data.fd = fd;
    ev.events = events;
    if (events == 0) {
      ::epoll_ctl(epfd, EPOLL_CTL_DEL, fd, nullptr);
    } else if (f.kernel == 0) {
      if (::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
        ::epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    } else if (::epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) != 0
               && errno == ENOENT) {
      ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    }
    f.kernel = events;
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr,
                       void*) {
    auto* self = static_cast<impl*>(self_ptr);
    auto& f = self->fd_at(fd);
    if (what == CURL_POLL_REMOVE) {
      f.wanted = 0;
      // Parked: a writable socket would report at once, so keep only IN.
      if (f.kernel & EPOLLOUT)
        self->set_kernel(fd, EPOLLIN);
      return 0;
    }
    uint32_t events = 0;
    if (what & CURL_POLL_IN)
      events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
      events |= EPOLLOUT;
    f.wanted = events;
    self->set_kernel(fd, events);
    return 0;
  }

  static int on_close(void* self_ptr, curl_socket_t fd) {
    auto* self = static_cast<impl*>(self_ptr);
    // Closing removes the socket from the epoll set; forget it.
    auto& f = self->fd_at(fd);
    f.kernel = 0;
    f.wanted = 0;
    return ::close(fd);
  }

  static int on_timer(CURLM*, long timeout_ms, void* self_ptr) {
    auto* self = static_cast<impl*>(self_ptr);
    self->timer_deadline_us
      = timeout_ms < 0 ? -1 : http_client::now_us() + timeout_ms * 1000;
    return 0;
  }

  static size_t on_header(char* data, size_t size, size_t n, void* ptr) {
    auto* t = static_cast<transfer*>(ptr);
    auto len = size * n;
    std::string_view line{data, len};
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
      auto name = line.substr(0, colon);
      auto value = line.substr(colon + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty()
             && (value.back() == '\r' || value.back() == '\n'
                 || value.back() == ' '))
        value.remove_suffix(1);
      auto is = [&](const char* want) {
        return name.size() == std::strlen(want)
               && ::strncasecmp(name.data(), want, name.size()) == 0;
      };
      if (is("retry-after"))
        t->outcome.retry_after.assign(value);
      else if (is("content-type"))
        t->outcome.content_type.assign(value);
    }
    return len;
  }

  static size_t on_body(char* data, size_t size, size_t n, void* ptr) {
    auto* t = static_cast<transfer*>(ptr);
    auto len = size * n;
    t->received += len;
    if (t->received > t->limit) {
      t->outcome.too_large = true;
      return 0; // aborts the transfer
    }
    if (t->stream) {
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200) {
        auto* self = static_cast<impl*>(t->owner);
        self->on_chunk(t->id, 200, std::string{data, len},
                       http_client::now_us());
        return len;
      }
    }
    t->outcome.body.append(data, len);
    return len;
  }

  // -- the loop ---------------------------------------------------------------

  void loop() {
    std::vector<epoll_event> events(512);
    int running = 0;
    while (!stopping) {
      int timeout = -1;
      if (timer_deadline_us >= 0) {
        auto left = timer_deadline_us - http_client::now_us();
        timeout = left <= 0 ? 0 : static_cast<int>((left + 999) / 1000);
      }
      int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()),
                           timeout);
      if (n < 0 && errno != EINTR)
        break;
      for (int i = 0; i < n; ++i) {
        auto fd = events[i].data.fd;
        if (fd == wakefd) {
          uint64_t count;
          while (::read(wakefd, &count, sizeof(count)) > 0) {
          }
          run_queue();
          continue;
        }
        if (fd_at(fd).wanted == 0) {
          // Parked and stirring (the server closed it): stop listening.
          set_kernel(fd, 0);
          continue;
        }
        int flags = 0;
        if (events[i].events & EPOLLIN)
          flags |= CURL_CSELECT_IN;
        if (events[i].events & EPOLLOUT)
          flags |= CURL_CSELECT_OUT;
        if (events[i].events & (EPOLLERR | EPOLLHUP))
          flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(multi, fd, flags, &running);
      }
      if (timer_deadline_us >= 0
          && timer_deadline_us <= http_client::now_us()) {
        timer_deadline_us = -1;
        curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      collect_done();
      if (draining)
        report_idle();
    }
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

  transfer* acquire() {
    if (!spare.empty()) {
      // No curl_easy_reset: start() sets every option a transfer uses.
      auto* t = spare.back();
      spare.pop_back();
      return t;
    }
    auto* t = new transfer;
    t->easy = curl_easy_init();
    t->owner = this;
    return t;
  }

  void release(transfer* t) {
    if (t->active)
      curl_multi_remove_handle(multi, t->easy);
    t->active = false;
    if (t->owns_headers)
      curl_slist_free_all(t->headers);
    t->headers = nullptr;
    t->owns_headers = false;
    t->call = http_call{};
    t->outcome = http_outcome{};
    t->received = 0;
    // Keep a bounded number of easy handles for reuse.
    if (spare.size() < 20000) {
      spare.push_back(t);
    } else {
      curl_easy_cleanup(t->easy);
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
    auto* e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->call.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &impl::on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &impl::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &impl::on_close);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    if (!opts.ca_file.empty())
      curl_easy_setopt(e, CURLOPT_CAINFO, opts.ca_file.c_str());
    // The transfer as a whole has no libcurl timeout: the worker's deadline
    // aborts it.
    bool https = t->call.url.compare(0, 8, "https://") == 0;
    // An explicit proxy (empty for none) also spares libcurl its own
    // environment lookups on every request.
    auto& proxy = https ? opts.https_proxy : opts.http_proxy;
    curl_easy_setopt(e, CURLOPT_PROXY, proxy.c_str());
    curl_easy_setopt(e, CURLOPT_NOPROXY,
                     opts.no_proxy.empty() ? nullptr : opts.no_proxy.c_str());
    auto& m = t->call.method;
    if (m == "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, nullptr);
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                       m == "POST" ? nullptr : m.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->call.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(t->call.body.size()));
    }
    set_headers(t);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    t->active = true;
    active[id] = t;
    curl_multi_add_handle(multi, e);
  }

  // Header lists are shared between transfers with the same headers (all
  // calls of a Dify run): no list to build and free per request.
  std::unordered_map<std::string, curl_slist*> header_lists;

  void set_headers(transfer* t) {
    std::string key;
    for (auto& h : t->call.headers) {
      key += h;
      key += '\n';
    }
    if (auto i = header_lists.find(key); i != header_lists.end()) {
      t->headers = i->second;
      t->owns_headers = false;
      return;
    }
    curl_slist* list = nullptr;
    for (auto& h : t->call.headers)
      list = curl_slist_append(list, h.c_str());
    // No "Expect: 100-continue" round trip for large bodies.
    list = curl_slist_append(list, "Expect:");
    if (header_lists.size() < 64) {
      header_lists.emplace(std::move(key), list);
      t->owns_headers = false;
    } else {
      t->owns_headers = true; // templated headers: one list per transfer
    }
    t->headers = list;
  }

  void drop(uint64_t id) {
    auto i = active.find(id);
    if (i == active.end())
      return;
    auto* t = i->second;
    active.erase(i);
    release(t);
  }

  void collect_done() {
    int left = 0;
    while (auto* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      auto rc = msg->data.result;
      long status = 0;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
      auto& o = t->outcome;
      o.status = static_cast<int>(status);
      if (rc != CURLE_OK && !o.too_large) {
        o.transport_error = static_cast<int>(rc);
        o.transport_message
          = t->error[0] != '\0' ? t->error : curl_easy_strerror(rc);
        o.tls_error = is_tls_error(rc);
      }
      auto id = t->id;
      done_batch.push_back(http_result{id, std::move(o)});
      active.erase(id);
      release(t);
    }
    if (!done_batch.empty()) {
      on_done(std::move(done_batch));
      done_batch.clear();
    }
  }

  std::vector<http_result> done_batch;
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

void http_client::start(done_fn on_done, chunk_fn on_chunk) {
  impl_->start(std::move(on_done), std::move(on_chunk));
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
