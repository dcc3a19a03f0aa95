#pragma once

// Dify's file upload (POST /files/upload) as pure functions: the call for
// one file, what its answer says (the upload_file_id, or the reply that
// ends the attempts waiting on it), and the inputs with Dify's file objects
// in place of troupe's {"file": path}.

#include "actors/http/dify_protocol.hpp"
#include "messages/execution.hpp"
#include "messages/files.hpp"
#include "messages/http.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace troupe {

/// The MIME type of a file by its extension (application/octet-stream for
/// one not known): the file part's Content-Type, which Dify stores.
std::string mime_type_of(std::string_view path);

/// The upload of one file: multipart/form-data with "file" (the file, named
/// by its base name) and "user", and the bearer key.
http_call build_upload_call(const http_target& t, const file_input& f);

/// The id an upload's answer (201 {id, name, size, ...}) gives, or the
/// reply for the attempts that waited on it, classified as a call's would
/// be (5xx retried, 413 file_too_large and other 4xx not, 401 aborts).
std::variant<std::string, attempt_reply>
read_upload_reply(const file_input& f, const http_outcome& o,
                  int64_t now_unix_s);

/// `inputs_json` with each of `files` replaced by Dify's file object
/// {"type", "transfer_method": "local_file", "upload_file_id"}; `id_of`
/// gives the id of a file's content hash.
std::string inputs_with_uploads(
  const std::string& inputs_json, const std::vector<file_input>& files,
  const std::function<std::string(const std::string&)>& id_of);

} // namespace troupe
