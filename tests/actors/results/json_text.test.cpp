// JSON text pieces: escaped strings, milliseconds and RFC 3339 times.

#include "actors/results/json_text.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(json_text)

BOOST_AUTO_TEST_CASE(strings_are_escaped_and_bad_utf8_replaced) {
  std::string out;
  append_json_string(out, "a\"b\\c\nd\te\x01 \xc3\xa9 \xff end");
  BOOST_CHECK_EQUAL(out,
                    "\"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9 \xef\xbf\xbd end\"");
}

BOOST_AUTO_TEST_CASE(milliseconds_keep_three_decimals_at_most) {
  auto ms = [](int64_t us) {
    std::string s;
    append_ms(s, us);
    return s;
  };
  BOOST_CHECK_EQUAL(ms(0), "0");
  BOOST_CHECK_EQUAL(ms(1500), "1.5");
  BOOST_CHECK_EQUAL(ms(1234567), "1234.567");
  BOOST_CHECK_EQUAL(ms(10'000'000), "10000");
  BOOST_CHECK_EQUAL(ms(-2500), "-2.5");
}

BOOST_AUTO_TEST_CASE(timestamps_are_rfc3339_utc) {
  BOOST_CHECK_EQUAL(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  BOOST_CHECK_EQUAL(format_rfc3339(951'782'400'123'456),
                    "2000-02-29T00:00:00.123Z");
  BOOST_CHECK_EQUAL(format_rfc3339(4'102'444'799'999'000),
                    "2099-12-31T23:59:59.999Z");
}

BOOST_AUTO_TEST_SUITE_END()
