#pragma once

// The names in a results file's header and result lines (product.md,
// "Results"), written once for the encoder (result_line.hpp) and the decoder
// (result_line_reader.hpp). They are a contract with users' scripts.

#include <cstddef>
#include <string_view>

namespace troupe {

/// A field of a results line: its name, and the text the encoder writes
/// before its value, `,"name":`, both made at compile time.
template <size_t N>
class result_field {
public:
  constexpr result_field(const char (&name)[N]) : text_{}, open_{} {
    text_[0] = ',';
    text_[1] = '"';
    for (size_t i = 0; i + 1 < N; ++i)
      text_[i + 2] = name[i];
    text_[N + 1] = '"';
    text_[N + 2] = ':';
    for (size_t i = 0; i < N + 3; ++i)
      open_[i] = text_[i];
    open_[0] = '{';
  }

  /// `name`, as the decoder looks it up.
  constexpr std::string_view name() const noexcept {
    return {text_ + 2, N - 1};
  }

  /// `,"name":`, as the encoder writes it after an earlier field.
  constexpr std::string_view key() const noexcept {
    return {text_, N + 3};
  }

  /// `"name":`, the key without the comma.
  constexpr std::string_view first_key() const noexcept {
    return {text_ + 1, N + 2};
  }

  /// `{"name":`, as the encoder writes it first in an object.
  constexpr std::string_view open_key() const noexcept {
    return {open_, N + 3};
  }

private:
  char text_[N + 3];
  char open_[N + 3];
};

namespace fields {

// -- every line --
inline constexpr result_field type{"type"};

// -- header line --
inline constexpr result_field manifest_hash{"manifest_hash"};
inline constexpr result_field version{"version"};
inline constexpr result_field manifest{"manifest"};
inline constexpr result_field name{"name"};
inline constexpr result_field target{"target"};
inline constexpr result_field tasks{"tasks"};
inline constexpr result_field resumed{"resumed"};
inline constexpr result_field executor{"executor"};

// -- result line (started_at is the header's too) --
inline constexpr result_field task_id{"task_id"};
inline constexpr result_field dataset{"dataset"};
inline constexpr result_field case_id{"case_id"};
inline constexpr result_field params{"params"};
inline constexpr result_field status{"status"};
inline constexpr result_field attempts{"attempts"};
inline constexpr result_field attempt_log{"attempt_log"};
inline constexpr result_field started_at{"started_at"};
inline constexpr result_field finished_at{"finished_at"};
inline constexpr result_field latency_ms{"latency_ms"};
inline constexpr result_field queue_ms{"queue_ms"};
inline constexpr result_field connect_ms{"connect_ms"};
inline constexpr result_field output{"output"};
inline constexpr result_field error{"error"};
inline constexpr result_field error_code{"error_code"};
inline constexpr result_field http_status{"http_status"};
inline constexpr result_field tokens{"tokens"};
inline constexpr result_field first_event_ms{"first_event_ms"};
inline constexpr result_field dify{"dify"};
inline constexpr result_field assertions{"assertions"};
inline constexpr result_field cached{"cached"};
inline constexpr result_field node{"node"};
inline constexpr result_field turns{"turns"};

// -- an attempt_log entry (with status, error, http_status, node, and for
// an HTTP call that reached the wire latency_ms, queue_ms, connect_ms) --
inline constexpr result_field started_ms{"started_ms"};
inline constexpr result_field duration_ms{"duration_ms"};

// -- a turns entry (with status, attempts, latency_ms, output, error,
// tokens and assertions) --
inline constexpr result_field query{"query"};
inline constexpr result_field conversation_id{"conversation_id"};
inline constexpr result_field message_id{"message_id"};

// -- an assertions entry --
inline constexpr result_field check{"check"};
inline constexpr result_field passed{"passed"};
inline constexpr result_field detail{"detail"};

} // namespace fields

/// The status of an attempt lost with its node (attempt_record::lost).
inline constexpr std::string_view lost_attempt_status = "node_lost";

/// How each kind of line starts: `{"type":"header"` and so on.
inline constexpr std::string_view header_line_prefix = R"({"type":"header")";
inline constexpr std::string_view result_line_prefix = R"({"type":"result")";
inline constexpr std::string_view summary_line_prefix = R"({"type":"summary")";

/// The value of "type" that a line prefix holds: "header" for the first.
constexpr std::string_view line_type_of(std::string_view prefix) noexcept {
  return prefix.substr(9, prefix.size() - 10);
}

static_assert(header_line_prefix.substr(1, 7) == fields::type.first_key(),
              "a line prefix is its \"type\" field");
static_assert(line_type_of(result_line_prefix) == "result");

} // namespace troupe
