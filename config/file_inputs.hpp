#pragma once

// File inputs of Dify targets: an input value `{"file": "docs/a.pdf"}` (or a
// list of them) names a file, relative to the manifest's folder, that troupe
// uploads once per run and sends as Dify's file object. Checked before the
// run (exists, readable, within the size limit), found again per task.

#include "config/manifest.hpp"
#include "messages/files.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::config {

class checker;

/// Dify's file type of a path, by its extension as Dify's file factory
/// guesses it: image, video, audio, document (the default ETL's list),
/// else custom.
std::string dify_file_type(std::string_view path);

/// Dify's default upload limit for a file type (UPLOAD_IMAGE_FILE_SIZE_LIMIT
/// 10 MB, _VIDEO_ 100 MB, _AUDIO_ 50 MB, UPLOAD_FILE_SIZE_LIMIT 15 MB, in
/// MiB as Dify counts them).
uint64_t dify_upload_limit(std::string_view type);

/// Whether inputs (compact JSON) may name a file: a cheap test, so that
/// inputs without one are never parsed for it.
bool may_name_files(std::string_view inputs_json);

/// Checks the file inputs of one inputs object (compact JSON): their shape,
/// and that each file not seen before is a readable regular file within its
/// limit; adds those to `m.input_files`. Errors go through `chk` and name
/// `path` ("inputs", "datasets[0].cases[2].inputs", "parameters[1]").
void check_file_inputs(const checker& chk, const std::string& path,
                       std::string_view inputs_json, manifest& m);

/// Whether inputs (compact JSON) name a file: an input that is an object
/// with a "file" key, alone or in a list (parses only what may_name_files
/// lets through).
bool names_files(std::string_view inputs_json);

/// The file inputs of a task's inputs (compact JSON), from the files that
/// check_file_inputs recorded; empty when there are none.
std::vector<file_input> task_files(std::string_view inputs_json,
                                   const manifest& m);

} // namespace troupe::config
