// Filling in the http target's templates: values found per placeholder,
// escaped for where they go (URL, header, JSON body).

#include "actors/http/http_template.hpp"

#include "actors/http/protocol_parts.hpp"
#include "actors/results/json_text.hpp"
#include "messages/placeholders.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <optional>

namespace json = boost::json;

namespace troupe::protocol {

namespace {

enum class escaping { json, url, header };

void append_escaped(std::string& out, std::string_view text, escaping how) {
  switch (how) {
    case escaping::json: {
      std::string quoted;
      append_json_string(quoted, text);
      out.append(quoted, 1, quoted.size() - 2);
      break;
    }
    case escaping::url: {
      static constexpr char hex[] = "0123456789ABCDEF";
      for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          out += static_cast<char>(c);
        } else {
          out += '%';
          out += hex[c >> 4];
          out += hex[c & 15];
        }
      }
      break;
    }
    case escaping::header:
      for (char c : text)
        out += (c == '\r' || c == '\n') ? ' ' : c;
      break;
  }
}

/// The values one task gives its placeholders.
class task_values {
public:
  explicit task_values(const task_spec& task)
    : task_(task),
      inputs_(parse_json(task.inputs_json.empty() ? "{}" : task.inputs_json)),
      params_(parse_json(task.params_json.empty() ? "{}" : task.params_json)) {}

  /// Fills in `templ` into `out`; the name of a placeholder that has no
  /// value in this task, if one has none.
  std::optional<std::string> fill(const std::string& templ, escaping how,
                                  std::string& out) const {
    out.clear();
    std::string value;
    for (auto& part : parse_template(templ)) {
      switch (part.kind) {
        case template_part_kind::literal:
        case template_part_kind::unclosed:
          out += part.text;
          continue;
        default:
          if (!lookup(part, value))
            return std::string{part.text};
          append_escaped(out, value, how);
      }
    }
    return std::nullopt;
  }

private:
  // The text a placeholder stands for: strings as they are, other values as
  // compact JSON.
  bool lookup(const template_part& part, std::string& out) const {
    const json::value* obj = nullptr;
    switch (part.kind) {
      case template_part_kind::case_id:
        out = task_.case_id;
        return true;
      case template_part_kind::task_id:
        out = task_.id;
        return true;
      case template_part_kind::input:
        obj = &inputs_;
        break;
      case template_part_kind::param:
        obj = &params_;
        break;
      default:
        return false;
    }
    auto* x = member(*obj, part.key);
    if (x == nullptr)
      return false;
    if (x->is_string())
      out = x->get_string();
    else
      out = json::serialize(*x);
    return true;
  }

  const task_spec& task_;
  json::value inputs_;
  json::value params_;
};

} // namespace

std::variant<http_call, attempt_reply> build_http_call(const http_target& t,
                                                       const task_spec& task) {
  http_call c;
  task_values values{task};
  auto fail = [&](const char* where, const std::string& missing) {
    return rejected(std::string{"target."} + where + ": no value for {{"
                      + missing + "}} in this task",
                    error_code::template_value);
  };
  c.method = t.method;
  if (auto missing = values.fill(t.url, escaping::url, c.url))
    return fail("url", *missing);
  add_auth_header(t, c.headers);
  bool has_content_type = false;
  for (auto& [name, value] : t.headers) {
    std::string rendered;
    if (auto missing = values.fill(value, escaping::header, rendered))
      return fail("headers", *missing);
    c.headers.push_back(name + ": " + rendered);
    std::string lower = name;
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    has_content_type = has_content_type || lower == "content-type";
  }
  if (!t.body.empty()) {
    if (auto missing = values.fill(t.body, escaping::json, c.body))
      return fail("body", *missing);
    if (!has_content_type)
      c.headers.emplace_back("Content-Type: application/json");
  }
  return c;
}

} // namespace troupe::protocol
