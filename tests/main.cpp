// The test binary's entry point: Boost.Test generates main(). Each suite is
// registered with ctest on its own (tests/CMakeLists.txt).

#define BOOST_TEST_MODULE troupe
#ifndef BOOST_TEST_DYN_LINK
#  define BOOST_TEST_DYN_LINK
#endif
#include <boost/test/unit_test.hpp>
