// Easy-handle options and callbacks for one transfer.

#include "actors/http/curl_transfer.hpp"

#include "actors/http/curl_library.hpp"
#include "actors/http/socket_set.hpp"

#include <strings.h>

#include <cstring>
#include <string_view>

namespace troupe::curl {

namespace {

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

size_t on_header(char* data, size_t size, size_t n, void* ptr) {
  auto* t = static_cast<transfer*>(ptr);
  auto len = size * n;
  std::string_view line{data, len};
  // The blank line ends the headers: the last byte of a body-less answer.
  if (len <= 2)
    t->last_byte_us = http_client::now_us();
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto name = line.substr(0, colon);
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (
      !value.empty()
      && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
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

size_t on_body(char* data, size_t size, size_t n, void* ptr) {
  auto* t = static_cast<transfer*>(ptr);
  auto len = size * n;
  t->last_byte_us = http_client::now_us();
  if (t->stream) {
    // A stream's events are capped one by one by its reader (dify_stream),
    // not here: a long workflow sends far more than any one event.
    long status = 0;
    lib().easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
      t->chunks->push_back(http_chunk{
        t->id, 200, std::string{data, len},
        wire_times{t->wire_start_us, t->last_byte_us, t->connect_us}});
      return len;
    }
  }
  t->received += len;
  if (t->received > t->limit) {
    t->outcome.too_large = true;
    return 0; // aborts the transfer
  }
  t->outcome.body.append(data, len);
  return len;
}

// Called once the connection is ready, just before the request goes out
// (again if libcurl retries on a fresh connection): the start of the wire
// time. CURLINFO_NUM_CONNECTS tells a new connection from a reused one;
// a reused one has a CONNECT time too ("connected already"), so only a new
// one counts its set-up, TCP (and a proxy) plus TLS, as connect time.
int on_prereq(void* ptr, char*, char*, int, int) {
  auto* t = static_cast<transfer*>(ptr);
  t->wire_start_us = http_client::now_us();
  // Bytes before this were a CONNECT proxy's answer, not the server's.
  t->last_byte_us = -1;
  long fresh = 0;
  lib().easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &fresh);
  if (fresh == 0) {
    t->connect_us = 0;
    return CURL_PREREQFUNC_OK;
  }
  curl_off_t lookup = 0, tcp = 0, tls = 0;
  lib().easy_getinfo(t->easy, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
  lib().easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &tcp);
  lib().easy_getinfo(t->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
  auto done = tls > tcp ? tls : tcp;
  t->connect_us = done > lookup ? static_cast<int64_t>(done - lookup) : 0;
  return CURL_PREREQFUNC_OK;
}

// A multipart/form-data body built with libcurl's MIME API, which writes
// the boundary and reads a file part's content as it sends it.
void set_form(transfer& t) {
  t.mime = lib().mime_init(t.easy);
  for (auto& f : t.call.form) {
    auto* part = lib().mime_addpart(t.mime);
    lib().mime_name(part, f.name.c_str());
    if (f.file.empty()) {
      lib().mime_data(part, f.value.data(), f.value.size());
      continue;
    }
    lib().mime_filedata(part, f.file.c_str());
    if (!f.content_type.empty())
      lib().mime_type(part, f.content_type.c_str());
  }
  lib().easy_setopt(t.easy, CURLOPT_MIMEPOST, t.mime);
}

} // namespace

void configure(transfer& t, const http_client_options& opts,
               curl_slist* headers, void* sockets) {
  auto* e = t.easy;
  lib().easy_setopt(e, CURLOPT_URL, t.call.url.c_str());
  lib().easy_setopt(e, CURLOPT_PRIVATE, &t);
  lib().easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  lib().easy_setopt(e, CURLOPT_ERRORBUFFER, t.error);
  lib().easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  lib().easy_setopt(e, CURLOPT_WRITEDATA, &t);
  lib().easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
  lib().easy_setopt(e, CURLOPT_HEADERDATA, &t);
  lib().easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  lib().easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &socket_set::on_close);
  lib().easy_setopt(e, CURLOPT_CLOSESOCKETDATA, sockets);
  lib().easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  lib().easy_setopt(e, CURLOPT_PREREQFUNCTION, &on_prereq);
  lib().easy_setopt(e, CURLOPT_PREREQDATA, &t);
  t.wire_start_us = -1;
  t.connect_us = -1;
  t.last_byte_us = -1;
  if (!opts.ca_file.empty())
    lib().easy_setopt(e, CURLOPT_CAINFO, opts.ca_file.c_str());
  // The transfer as a whole has no libcurl timeout: the worker's deadline
  // aborts it.
  bool https = t.call.url.compare(0, 8, "https://") == 0;
  // An explicit proxy (empty for none) also spares libcurl its own
  // environment lookups on every request.
  auto& proxy = https ? opts.https_proxy : opts.http_proxy;
  lib().easy_setopt(e, CURLOPT_PROXY, proxy.c_str());
  lib().easy_setopt(e, CURLOPT_NOPROXY,
                    opts.no_proxy.empty() ? nullptr : opts.no_proxy.c_str());
  auto& m = t.call.method;
  if (m == "GET") {
    lib().easy_setopt(e, CURLOPT_CUSTOMREQUEST, nullptr);
    lib().easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    lib().easy_setopt(e, CURLOPT_CUSTOMREQUEST,
                      m == "POST" ? nullptr : m.c_str());
    lib().easy_setopt(e, CURLOPT_POSTFIELDS, t.call.body.data());
    lib().easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                      static_cast<curl_off_t>(t.call.body.size()));
  }
  if (!t.call.form.empty())
    set_form(t);
  lib().easy_setopt(e, CURLOPT_HTTPHEADER, headers);
}

void free_form(transfer& t) {
  if (t.mime == nullptr)
    return;
  // The handle lets go of the body first: it may be reused for a call
  // without one.
  lib().easy_setopt(t.easy, CURLOPT_MIMEPOST, nullptr);
  lib().mime_free(t.mime);
  t.mime = nullptr;
}

void complete(transfer& t, CURLcode rc) {
  long status = 0;
  lib().easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  auto& o = t.outcome;
  o.status = static_cast<int>(status);
  if (rc != CURLE_OK && !o.too_large) {
    o.transport_error = static_cast<int>(rc);
    o.transport_message
      = t.error[0] != '\0' ? t.error : lib().easy_strerror(rc);
    o.tls_error = is_tls_error(rc);
  }
  o.wire_start_us = t.wire_start_us;
  // No answer byte since the request went out: the end is unknown.
  o.wire_end_us = t.wire_start_us >= 0 && t.last_byte_us >= t.wire_start_us
                    ? t.last_byte_us
                    : -1;
  o.connect_us = t.connect_us;
}

header_lists::~header_lists() {
  for (auto& kv : lists_)
    lib().slist_free_all(kv.second);
}

void header_lists::assign(transfer& t) {
  std::string key;
  for (auto& h : t.call.headers) {
    key += h;
    key += '\n';
  }
  if (auto i = lists_.find(key); i != lists_.end()) {
    t.headers = i->second;
    t.owns_headers = false;
    return;
  }
  curl_slist* list = nullptr;
  for (auto& h : t.call.headers)
    list = lib().slist_append(list, h.c_str());
  // No "Expect: 100-continue" round trip for large bodies.
  list = lib().slist_append(list, "Expect:");
  if (lists_.size() < 64) {
    lists_.emplace(std::move(key), list);
    t.owns_headers = false;
  } else {
    t.owns_headers = true; // templated headers: one list per transfer
  }
  t.headers = list;
}

} // namespace troupe::curl
