/* The bare libcurl loop that troupe's HTTP path is measured against (issue
 * 13, benchmarks B4 and B9): no troupe at all, only libcurl's multi
 * interface driven by curl_multi_socket_action and one epoll loop, the
 * design troupe's HTTP client uses. It keeps IN_FLIGHT POSTs open at once,
 * spread over SHARDS multi handles (libcurl 7.88 scans every connection to
 * a host for each new transfer, so the cost per transfer grows with the
 * transfers on one handle), until TOTAL have finished, and prints one JSON
 * line: requests, failures, seconds, requests per second, and the p50,
 * p90, p99 and max of libcurl's total time per transfer.
 *
 *   cc -O2 -o build/curl_multi_loop bench/limits/curl_multi_loop.c -lcurl
 *   build/curl_multi_loop URL TOTAL IN_FLIGHT [SHARDS] [BODY]
 *
 * e.g. against `troupe fake-dify --listen 127.0.0.1:5001`:
 *   build/curl_multi_loop http://127.0.0.1:5001/v1/workflows/run 100000 64 \
 *     1 '{"inputs":{"text":"hi"},"response_mode":"blocking","user":"b"}'
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

struct shard {
  CURLM* multi;
  double deadline; /* when libcurl's timer fires, -1 for none */
};

static int epfd;
static struct shard* shards;
static int nshards;

/* An epoll event's data: the shard and the socket. */
struct watch {
  int shard;
  curl_socket_t fd;
};

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static size_t discard(char* p, size_t size, size_t n, void* user) {
  (void)p;
  (void)user;
  return size * n;
}

static int on_socket(CURL* e, curl_socket_t fd, int what, void* user,
                     void* socketp) {
  (void)e;
  struct watch* w = socketp;
  int shard = (int)(long)user;
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  if (what == CURL_POLL_REMOVE) {
    if (w != NULL) {
      epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
      free(w);
      curl_multi_assign(shards[shard].multi, fd, NULL);
    }
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u)
              | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
  if (w == NULL) {
    w = malloc(sizeof(*w));
    w->shard = shard;
    w->fd = fd;
    ev.data.ptr = w;
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    curl_multi_assign(shards[shard].multi, fd, w);
  } else {
    ev.data.ptr = w;
    epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
  }
  return 0;
}

static int on_timer(CURLM* m, long timeout_ms, void* user) {
  (void)m;
  shards[(int)(long)user].deadline
    = timeout_ms < 0 ? -1 : now_s() + (double)timeout_ms / 1000.0;
  return 0;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s URL TOTAL IN_FLIGHT [SHARDS] [BODY]\n", argv[0]);
    return 2;
  }
  const char* url = argv[1];
  long total = atol(argv[2]);
  long in_flight = atol(argv[3]);
  nshards = argc > 4 ? atoi(argv[4]) : 1;
  const char* body = argc > 5 ? argv[5] : "{}";
  if (total < 1 || in_flight < 1 || nshards < 1) {
    fprintf(stderr, "TOTAL, IN_FLIGHT and SHARDS must be at least 1\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  epfd = epoll_create1(0);
  shards = calloc((size_t)nshards, sizeof(*shards));
  for (int i = 0; i < nshards; ++i) {
    shards[i].multi = curl_multi_init();
    shards[i].deadline = -1;
    curl_multi_setopt(shards[i].multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(shards[i].multi, CURLMOPT_SOCKETDATA, (void*)(long)i);
    curl_multi_setopt(shards[i].multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(shards[i].multi, CURLMOPT_TIMERDATA, (void*)(long)i);
    curl_multi_setopt(shards[i].multi, CURLMOPT_MAXCONNECTS,
                      in_flight / nshards + 1);
  }
  struct curl_slist* headers
    = curl_slist_append(NULL, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Authorization: Bearer app-bench");
  double* latency = malloc(sizeof(double) * (size_t)total);
  long started = 0, done = 0, failed = 0;
  double t0 = now_s();
  /* Start IN_FLIGHT transfers, round robin over the shards; each finished
   * one's easy handle is reused (keep-alive) for the next. */
  for (; started < in_flight && started < total; ++started) {
    CURL* e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_multi_add_handle(shards[started % nshards].multi, e);
  }
  struct epoll_event events[256];
  while (done < total) {
    double first = -1;
    for (int i = 0; i < nshards; ++i)
      if (shards[i].deadline >= 0 && (first < 0 || shards[i].deadline < first))
        first = shards[i].deadline;
    int wait_ms = 1000;
    if (first >= 0) {
      double left = (first - now_s()) * 1000.0;
      wait_ms = left <= 0 ? 0 : (int)left + 1;
    }
    int n = epoll_wait(epfd, events, 256, wait_ms);
    int running;
    for (int k = 0; k < n; ++k) {
      struct watch* w = events[k].data.ptr;
      int mask
        = (events[k].events & EPOLLIN ? CURL_CSELECT_IN : 0)
          | (events[k].events & EPOLLOUT ? CURL_CSELECT_OUT : 0)
          | (events[k].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(shards[w->shard].multi, w->fd, mask, &running);
    }
    double now = now_s();
    for (int i = 0; i < nshards; ++i)
      if (shards[i].deadline >= 0 && shards[i].deadline <= now) {
        shards[i].deadline = -1;
        curl_multi_socket_action(shards[i].multi, CURL_SOCKET_TIMEOUT, 0,
                                 &running);
      }
    for (int i = 0; i < nshards; ++i) {
      CURLMsg* m;
      int left;
      while ((m = curl_multi_info_read(shards[i].multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
          continue;
        CURL* e = m->easy_handle;
        long status = 0;
        curl_off_t us = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
        if (m->data.result != CURLE_OK || status != 200)
          ++failed;
        latency[done++] = (double)us / 1000.0;
        curl_multi_remove_handle(shards[i].multi, e);
        if (started < total) {
          ++started;
          curl_multi_add_handle(shards[i].multi, e);
        } else {
          curl_easy_cleanup(e);
        }
      }
    }
  }
  double seconds = now_s() - t0;
  qsort(latency, (size_t)total, sizeof(double), by_value);
#define AT(q) latency[(size_t)((double)(total - 1) * (q))]
  printf("{\"requests\": %ld, \"failures\": %ld, \"in_flight\": %ld, "
         "\"shards\": %d, \"seconds\": %.3f, \"rps\": %.0f, \"p50_ms\": %.2f, "
         "\"p90_ms\": %.2f, \"p99_ms\": %.2f, \"max_ms\": %.2f}\n",
         total, failed, in_flight, nshards, seconds, (double)total / seconds,
         AT(0.5), AT(0.9), AT(0.99), latency[total - 1]);
  for (int i = 0; i < nshards; ++i)
    curl_multi_cleanup(shards[i].multi);
  curl_slist_free_all(headers);
  curl_global_cleanup();
  return failed > 0 ? 1 : 0;
}
