// The placeholder grammar: one scanner for checking and filling in.

#include "messages/placeholders.hpp"

namespace troupe {

namespace {

template_part placeholder(std::string_view name) {
  auto with_prefix = [&](std::string_view prefix) {
    return name.size() > prefix.size()
           && name.compare(0, prefix.size(), prefix) == 0;
  };
  if (with_prefix("inputs."))
    return {template_part_kind::input, name, name.substr(7)};
  if (with_prefix("params."))
    return {template_part_kind::param, name, name.substr(7)};
  if (name == "case_id")
    return {template_part_kind::case_id, name, {}};
  if (name == "task_id")
    return {template_part_kind::task_id, name, {}};
  return {template_part_kind::unknown, name, {}};
}

} // namespace

std::vector<template_part> parse_template(std::string_view templ) {
  std::vector<template_part> out;
  auto literal = [&](std::string_view text) {
    if (!text.empty())
      out.push_back({template_part_kind::literal, text, {}});
  };
  size_t pos = 0;
  for (;;) {
    auto open = templ.find("{{", pos);
    if (open == std::string_view::npos) {
      literal(templ.substr(pos));
      return out;
    }
    auto close = templ.find("}}", open + 2);
    literal(templ.substr(pos, open - pos));
    if (close == std::string_view::npos) {
      out.push_back({template_part_kind::unclosed, templ.substr(open), {}});
      return out;
    }
    out.push_back(placeholder(templ.substr(open + 2, close - open - 2)));
    pos = close + 2;
  }
}

std::optional<std::string> template_error(std::string_view templ) {
  for (auto& part : parse_template(templ)) {
    if (part.kind == template_part_kind::unclosed)
      return std::string{"has an unclosed \"{{\""};
    if (part.kind == template_part_kind::unknown) {
      std::string what = "unknown placeholder {{";
      what += part.text;
      what += "}} (expected ";
      what += placeholder_forms;
      what += ')';
      return what;
    }
  }
  return std::nullopt;
}

} // namespace troupe
