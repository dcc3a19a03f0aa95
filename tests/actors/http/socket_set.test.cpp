// The epoll set that follows libcurl's sockets: a socket libcurl closes
// without telling (the threaded resolver's socketpair) must not keep its
// descriptor number from being watched when it comes back.

#include "actors/http/socket_set.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

using troupe::socket_owner;
using set_type = troupe::socket_set;

// The class as set_type: the suite has its name.
BOOST_AUTO_TEST_SUITE(socket_set)

BOOST_AUTO_TEST_CASE(a_number_reused_after_an_untold_close_is_watched_again) {
  set_type set;
  socket_owner owner{&set, 0};
  int first[2];
  BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, first), 0);
  // libcurl 7.88's resolver: watch the read end, remove it, close it
  // itself (no CURLOPT_CLOSESOCKETFUNCTION).
  set_type::on_socket(nullptr, first[0], CURL_POLL_IN, &owner, nullptr);
  set_type::on_socket(nullptr, first[0], CURL_POLL_REMOVE, &owner, nullptr);
  auto number = first[0];
  ::close(first[0]);
  ::close(first[1]);
  // The next socketpair gets the same lowest free numbers.
  int second[2];
  BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, second), 0);
  BOOST_REQUIRE_EQUAL(second[0], number);
  set_type::on_socket(nullptr, second[0], CURL_POLL_IN, &owner, nullptr);
  BOOST_REQUIRE_EQUAL(::write(second[1], "x", 1), 1);
  std::vector<epoll_event> events(8);
  auto n = set.wait(events, 0);
  BOOST_REQUIRE_EQUAL(n, 1);
  BOOST_CHECK_EQUAL(events[0].data.fd, number);
  BOOST_CHECK(set.wanted(number));
  ::close(second[0]);
  ::close(second[1]);
}

BOOST_AUTO_TEST_CASE(a_parked_socket_wanted_again_is_watched) {
  // A kept-alive connection: parked between requests, wanted again.
  set_type set;
  socket_owner owner{&set, 0};
  int pair[2];
  BOOST_REQUIRE_EQUAL(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  set_type::on_socket(nullptr, pair[0], CURL_POLL_OUT, &owner, nullptr);
  set_type::on_socket(nullptr, pair[0], CURL_POLL_REMOVE, &owner, nullptr);
  BOOST_CHECK(!set.wanted(pair[0]));
  set_type::on_socket(nullptr, pair[0], CURL_POLL_IN, &owner, nullptr);
  BOOST_REQUIRE_EQUAL(::write(pair[1], "x", 1), 1);
  std::vector<epoll_event> events(8);
  BOOST_REQUIRE_EQUAL(set.wait(events, 0), 1);
  BOOST_CHECK_EQUAL(events[0].data.fd, pair[0]);
  BOOST_CHECK_EQUAL(events[0].events & EPOLLOUT, 0u);
  ::close(pair[0]);
  ::close(pair[1]);
}

BOOST_AUTO_TEST_SUITE_END()
