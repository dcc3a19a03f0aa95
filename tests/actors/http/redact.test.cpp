// Secrets masked wherever a server echoed them.

#include "actors/http/redact.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

BOOST_AUTO_TEST_SUITE(redact)

BOOST_AUTO_TEST_CASE(every_occurrence_becomes_the_mask) {
  std::string text = "you sent Bearer app-SECRET-abc123; again: "
                     "app-SECRET-abc123.";
  BOOST_CHECK_EQUAL(troupe::redact(text, "app-SECRET-abc123"), 2u);
  BOOST_CHECK_EQUAL(text, "you sent Bearer app-***; again: app-***.");
}

BOOST_AUTO_TEST_CASE(the_mask_keeps_a_short_prefix_only) {
  BOOST_CHECK_EQUAL(secret_mask("app-SECRET"), "app-***");
  BOOST_CHECK_EQUAL(secret_mask("sk-proj-abc"), "sk-***");
  BOOST_CHECK_EQUAL(secret_mask("averylongprefix-abc"), "***");
  BOOST_CHECK_EQUAL(secret_mask("nodashatall"), "***");
}

BOOST_AUTO_TEST_CASE(short_secrets_and_clean_text_are_left_alone) {
  std::string text = "a b c";
  BOOST_CHECK_EQUAL(troupe::redact(text, "b"), 0u);
  BOOST_CHECK_EQUAL(text, "a b c");
  std::string clean = "nothing to see";
  BOOST_CHECK_EQUAL(troupe::redact(clean, "app-SECRET"), 0u);
  // A mask that contains the secret cannot loop.
  std::string tricky = "******";
  BOOST_CHECK_EQUAL(troupe::redact(tricky, "******"), 1u);
  BOOST_CHECK_EQUAL(tricky, "***");
}

BOOST_AUTO_TEST_SUITE_END()
