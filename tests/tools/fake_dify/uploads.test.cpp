// fake-dify's /v1/files/upload: the multipart reader, Dify's answers, and
// run calls that name uploaded files. (Suite fake_dify_plan.)

#include "tools/fake_dify/uploads.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "tests/tools/fake_dify/plan_fixture.hpp"

#include <string>

using namespace troupe::fake_dify;
using namespace troupe::fake_dify::test;
namespace json = boost::json;

namespace {

constexpr const char* form_type = "multipart/form-data; boundary=XyZ";

// A body with a file part and a user field, as libcurl writes it.
std::string form(const std::string& filename, const std::string& data,
                 const std::string& user = "u1") {
  return "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
         "filename=\""
         + filename + "\"\r\nContent-Type: text/plain\r\n\r\n" + data
         + "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\n"
         + user + "\r\n--XyZ--\r\n";
}

struct upload_source : scripted_source {
  upload_store store;
  const upload_store* uploads() override {
    return &store;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(fake_dify_plan, plan_fixture)

BOOST_AUTO_TEST_CASE(multipart_bodies_are_read_part_by_part) {
  // A quoted boundary, a preamble, a CRLF inside the data.
  auto parts = parse_multipart(
    "Multipart/Form-Data; charset=x; boundary=\"a b\"",
    "preamble\r\n--a b\r\nContent-Disposition: form-data; name=\"f\"; "
    "filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2"
    "\r\n--a b\r\ncontent-disposition: form-data; name=user\r\n\r\nme"
    "\r\n--a b--\r\nepilogue");
  BOOST_REQUIRE(parts);
  BOOST_REQUIRE_EQUAL(parts->size(), 2u);
  BOOST_CHECK_EQUAL((*parts)[0].name, "f");
  BOOST_CHECK_EQUAL((*parts)[0].filename, "x.txt");
  BOOST_CHECK_EQUAL((*parts)[0].content_type, "text/plain");
  BOOST_CHECK_EQUAL((*parts)[0].data, "line1\r\nline2");
  BOOST_CHECK_EQUAL((*parts)[1].name, "user");
  BOOST_CHECK_EQUAL((*parts)[1].filename, "");
  BOOST_CHECK_EQUAL((*parts)[1].data, "me");
  // Not multipart, no boundary, no end, a part without its name.
  BOOST_CHECK(!parse_multipart("application/json", "{}"));
  BOOST_CHECK(!parse_multipart("multipart/form-data", form("a", "b")));
  BOOST_CHECK(!parse_multipart(form_type, "--XyZ\r\nContent-Disposition: "
                                          "form-data; name=\"f\"\r\n\r\nabc"));
  BOOST_CHECK(!parse_multipart(form_type, "--XyZ\r\nContent-Type: x\r\n\r\n"
                                          "abc\r\n--XyZ--"));
}

BOOST_AUTO_TEST_CASE(an_upload_answers_201_with_difys_fields) {
  upload_store store;
  auto p
    = plan_upload(form_type, form("notes.TXT", "hello"), 100, store, source);
  BOOST_CHECK_EQUAL(p.status, 201);
  auto id = "file-00000001-0000-4000-8000-000000000001";
  BOOST_CHECK_EQUAL(p.body,
                    std::string{R"({"id":")"} + id
                      + R"(","name":"notes.TXT","size":5,"extension":"txt",)"
                        R"("mime_type":"text/plain","created_by":"u1",)"
                        R"("created_at":1700000000})");
  BOOST_CHECK_EQUAL(store.count(), 1u);
  BOOST_REQUIRE(store.find(id));
  BOOST_CHECK_EQUAL(store.find(id)->size, 5u);
}

BOOST_AUTO_TEST_CASE(uploads_are_refused_as_dify_refuses_them) {
  upload_store store;
  auto code = [](const plan& p) {
    return std::string{json::parse(p.body).at("code").as_string()};
  };
  auto none = plan_upload(form_type,
                          "--XyZ\r\nContent-Disposition: form-data; "
                          "name=\"user\"\r\n\r\nu\r\n--XyZ--\r\n",
                          100, store, source);
  BOOST_CHECK_EQUAL(none.status, 400);
  BOOST_CHECK_EQUAL(code(none), "no_file_uploaded");
  auto big = plan_upload(form_type, form("a.txt", std::string(101, 'x')), 100,
                         store, source);
  BOOST_CHECK_EQUAL(big.status, 413);
  BOOST_CHECK_EQUAL(code(big), "file_too_large");
  // A fault in the name: the first upload of that name answers 500.
  auto f1
    = plan_upload(form_type, form("_fault-500-1.txt", "x"), 100, store, source);
  BOOST_CHECK_EQUAL(f1.status, 500);
  auto f2
    = plan_upload(form_type, form("_fault-500-1.txt", "x"), 100, store, source);
  BOOST_CHECK_EQUAL(f2.status, 201);
  BOOST_CHECK_EQUAL(store.count(), 1u);
}

BOOST_AUTO_TEST_CASE(run_calls_resolve_uploaded_files_or_refuse_them) {
  upload_source src;
  plan_upload(form_type, form("a.pdf", "12345"), 100, src.store, src);
  auto id = "file-00000001-0000-4000-8000-000000000001";
  auto body = std::string{R"({"inputs": {"doc": {"type": "document",
      "transfer_method": "local_file", "upload_file_id": ")"}
              + id + R"("}, "l": [{"transfer_method": "remote_url",
      "url": "https://x/y.png", "type": "image"}]}, "user": "u"})";
  auto p = plan_run(app_kind::workflow, body, "Bearer k", settings, src);
  BOOST_CHECK_EQUAL(p.status, 200);
  auto text
    = json::parse(p.body).at("data").at("outputs").at("text").as_string();
  BOOST_CHECK_EQUAL(
    text, R"(echo: {"doc":{"name":"a.pdf","size":5,"created_by":"u1",)"
          R"("type":"document"},"l":[{"transfer_method":"remote_url",)"
          R"("url":"https://x/y.png","type":"image"}]})");
  auto unknown
    = plan_run(app_kind::workflow,
               R"({"inputs": {"doc": {"transfer_method": "local_file",
                   "upload_file_id": "nope"}}, "user": "u"})",
               "Bearer k", settings, src);
  BOOST_CHECK_EQUAL(unknown.status, 400);
  BOOST_CHECK_EQUAL(
    unknown.body,
    R"({"code":"invalid_param","message":"Invalid upload file","status":400})");
}

BOOST_AUTO_TEST_SUITE_END()
