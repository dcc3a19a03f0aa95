#pragma once

// The `{{...}}` placeholder grammar of an http target's templates (url,
// headers, body), written once: the manifest check reports its errors, and
// the executor fills in its parts per task.
//
//   template    = { literal | placeholder } [ unclosed ]
//   placeholder = "{{" name "}}"     name: everything up to the first "}}"
//   name        = "inputs." NAME | "params." NAME | "case_id" | "task_id"
//
// Any other name is unknown; a "{{" with no "}}" after it is unclosed.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {

/// What one part of a template is.
enum class template_part_kind : uint8_t {
  literal,  ///< text outside placeholders
  input,    ///< {{inputs.NAME}}
  param,    ///< {{params.NAME}}
  case_id,  ///< {{case_id}}
  task_id,  ///< {{task_id}}
  unknown,  ///< {{anything else}}
  unclosed, ///< a "{{" without "}}": the rest of the template, as it is
};

/// One part of a template; its views point into the template.
struct template_part {
  template_part_kind kind = template_part_kind::literal;
  /// The text (literal, unclosed), or the whole name between the braces.
  std::string_view text;
  /// input and param: NAME, after "inputs." or "params.".
  std::string_view key;
};

/// The parts of `templ`, in order; no literal part is empty.
std::vector<template_part> parse_template(std::string_view templ);

/// The placeholders the grammar knows, for error messages.
inline constexpr std::string_view placeholder_forms
  = "{{inputs.NAME}}, {{params.NAME}}, {{case_id}} or {{task_id}}";

/// The first error of `templ` as a manifest check words it ("has an unclosed
/// \"{{\"", "unknown placeholder {{x}} (expected ...)"), none if it is valid.
std::optional<std::string> template_error(std::string_view templ);

} // namespace troupe
