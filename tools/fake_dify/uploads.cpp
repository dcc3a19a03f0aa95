// fake-dify's file uploads: the multipart reader, the store, the answers.
//
//   body ─▶ parse_multipart ─▶ "file" part? ─▶ fault? ─▶ size ─▶ 201 + store
//             └▶ 400 bad form     └▶ 400 no_file_uploaded      └▶ 413

#include "tools/fake_dify/uploads.hpp"

#include "tools/fake_dify/answers.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace troupe::fake_dify {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
    s = s.substr(1, s.size() - 2);
  return std::string{s};
}

// The parameter `name` of a header value ("form-data; name=\"x\""), or
// nullopt.
std::optional<std::string> parameter(std::string_view value,
                                     std::string_view name) {
  size_t pos = 0;
  while (pos <= value.size()) {
    auto end = value.find(';', pos);
    if (end == std::string_view::npos)
      end = value.size();
    auto item = trim(value.substr(pos, end - pos));
    auto eq = item.find('=');
    if (eq != std::string_view::npos
        && boost::beast::iequals(trim(item.substr(0, eq)), name))
      return unquote(item.substr(eq + 1));
    pos = end + 1;
  }
  return std::nullopt;
}

// Reads one part's headers into `f`; false if one is malformed.
bool read_part_headers(std::string_view headers, form_field& f) {
  bool disposition = false;
  while (!headers.empty()) {
    auto eol = headers.find("\r\n");
    auto line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view{}
                                            : headers.substr(eol + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      return false;
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (boost::beast::iequals(name, "content-disposition")) {
      auto n = parameter(value, "name");
      if (!n)
        return false;
      f.name = *n;
      f.filename = parameter(value, "filename").value_or("");
      disposition = true;
    } else if (boost::beast::iequals(name, "content-type")) {
      f.content_type = std::string{value};
    }
  }
  return disposition;
}

std::string extension_of(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos)
    return "";
  auto ext = name.substr(dot + 1);
  for (auto& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// "_fault-500-1.txt": answer 500, the first 1 time(s) for this name.
std::optional<plan> upload_fault(const std::string& filename,
                                 plan_source& source) {
  constexpr std::string_view prefix = "_fault-";
  if (filename.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  int status = 0;
  int times = 0;
  if (std::sscanf(filename.c_str() + prefix.size(), "%d-%d", &status, &times)
        != 2
      || status < 400 || status > 599)
    return std::nullopt;
  if (source.count_fault("upload:" + filename) > times)
    return std::nullopt;
  switch (status) {
    case 413:
      return error_plan(413, "file_too_large",
                        "File size exceeded. (fake fault)");
    case 415:
      return error_plan(415, "unsupported_file_type", "File type not allowed.");
    case 500:
      return error_plan(500, "internal_server_error",
                        "The server encountered an internal error and was "
                        "unable to complete your request.");
    default:
      return error_plan(status, "fake_fault",
                        fmt::format("[fake] upload fault {}", status));
  }
}

} // namespace

std::optional<std::vector<form_field>>
parse_multipart(std::string_view content_type, std::string_view body) {
  auto semi = content_type.find(';');
  if (!boost::beast::iequals(trim(content_type.substr(0, semi)),
                             "multipart/form-data")
      || semi == std::string_view::npos)
    return std::nullopt;
  auto boundary = parameter(content_type.substr(semi + 1), "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70)
    return std::nullopt;
  auto delimiter = "--" + *boundary;
  auto next = "\r\n" + delimiter;
  // The first delimiter may follow a preamble.
  auto pos = body.find(delimiter);
  if (pos == std::string_view::npos)
    return std::nullopt;
  pos += delimiter.size();
  std::vector<form_field> out;
  for (;;) {
    if (body.substr(pos, 2) == "--")
      return out; // the close delimiter
    // Transport padding, then the line break.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t'))
      ++pos;
    if (body.substr(pos, 2) != "\r\n")
      return std::nullopt;
    pos += 2;
    // A form-data part needs its headers (Content-Disposition at least).
    auto head_end = body.find("\r\n\r\n", pos);
    form_field f;
    if (head_end == std::string_view::npos
        || !read_part_headers(body.substr(pos, head_end - pos), f))
      return std::nullopt;
    auto data_begin = head_end + 4;
    auto data_end = body.find(next, data_begin);
    if (data_end == std::string_view::npos)
      return std::nullopt;
    f.data = std::string{body.substr(data_begin, data_end - data_begin)};
    out.push_back(std::move(f));
    pos = data_end + next.size();
  }
}

void upload_store::add(upload_record r) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto id = r.id;
  by_id_.emplace(std::move(id), std::move(r));
}

std::optional<upload_record> upload_store::find(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = by_id_.find(id); i != by_id_.end())
    return i->second;
  return std::nullopt;
}

uint64_t upload_store::count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return by_id_.size();
}

