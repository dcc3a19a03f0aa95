#pragma once

// fake-dify's POST /v1/files/upload (Dify's service API FileApi): a careful
// multipart/form-data reader, the uploads kept for the run calls that name
// them, and the answers: 201 {id, name, size, extension, mime_type,
// created_by, created_at}, 400 no_file_uploaded, 413 file_too_large. A file
// named "_fault-STATUS-TIMES..." answers STATUS its first TIMES uploads
// (per name), as a run call's "_fault" does.

#include "tools/fake_dify/plan.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::fake_dify {

/// One part of a multipart/form-data body.
struct form_field {
  std::string name;
  /// The filename of a file part; empty for a text field.
  std::string filename;
  std::string content_type;
  std::string data;
};

/// The parts of a multipart/form-data body with the Content-Type header
/// `content_type`, or nullopt if it is not one (no boundary, a part
/// without its headers or its end).
std::optional<std::vector<form_field>>
parse_multipart(std::string_view content_type, std::string_view body);

/// An uploaded file, as Dify records it.
struct upload_record {
  std::string id;
  std::string name;
  uint64_t size = 0;
  std::string extension;
  std::string mime_type;
  std::string created_by;
  int64_t created_at = 0;
};

/// The files uploaded to the server (thread-safe).
class upload_store {
public:
  /// Keeps `r` (its id set by the caller).
  void add(upload_record r);

  /// The upload `id`, if it was made.
  std::optional<upload_record> find(const std::string& id) const;

  /// Uploads kept.
  uint64_t count() const;

private:
  mutable std::mutex mtx_;
  std::unordered_map<std::string, upload_record> by_id_;
};

/// Plans an upload: reads the form, keeps the file in `store`, or refuses
/// as Dify does; `max_bytes` is the size limit (Dify's 15 MB by default).
plan plan_upload(std::string_view content_type, std::string_view body,
                 uint64_t max_bytes, upload_store& store, plan_source& source);

/// What a run call's input holds for an uploaded file: Dify's file object
/// {"transfer_method": "local_file", "upload_file_id"} is replaced (in
/// place, in a list too) by {"name", "size", "type", "created_by"} so that
/// the echo shows the file arrived; other values stay as sent. The error
/// of an id that names no upload, else empty.
std::string resolve_uploads(boost::json::object& inputs,
                            const upload_store& store);

} // namespace troupe::fake_dify
