// File inputs: their shape, their files checked once before the run, and
// each task's list of them.

#include "config/file_inputs.hpp"

#include "config/hash.hpp"
#include "config/json_checks.hpp"

#include <boost/json/parse.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace json = boost::json;

namespace troupe::config {

namespace {

constexpr uint64_t mib = 1024 * 1024;

// Dify's lists (api/constants/__init__.py), compared in lower case as Dify
// accepts both cases.
constexpr std::string_view image_extensions[]
  = {"jpg", "jpeg", "png", "webp", "gif", "svg"};
constexpr std::string_view video_extensions[] = {"mp4", "mov", "mpeg", "webm"};
constexpr std::string_view audio_extensions[]
  = {"mp3", "m4a", "wav", "amr", "mpga"};
// The default ETL's documents; an Unstructured ETL adds doc, eml, msg,
// pptx, ppt, xml and epub, which the default counts as custom (an input's
// "type" can say otherwise).
constexpr std::string_view document_extensions[]
  = {"txt",  "markdown", "md",   "mdx", "pdf", "html",      "htm",
     "xlsx", "xls",      "docx", "csv", "vtt", "properties"};

constexpr std::string_view file_types[]
  = {"document", "image", "audio", "video", "custom"};

template <size_t N>
bool listed(const std::string_view (&list)[N], std::string_view x) {
  return std::find(std::begin(list), std::end(list), x) != std::end(list);
}

std::string folder_of(const std::string& path) {
  auto pos = path.rfind('/');
  return pos == std::string::npos ? std::string{} : path.substr(0, pos + 1);
}

std::string resolve(const manifest& m, const std::string& written) {
  return written[0] == '/' ? written : folder_of(m.path) + written;
}

// Calls f(input, index, reference, its JSON path) for every value of
// `inputs` that names a file: an object with a "file" key, alone or in a
// list (index -1 for a single file).
template <class F>
void for_each_reference(const json::object& inputs, const std::string& path,
                        F&& f) {
  for (auto& kv : inputs) {
    auto& v = kv.value();
    auto key_path = join_path(path, kv.key());
    if (v.is_object() && v.get_object().contains("file")) {
      f(kv.key(), -1, v.get_object(), key_path);
    } else if (v.is_array()) {
      auto& arr = v.get_array();
      for (size_t i = 0; i < arr.size(); ++i)
        if (arr[i].is_object() && arr[i].get_object().contains("file"))
          f(kv.key(), static_cast<int32_t>(i), arr[i].get_object(),
            index_path(key_path, i));
    }
  }
}

void check_file(const checker& chk, const std::string& path,
                const std::string& written, manifest& m) {
  input_file f;
  f.path = resolve(m, written);
  auto where
    = "\"" + written + "\"" + (f.path == written ? "" : " (" + f.path + ")");
  auto expected = "; expected a readable file, relative to the manifest's "
                  "folder";
  struct stat st;
  if (::stat(f.path.c_str(), &st) != 0)
    chk.fail(path,
             "cannot open " + where + ": " + std::strerror(errno) + expected);
  if (!S_ISREG(st.st_mode))
    chk.fail(path, where + " is not a regular file" + expected);
  f.size = static_cast<uint64_t>(st.st_size);
  f.type = dify_file_type(written);
  auto limit = m.target.max_upload_bytes > 0 ? m.target.max_upload_bytes
                                             : dify_upload_limit(f.type);
  if (f.size > limit)
    chk.fail(path, where + " is " + std::to_string(f.size)
                     + " bytes, over the upload limit of "
                     + std::to_string(limit) + " bytes for "
                     + (m.target.max_upload_bytes > 0
                          ? std::string{"target.max_upload_bytes"}
                          : "a " + f.type + " (Dify's default)")
                     + "; expected a smaller file, or a larger "
                       "target.max_upload_bytes if the server takes it");
  auto hash = sha256_file_hex(f.path);
  if (!hash)
    chk.fail(path,
             "cannot read " + where + ": " + std::strerror(errno) + expected);
  f.hash = std::move(*hash);
  m.input_files.emplace(written, std::move(f));
}

} // namespace

std::string dify_file_type(std::string_view path) {
  auto slash = path.rfind('/');
  auto base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = base.rfind('.');
  if (dot == std::string_view::npos)
    return "custom";
  std::string ext{base.substr(dot + 1)};
  for (auto& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (listed(image_extensions, ext))
    return "image";
  if (listed(video_extensions, ext))
    return "video";
  if (listed(audio_extensions, ext))
    return "audio";
  if (listed(document_extensions, ext))
    return "document";
  return "custom";
}

uint64_t dify_upload_limit(std::string_view type) {
  if (type == "image")
    return 10 * mib;
  if (type == "video")
    return 100 * mib;
  if (type == "audio")
    return 50 * mib;
  return 15 * mib;
}

bool may_name_files(std::string_view inputs_json) {
  return inputs_json.find("\"file\"") != std::string_view::npos;
}

void check_file_inputs(const checker& chk, const std::string& path,
                       std::string_view inputs_json, manifest& m) {
  if (!may_name_files(inputs_json))
    return;
  auto v = json::parse(inputs_json);
  if (!v.is_object())
    return;
  for_each_reference(
    v.get_object(), path,
    [&](auto&, int32_t, const json::object& ref, const std::string& ref_path) {
      chk.only_keys(ref, ref_path, {"file", "type"});
      auto file_path = join_path(ref_path, "file");
      auto written = chk.string(ref.at("file"), file_path);
      if (auto* type = ref.if_contains("type");
          type != nullptr
          && (!type->is_string() || !listed(file_types, type->get_string())))
        chk.fail(join_path(ref_path, "type"),
                 "must be \"document\", \"image\", "
                 "\"audio\", \"video\" or \"custom\"",
                 *type);
      if (m.input_files.count(written) == 0)
        check_file(chk, file_path, written, m);
    });
}

bool names_files(std::string_view inputs_json) {
  if (!may_name_files(inputs_json))
    return false;
  auto v = json::parse(inputs_json);
  bool found = false;
  if (v.is_object())
    for_each_reference(v.get_object(), "", [&](auto&&...) { found = true; });
  return found;
}

std::vector<file_input> task_files(std::string_view inputs_json,
                                   const manifest& m) {
  std::vector<file_input> out;
  if (m.input_files.empty() || !may_name_files(inputs_json))
    return out;
  auto v = json::parse(inputs_json);
  if (!v.is_object())
    return out;
  for_each_reference(
    v.get_object(), "",
    [&](json::string_view input, int32_t index, const json::object& ref,
        const std::string&) {
      auto* written = ref.if_contains("file");
      if (written == nullptr || !written->is_string())
        return;
      auto i = m.input_files.find(std::string{written->get_string()});
      if (i == m.input_files.end())
        return; // not checked: not a Dify target
      file_input f;
      f.input = input;
      f.index = index;
      f.path = i->second.path;
      f.type = i->second.type;
      if (auto* type = ref.if_contains("type"); type && type->is_string())
        f.type = type->get_string();
      f.hash = i->second.hash;
      out.push_back(std::move(f));
    });
  return out;
}

} // namespace troupe::config