plan plan_upload(std::string_view content_type, std::string_view body,
                 uint64_t max_bytes, upload_store& store, plan_source& source) {
  auto form = parse_multipart(content_type, body);
  if (!form)
    return error_plan(400, "no_file_uploaded", "Please upload your file.");
  auto file = std::find_if(form->begin(), form->end(), [](auto& f) {
    return f.name == "file" && !f.filename.empty();
  });
  if (file == form->end())
    return error_plan(400, "no_file_uploaded", "Please upload your file.");
  if (std::count_if(form->begin(), form->end(),
                    [](auto& f) { return !f.filename.empty(); })
      > 1)
    return error_plan(400, "too_many_files", "Only one file is allowed.");
  if (auto fault = upload_fault(file->filename, source))
    return std::move(*fault);
  if (file->data.size() > max_bytes)
    return error_plan(413, "file_too_large",
                      fmt::format("File size exceeded. {} > {} bytes",
                                  file->data.size(), max_bytes));
  upload_record r;
  r.id = format_id("file", source.next_id());
  r.name = file->filename;
  r.size = file->data.size();
  r.extension = extension_of(r.name);
  r.mime_type = file->content_type;
  auto user = std::find_if(form->begin(), form->end(), [](auto& f) {
    return f.name == "user" && f.filename.empty();
  });
  // Dify's end user for a call without one.
  r.created_by = user != form->end() ? user->data : "DEFAULT-USER";
  r.created_at = source.now();
  json::object o{{"id", r.id},
                 {"name", r.name},
                 {"size", r.size},
                 {"extension", r.extension},
                 {"mime_type", r.mime_type},
                 {"created_by", r.created_by},
                 {"created_at", r.created_at}};
  store.add(std::move(r));
  auto p = json_plan(json::serialize(o));
  p.status = 201;
  return p;
}

std::string resolve_uploads(json::object& inputs, const upload_store& store) {
  std::string error;
  auto resolve = [&](json::value& v) {
    if (!v.is_object())
      return;
    auto& o = v.get_object();
    auto* method = o.if_contains("transfer_method");
    if (method == nullptr && o.contains("file")) {
      // A client's own file reference that it never turned into Dify's
      // file object: Dify's file factory refuses a mapping without
      // transfer_method.
      error = "[fake] a file input needs transfer_method, got a bare "
              "{\"file\": ...}";
      return;
    }
    if (method == nullptr || *method != "local_file")
      return;
    auto* id = o.if_contains("upload_file_id");
    auto found = id != nullptr && id->is_string()
                   ? store.find(std::string{id->get_string()})
                   : std::nullopt;
    if (!found) {
      // Dify's file factory: ValueError("Invalid upload file").
      error = "Invalid upload file";
      return;
    }
    json::object seen{{"name", found->name},
                      {"size", found->size},
                      {"created_by", found->created_by}};
    if (auto* type = o.if_contains("type"))
      seen["type"] = *type;
    v = std::move(seen);
  };
  for (auto& kv : inputs) {
    if (kv.value().is_array())
      for (auto& e : kv.value().get_array())
        resolve(e);
    else
      resolve(kv.value());
  }
  return error;
}

} // namespace troupe::fake_dify
