// The one FNV-1a: the published test vectors, and troupe's own basis, whose
// values seeded runs and result indexes rely on.

#include "messages/fnv1a.hpp"

#include <boost/test/unit_test.hpp>

using namespace troupe;

// Computed at compile time too.
static_assert(fnv1a("") == 0xcbf29ce484222325ull);
static_assert(troupe_hash("") == troupe_hash_basis);

BOOST_AUTO_TEST_SUITE(fnv1a)

BOOST_AUTO_TEST_CASE(the_published_vectors_hold) {
  BOOST_CHECK_EQUAL(troupe::fnv1a(""), 0xcbf29ce484222325ull);
  BOOST_CHECK_EQUAL(troupe::fnv1a("a"), 0xaf63dc4c8601ec8cull);
  BOOST_CHECK_EQUAL(troupe::fnv1a("foobar"), 0x85944171f73967e8ull);
}

BOOST_AUTO_TEST_CASE(troupe_hash_keeps_the_basis_of_the_former_copies) {
  BOOST_CHECK_EQUAL(troupe_hash_basis, 1469598103934665603ull);
  BOOST_CHECK_EQUAL(troupe_hash("a"), 0x44bd8ad473cd9906ull);
  BOOST_CHECK_EQUAL(troupe_hash("smoke/c1#0"), 0xb83de7af27082246ull);
}

BOOST_AUTO_TEST_CASE(hashing_continues_from_a_given_state) {
  BOOST_CHECK_EQUAL(troupe::fnv1a("bar", troupe::fnv1a("foo")),
                    troupe::fnv1a("foobar"));
}

BOOST_AUTO_TEST_SUITE_END()
