// The fake Dify server as a child process of a test.

#include "tests/support/fake_dify_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"
#include <curl/curl.h>

#include <csignal>

namespace troupe::test {

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

} // namespace

fake_dify_process::fake_dify_process(std::vector<std::string> flags,
                                     std::string api_key) {
  std::vector<std::string> args{troupe_binary(), "fake-dify", "--listen",
                                "127.0.0.1:0",   "--api-key", api_key};
  args.insert(args.end(), flags.begin(), flags.end());
  child_ = std::make_unique<child_process>(std::move(args));
  auto out = child_->stdout_path();
  BOOST_REQUIRE_MESSAGE(eventually(
                          [&] {
                            auto text = read_file(out);
                            auto pos = text.find("listening on ");
                            auto nl = text.find('\n', pos);
                            if (pos == std::string::npos
                                || nl == std::string::npos)
                              return false;
                            url_ = text.substr(pos + 13, nl - pos - 13);
                            return true;
                          },
                          std::chrono::seconds{10}),
                        "fake-dify did not start");
}

fake_dify_process::~fake_dify_process() {
  child_->signal(SIGTERM);
  child_->wait(std::chrono::seconds{10});
}

boost::json::object fake_dify_process::stats() const {
  auto body = http_get(url_ + "/_fake/stats");
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  BOOST_REQUIRE_MESSAGE(!ec && v.is_object(), "bad stats: " + body);
  return v.as_object();
}

int64_t fake_dify_process::calls(const std::string& path) const {
  auto s = stats();
  auto& paths = s.at("by_path").as_object();
  auto* n = paths.if_contains(path);
  return n == nullptr ? 0 : n->as_int64();
}

std::string http_get(const std::string& url, const std::string& ca_file) {
  std::string body;
  CURL* e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
  if (!ca_file.empty())
    curl_easy_setopt(e, CURLOPT_CAINFO, ca_file.c_str());
  auto rc = curl_easy_perform(e);
  curl_easy_cleanup(e);
  return rc == CURLE_OK ? body : std::string{};
}

http_reply http_post(const std::string& url, const std::string& body,
                     const std::string& authorization) {
  http_reply reply;
  CURL* e = curl_easy_init();
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers
    = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &reply.body);
  if (curl_easy_perform(e) == CURLE_OK)
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(e);
  return reply;
}

} // namespace troupe::test
