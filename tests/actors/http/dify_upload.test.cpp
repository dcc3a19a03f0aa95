// Dify's file upload as pure functions, and the executor's table of
// uploads: one upload per content, shared by the attempts that wait on it.

#include "actors/http/dify_upload.hpp"

#include "actors/http/file_uploads.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

using namespace troupe;

namespace {

http_target dify() {
  http_target t;
  t.base_url = "http://dify.test/v1";
  t.api_key = "app-secret";
  t.user = "tester";
  return t;
}

file_input file(std::string input, std::string hash, int32_t index = -1) {
  file_input f;
  f.input = std::move(input);
  f.index = index;
  f.path = "/data/docs/contract.pdf";
  f.type = "document";
  f.hash = std::move(hash);
  return f;
}

http_outcome answer(int status, std::string body) {
  http_outcome o;
  o.status = status;
  o.body = std::move(body);
  return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dify_upload)

BOOST_AUTO_TEST_CASE(an_upload_is_multipart_with_the_file_and_the_user) {
  auto c = build_upload_call(dify(), file("doc", "h1"));
  BOOST_CHECK_EQUAL(c.method, "POST");
  BOOST_CHECK_EQUAL(c.url, "http://dify.test/v1/files/upload");
  BOOST_CHECK(c.body.empty());
  BOOST_CHECK(!c.stream);
  // No Content-Type of our own: libcurl writes it with the boundary.
  BOOST_REQUIRE_EQUAL(c.headers.size(), 1u);
  BOOST_CHECK_EQUAL(c.headers[0], "Authorization: Bearer app-secret");
  BOOST_REQUIRE_EQUAL(c.form.size(), 2u);
  BOOST_CHECK_EQUAL(c.form[0].name, "file");
  BOOST_CHECK_EQUAL(c.form[0].file, "/data/docs/contract.pdf");
  BOOST_CHECK_EQUAL(c.form[0].content_type, "application/pdf");
  BOOST_CHECK_EQUAL(c.form[1].name, "user");
  BOOST_CHECK_EQUAL(c.form[1].value, "tester");
  BOOST_CHECK(c.form[1].file.empty());
  BOOST_CHECK_EQUAL(mime_type_of("a/b.PNG"), "image/png");
  BOOST_CHECK_EQUAL(mime_type_of("noext"), "application/octet-stream");
}

BOOST_AUTO_TEST_CASE(upload_answers_are_classified_as_calls_are) {
  auto f = file("doc", "h1");
  auto ok = read_upload_reply(
    f,
    answer(201, R"({"id":"u-1","name":"contract.pdf","size":5,)"
                R"("extension":"pdf","mime_type":"application/pdf",)"
                R"("created_by":"x","created_at":1})"),
    0);
  BOOST_REQUIRE(std::holds_alternative<std::string>(ok));
  BOOST_CHECK_EQUAL(std::get<std::string>(ok), "u-1");
  auto reply_of = [&](http_outcome o) {
    auto r = read_upload_reply(f, o, 0);
    BOOST_REQUIRE(std::holds_alternative<attempt_reply>(r));
    return std::get<attempt_reply>(r);
  };
  auto e500 = reply_of(answer(500, R"({"code":"internal_server_error",)"
                                   R"("message":"boom","status":500})"));
  BOOST_CHECK(e500.result == outcome::failure);
  BOOST_CHECK_EQUAL(e500.http_status, 500);
  BOOST_CHECK_EQUAL(e500.error.rfind("upload of contract.pdf: ", 0), 0u);
  auto e413 = reply_of(answer(413, R"({"code":"file_too_large",)"
                                   R"("message":"File size exceeded.",)"
                                   R"("status":413})"));
  BOOST_CHECK(e413.result == outcome::rejected);
  BOOST_CHECK_NE(e413.error.find("File size exceeded."), std::string::npos);
  auto e415 = reply_of(answer(415, R"({"code":"unsupported_file_type",)"
                                   R"("message":"File type not allowed.",)"
                                   R"("status":415})"));
  BOOST_CHECK(e415.result == outcome::rejected);
  auto e401 = reply_of(answer(401, R"({"code":"unauthorized",)"
                                   R"("message":"Access token is invalid",)"
                                   R"("status":401})"));
  BOOST_CHECK(e401.result == outcome::abort_run);
  http_outcome reset;
  reset.transport_error = 56;
  reset.transport_message = "Connection reset by peer";
  BOOST_CHECK(reply_of(reset).result == outcome::error);
  BOOST_CHECK(reply_of(answer(201, R"({"name":"x"})")).result
              == outcome::error); // no id: malformed
}

BOOST_AUTO_TEST_CASE(inputs_get_difys_file_objects_and_keep_the_rest) {
  std::vector<file_input> files{file("doc", "h1"), file("list", "h2", 1)};
  files[1].type = "image";
  auto out = inputs_with_uploads(
    R"({"doc":{"file":"docs/contract.pdf"},"list":[{"transfer_method":)"
    R"("remote_url","url":"https://x/y.png","type":"image"},{"file":"b.png"}],)"
    R"("n":1.5})",
    files, [](const std::string& hash) { return "id-" + hash; });
  BOOST_CHECK_EQUAL(
    out, R"({"doc":{"type":"document","transfer_method":"local_file",)"
         R"("upload_file_id":"id-h1"},"list":[{"transfer_method":)"
         R"("remote_url","url":"https://x/y.png","type":"image"},)"
         R"({"type":"image","transfer_method":"local_file",)"
         R"("upload_file_id":"id-h2"}],"n":1.5E0})");
}

BOOST_AUTO_TEST_CASE(attempts_share_one_upload_per_content) {
  file_uploads up;
  std::vector<std::pair<uint64_t, http_call>> sent;
  auto submit
    = [&](uint64_t id, http_call c) { sent.emplace_back(id, std::move(c)); };
  auto t = dify();
  // Two attempts, the same content under two inputs, and a second file.
  BOOST_CHECK(!up.need(t, 1, {file("a", "h1"), file("b", "h1")}, submit));
  BOOST_CHECK(!up.need(t, 2, {file("a", "h1"), file("c", "h2")}, submit));
  BOOST_REQUIRE_EQUAL(sent.size(), 2u);
  BOOST_CHECK_EQUAL(up.started(), 2u);
  BOOST_CHECK(sent[0].first & file_uploads::transfer_bit);
  auto first = up.on_done(sent[0].first, answer(201, R"({"id":"u-h1"})"), 0);
  BOOST_CHECK(first.ready == std::vector<uint64_t>{1});
  BOOST_CHECK(first.failed.empty());
  auto second = up.on_done(sent[1].first, answer(201, R"({"id":"u-h2"})"), 0);
  BOOST_CHECK(second.ready == std::vector<uint64_t>{2});
  // Known now: no wait, no upload.
  BOOST_CHECK(up.need(t, 3, {file("a", "h2")}, submit));
  BOOST_CHECK_EQUAL(sent.size(), 2u);
  task_spec task;
  task.inputs_json = R"({"a":{"file":"x"}})";
  task.files = {file("a", "h2")};
  BOOST_CHECK_EQUAL(up.inputs_for(task),
                    R"({"a":{"type":"document","transfer_method":)"
                    R"("local_file","upload_file_id":"u-h2"}})");
}

BOOST_AUTO_TEST_CASE(a_failed_upload_fails_its_waiters_and_is_tried_again) {
  file_uploads up;
  std::vector<uint64_t> sent;
  auto submit = [&](uint64_t id, http_call) { sent.push_back(id); };
  auto t = dify();
  BOOST_CHECK(!up.need(t, 1, {file("a", "h1")}, submit));
  BOOST_CHECK(!up.need(t, 2, {file("a", "h1")}, submit));
  BOOST_CHECK(!up.need(t, 3, {file("a", "h1")}, submit));
  // Aborted meanwhile: the upload goes on for the others.
  BOOST_CHECK(up.forget(3).empty());
  BOOST_REQUIRE_EQUAL(sent.size(), 1u);
  auto s = up.on_done(sent[0], answer(503, "<html>busy</html>"), 0);
  BOOST_CHECK(s.ready.empty());
  BOOST_CHECK((s.failed == std::vector<uint64_t>{1, 2}));
  BOOST_CHECK(s.failure.result == outcome::failure);
  BOOST_CHECK_EQUAL(s.failure.http_status, 503);
  // The retry uploads again.
  BOOST_CHECK(!up.need(t, 4, {file("a", "h1")}, submit));
  BOOST_CHECK_EQUAL(sent.size(), 2u);
  BOOST_CHECK_EQUAL(up.started(), 2u);
  // An unknown transfer settles nothing.
  BOOST_CHECK(up.on_done(12345, answer(201, "{}"), 0).ready.empty());
}

BOOST_AUTO_TEST_CASE(an_upload_nobody_waits_for_is_dropped_and_started_again) {
  // An upload that hangs lives only as long as its waiters' deadlines.
  file_uploads up;
  std::vector<uint64_t> sent;
  auto submit = [&](uint64_t id, http_call) { sent.push_back(id); };
  auto t = dify();
  BOOST_CHECK(!up.need(t, 1, {file("a", "h1")}, submit));
  BOOST_CHECK(!up.need(t, 2, {file("a", "h1")}, submit));
  BOOST_REQUIRE_EQUAL(sent.size(), 1u);
  BOOST_CHECK(up.forget(1).empty());
  BOOST_CHECK(up.forget(2) == std::vector<uint64_t>{sent[0]});
  BOOST_CHECK(up.forget(2).empty()); // once
  // Its late answer settles nothing; the retry uploads again.
  BOOST_CHECK(
    up.on_done(sent[0], answer(201, R"({"id":"u"})"), 0).ready.empty());
  BOOST_CHECK(!up.need(t, 3, {file("a", "h1")}, submit));
  BOOST_REQUIRE_EQUAL(sent.size(), 2u);
  BOOST_CHECK_NE(sent[1], sent[0]);
  auto s = up.on_done(sent[1], answer(201, R"({"id":"u-2"})"), 0);
  BOOST_CHECK(s.ready == std::vector<uint64_t>{3});
}

BOOST_AUTO_TEST_CASE(only_file_references_are_replaced) {
  // A conversation's turn may put its own value where the case's file was.
  task_spec task;
  task.files = {file("a", "h1"), file("b", "h1")};
  task.inputs_json
    = R"({"a":{"transfer_method":"remote_url","url":"u"},"b":"text"})";
  file_uploads up;
  BOOST_CHECK_EQUAL(up.inputs_for(task), task.inputs_json);
}

BOOST_AUTO_TEST_SUITE_END()
