// Dify's /files/upload: the call, its answer, and the inputs it fills in.

#include "actors/http/dify_upload.hpp"

#include "actors/http/protocol_parts.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cctype>
#include <utility>

namespace json = boost::json;

namespace troupe {

namespace {

std::string_view base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

} // namespace

std::string mime_type_of(std::string_view path) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
    {"pdf", "application/pdf"},
    {"txt", "text/plain"},
    {"md", "text/markdown"},
    {"markdown", "text/markdown"},
    {"mdx", "text/markdown"},
    {"html", "text/html"},
    {"htm", "text/html"},
    {"csv", "text/csv"},
    {"vtt", "text/vtt"},
    {"properties", "text/plain"},
    {"json", "application/json"},
    {"xml", "application/xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx",
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"doc", "application/msword"},
    {"docx",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"pptx", "application/"
             "vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"svg", "image/svg+xml"},
    {"mp3", "audio/mpeg"},
    {"mpga", "audio/mpeg"},
    {"m4a", "audio/mp4"},
    {"wav", "audio/wav"},
    {"amr", "audio/amr"},
    {"mp4", "video/mp4"},
    {"mov", "video/quicktime"},
    {"mpeg", "video/mpeg"},
    {"webm", "video/webm"},
  };
  auto name = base_name(path);
  auto dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext{name.substr(dot + 1)};
    for (auto& c : ext)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (auto& [e, type] : types)
      if (e == ext)
        return std::string{type};
  }
  return "application/octet-stream";
}

http_call build_upload_call(const http_target& t, const file_input& f) {
  http_call c;
  c.url = t.base_url + "/files/upload";
  protocol::add_auth_header(t, c.headers);
  // libcurl writes the Content-Type with the boundary.
  c.form.push_back(form_part{"file", {}, f.path, mime_type_of(f.path)});
  c.form.push_back(form_part{"user", t.user, {}, {}});
  return c;
}

std::variant<std::string, attempt_reply>
read_upload_reply(const file_input& f, const http_outcome& o,
                  int64_t now_unix_s) {
  auto failed = [&](attempt_reply r) {
    r.error = "upload of " + std::string{base_name(f.path)} + ": " + r.error;
    return r;
  };
  if (o.transport_error != 0 || o.too_large)
    return failed(protocol::transport_error(o));
  if (o.status != 201 && o.status != 200)
    return failed(protocol::error_from_body(o, now_unix_s));
  auto v = protocol::parse_json(o.body);
  auto id = protocol::string_at(v, "id");
  if (id.empty())
    return failed(protocol::malformed(o, "no \"id\" string"));
  return id;
}

std::string inputs_with_uploads(
  const std::string& inputs_json, const std::vector<file_input>& files,
  const std::function<std::string(const std::string&)>& id_of) {
  auto v = json::parse(inputs_json);
  auto& inputs = v.as_object();
  for (auto& f : files) {
    auto* slot = inputs.if_contains(f.input);
    if (slot != nullptr && f.index >= 0)
      slot = slot->is_array()
                 && static_cast<size_t>(f.index) < slot->get_array().size()
               ? &slot->get_array()[static_cast<size_t>(f.index)]
               : nullptr;
    // Only a reference: a conversation's turn may have put its own value
    // there.
    if (slot == nullptr || !slot->is_object()
        || !slot->get_object().contains("file"))
      continue;
    *slot = json::object{{"type", f.type},
                         {"transfer_method", "local_file"},
                         {"upload_file_id", id_of(f.hash)}};
  }
  return json::serialize(v);
}

} // namespace troupe
