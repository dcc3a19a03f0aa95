#pragma once

// How an HTTP attempt's time splits (result fields latency_ms, queue_ms and
// connect_ms): the wire time, from the moment the request could go out on a
// ready connection to the answer's last byte; the connect time of a new
// connection (TCP, a proxy, TLS); and the queue time, the rest before the
// wire: the worker's request in the executor's mailbox, the client's queue,
// libcurl's, the name lookup. All on one steady clock (http_client::now_us),
// in microseconds.
//
//   sent ──── queue ────┬─ connect ─┬──────── wire (latency) ────────┐
//   (worker)            │ new conn. │ request out ... last byte in    │

#include "actors/http/http_client.hpp"

#include <cstdint>

namespace troupe {

/// An attempt's latency, queue and connect times, -1 where unknown.
struct attempt_times {
  int64_t latency_us = -1;
  int64_t queue_us = -1;
  int64_t connect_us = -1;
};

/// Splits the time from `sent_us` (the worker sent the attempt) by the
/// transport's `wire` times. Nothing is known of an attempt that never
/// reached the wire (a refused connection): all -1. Clock steps between
/// threads never make a time negative.
inline attempt_times split_attempt_time(int64_t sent_us, wire_times wire) {
  attempt_times t;
  if (wire.start_us < 0 || wire.end_us < 0)
    return t;
  t.latency_us = wire.end_us > wire.start_us ? wire.end_us - wire.start_us : 0;
  t.connect_us = wire.connect_us;
  auto before
    = wire.start_us - sent_us - (wire.connect_us > 0 ? wire.connect_us : 0);
  t.queue_us = before > 0 ? before : 0;
  return t;
}

} // namespace troupe
