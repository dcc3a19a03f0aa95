// Boost.JSON's implementation, compiled into the fuzzing build so that it
// is instrumented like the code that calls it.

#include <boost/json/src.hpp>
