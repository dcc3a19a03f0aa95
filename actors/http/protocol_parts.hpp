#pragma once

// The pieces the Dify protocol's files share (dify_request, dify_reply,
// dify_stream, http_template): reading JSON without throwing, and the
// replies that end an attempt. Internal to actors/http/.

#include "actors/http/dify_protocol.hpp"
#include "messages/error_code.hpp"

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::protocol {

// -- reading JSON
// --------------------------------------------------------------

/// Parses JSON without throwing; null on failure.
boost::json::value parse_json(std::string_view text);

/// The string at `key` of an object, empty if absent or not a string.
std::string string_at(const boost::json::value& v, std::string_view key);

/// An integer, or -1: a fraction is cut off, and a number that does not fit
/// is as absent (to_number<int64_t> would throw on either).
int64_t int_at(const boost::json::value& v, std::string_view key);

/// A finite number, or -1.
double double_at(const boost::json::value& v, std::string_view key);

/// The member `key` of an object, null if absent or not an object.
const boost::json::value* member(const boost::json::value& v,
                                 std::string_view key);

// -- building calls -----------------------------------------------------------

/// Adds "Authorization: Bearer KEY" when the target has a key.
void add_auth_header(const http_target& t, std::vector<std::string>& out);

// -- replies ----------------------------------------------------------------

/// What a 400 completion_request_error's message says of the model provider.
enum class provider_error { rate_limited, unavailable, connection, other };

/// Reads Dify's message for a provider error (case-insensitive).
provider_error classify_provider_error(const std::string& message);

/// FAILED, never retried, with troupe's own code.
attempt_reply rejected(std::string error, error_code code);

/// An error from the service: an HTTP status (or a stream's error event)
/// with Dify's {code, message}, classified by the retry rules.
attempt_reply service_error(int status, const std::string& code,
                            const std::string& message, int64_t retry_after_us);

/// service_error for a response whose status is not a success, from its
/// body's {code, message} (or an excerpt of a body that has neither).
attempt_reply error_from_body(const http_outcome& o, int64_t now_unix_s);

/// ERROR for a transfer that failed (connection, TLS, too large).
attempt_reply transport_error(const http_outcome& o);

/// ERROR for a body that is not the JSON expected.
attempt_reply malformed(int status, const std::string& what,
                        const std::string& body);

/// As above, for a whole response.
attempt_reply malformed(const http_outcome& o, const std::string& what);

/// What `malformed` says of a number JSON text cannot hold.
inline constexpr const char* out_of_range = "a number out of range";

/// A finished workflow run: blocking `data`, or workflow_finished's data.
attempt_reply workflow_result(const boost::json::value& data, int status,
                              bool stop_requested);

} // namespace troupe::protocol
