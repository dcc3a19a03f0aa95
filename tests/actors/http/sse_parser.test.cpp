// The SSE parser on whole streams and on every way of splitting them.

#include "actors/http/sse_parser.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

namespace {

std::vector<sse_event> parse_in_pieces(const std::string& stream,
                                       size_t piece) {
  sse_parser p;
  std::vector<sse_event> out;
  for (size_t i = 0; i < stream.size(); i += piece)
    p.feed(std::string_view{stream}.substr(i, piece), out);
  return out;
}

std::string render(const std::vector<sse_event>& xs) {
  std::string s;
  for (auto& x : xs)
    s += "[" + x.type + "|" + x.data + "]";
  return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(sse_parser)

BOOST_AUTO_TEST_CASE(a_dify_stream_splits_into_events_at_any_byte) {
  std::string stream
    = "event: ping\n\n"
      "data: {\"event\": \"workflow_started\", \"task_id\": \"t1\"}\n\n"
      ": a comment\r\n"
      "event: ping\r\n\r\n"
      "data: {\"event\":\"text_chunk\",\r\n"
      "data: \"more\"}\r\n\r\n"
      "data:{\"event\":\"workflow_finished\"}\r\r"
      "event: error\n"
      "data: {\"event\":\"error\"}\n\n";
  auto expected = std::string{
    "[message|{\"event\": \"workflow_started\", \"task_id\": \"t1\"}]"
    "[message|{\"event\":\"text_chunk\",\n\"more\"}]"
    "[message|{\"event\":\"workflow_finished\"}]"
    "[error|{\"event\":\"error\"}]"};
  for (size_t piece = 1; piece <= stream.size(); ++piece)
    BOOST_CHECK_MESSAGE(render(parse_in_pieces(stream, piece)) == expected,
                        "pieces of " << piece << ": "
                                     << render(parse_in_pieces(stream, piece)));
}

BOOST_AUTO_TEST_CASE(a_crlf_split_between_reads_ends_one_line) {
  troupe::sse_parser p;
  std::vector<sse_event> out;
  p.feed("data: a\r", out);
  p.feed("\n", out);
  p.feed("\r", out);
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_CHECK_EQUAL(out[0].data, "a");
  p.feed("\n", out); // the LF of the blank line's CRLF: no second event
  BOOST_CHECK_EQUAL(out.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_stream_cut_mid_event_is_seen_as_such) {
  troupe::sse_parser p;
  std::vector<sse_event> out;
  p.feed("data: {\"event\":\"workflow_started\"}\n\ndata: {\"ev", out);
  BOOST_CHECK_EQUAL(out.size(), 1u);
  BOOST_CHECK(p.mid_event());
  troupe::sse_parser q;
  q.feed("data: x\n\n", out);
  BOOST_CHECK(!q.mid_event());
}

BOOST_AUTO_TEST_CASE(events_without_data_dispatch_nothing) {
  troupe::sse_parser p;
  std::vector<sse_event> out;
  p.feed("event: ping\n\nevent: ping\n\n:keepalive\n\n", out);
  BOOST_CHECK(out.empty());
  p.feed("data\n\n", out); // a field name alone is an empty data line
  BOOST_REQUIRE_EQUAL(out.size(), 1u);
  BOOST_CHECK_EQUAL(out[0].data, "");
}

BOOST_AUTO_TEST_SUITE_END()
