#!/usr/bin/env python3
"""Splits B9s's first-event gap into its two halves, call by call.

bench.py's b9s compares durations: troupe's first_event_ms (from the
request going out to the first event coming in) against fake-dify's own
(from reading the request to writing the first event). Their difference
holds two waits: the request's, between troupe sending it and fake-dify
reading it, and the event's, between fake-dify writing it and troupe
reading it. Only the second is troupe's. Both processes stamp the same
steady clock (CLOCK_MONOTONIC), so the halves can be told apart, given a
troupe built with first-event-log.patch (beside this file):

  git apply bench/limits/first-event-log.patch   # a scratch checkout
  cmake --build build --target troupe
  TROUPE_FIRST_EVENT_LOG=/tmp/first.txt BENCH_KEEP=/tmp/b9s \\
    python3 bench/bench.py b9s
  python3 bench/limits/first_event_split.py /tmp/first.txt \\
    /tmp/b9s/b9s-troupe-timing.jsonl

(BENCH_KEEP keeps bench.py's folder, and with it fake-dify's timing log.)
"""
import json
import sys


def pick(values, q):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))], 1)


def main(first_log, timing_log):
    client = {}
    with open(first_log) as f:
        for line in f:
            n, sent_us, first_us = map(int, line.split())
            client[n] = (sent_us, first_us)
    server = {}
    with open(timing_log) as f:
        for line in f:
            o = json.loads(line)
            n = int(o["inputs"]["text"].split()[1])
            server[n] = (o["received_us"], o["first_event_us"])
    request, event = [], []
    for n, (sent_us, first_us) in client.items():
        if n not in server or server[n][1] is None:
            continue
        received_us, written_us = server[n]
        request.append((received_us - sent_us) / 1000)
        event.append((first_us - written_us) / 1000)
    print(json.dumps({
        "calls": len(event),
        "request_to_server_read_ms": {
            "p50": pick(request, 0.5), "p90": pick(request, 0.9),
            "max": pick(request, 1.0)},
        "server_write_to_troupe_read_ms": {
            "p50": pick(event, 0.5), "p90": pick(event, 0.9),
            "p99": pick(event, 0.99), "max": pick(event, 1.0),
            "min": pick(event, 0.0)},
        "events_read_within_50ms": sum(1 for e in event if 0 <= e <= 50),
    }))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: first_event_split.py FIRST_EVENT_LOG TIMING_LOG")
    main(sys.argv[1], sys.argv[2])
