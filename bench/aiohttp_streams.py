#!/usr/bin/env python3
"""B9's second part, the Python side: N streaming Dify calls at once with
asyncio and aiohttp, to set troupe's CPU and memory beside.

    python3 bench/aiohttp_streams.py URL N [--key K] [--calls F]

URL is a Dify base (http://127.0.0.1:PORT/v1). Call i posts what troupe
sends for a workflow case with inputs {"text": "case i"} (bench.py's
cases), all N at once, each on its own connection. Every SSE event is read
and every data event parsed as JSON, as troupe does. A call's first-event
time counts from its request headers going out (aiohttp's
on_request_headers_sent) to the chunk that held its first data event (not
a ping): troupe's first_event_ms, from the wire's start. Prints one JSON
line: calls, events consumed, first-event p50/max, wall, CPU seconds
(getrusage) and peak RSS; --calls F writes one line per call.

    request ─▶ headers sent (t0) ─▶ chunks ─▶ split at blank lines ─▶ events
                                     └─ first "data:" event: first_event_ms
"""

import argparse
import asyncio
import json
import resource
import sys
import time

import aiohttp


def now_ms():
    return time.monotonic_ns() / 1e6


async def on_headers_sent(session, ctx, params):
    ctx.trace_request_ctx["sent_ms"] = now_ms()


async def one_call(session, url, i, headers):
    body = json.dumps({"inputs": {"text": "case %d" % i},
                       "response_mode": "streaming", "user": "bench"},
                      separators=(",", ":"))
    call = {"i": i, "status": 0, "events": 0, "first_event_ms": None,
            "error": None}
    trace = {}
    try:
        async with session.post(url, data=body, headers=headers,
                                trace_request_ctx=trace) as resp:
            call["status"] = resp.status
            buf = b""
            async for chunk in resp.content.iter_any():
                at = now_ms()
                buf += chunk
                while True:
                    end = buf.find(b"\n\n")
                    if end < 0:
                        break
                    block, buf = buf[:end], buf[end + 2:]
                    call["events"] += 1
                    if block.startswith(b"data:"):
                        json.loads(block[5:])
                        if call["first_event_ms"] is None:
                            call["first_event_ms"] = at - trace["sent_ms"]
    except Exception as e:  # a call that fails is counted, not fatal
        call["error"] = "%s: %s" % (type(e).__name__, e)
    return call


async def run(base, n, key):
    tracing = aiohttp.TraceConfig()
    tracing.on_request_headers_sent.append(on_headers_sent)
    # limit=0: no cap on connections, every call at once (the default caps
    # at 100); no total timeout, a stream lasts seconds.
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    headers = {"Authorization": "Bearer " + key,
               "Content-Type": "application/json"}
    url = base.rstrip("/") + "/workflows/run"
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     trace_configs=[tracing]) as session:
        return await asyncio.gather(
            *(one_call(session, url, i, headers) for i in range(n)))


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="a Dify base URL, http://HOST:PORT/v1")
    ap.add_argument("n", type=int, help="calls, all at once")
    ap.add_argument("--key", default="app-bench")
    ap.add_argument("--calls", help="write one JSON line per call here")
    args = ap.parse_args()
    # One socket per call, and more for the loop.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    start = time.monotonic()
    calls = asyncio.run(run(args.url, args.n, args.key))
    wall = time.monotonic() - start
    if args.calls:
        with open(args.calls, "w") as f:
            for c in calls:
                f.write(json.dumps(c) + "\n")
    firsts = [c["first_event_ms"] for c in calls
              if c["first_event_ms"] is not None]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "calls": len(calls),
        "ok": sum(1 for c in calls if c["status"] == 200 and not c["error"]),
        "errors": sorted({c["error"] for c in calls if c["error"]})[:5],
        "events": sum(c["events"] for c in calls),
        "first_event_p50_ms": round(percentile(firsts, 0.5) or 0, 3),
        "first_event_max_ms": round(max(firsts) if firsts else 0, 3),
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }))
    return 0 if all(c["status"] == 200 and not c["error"] for c in calls) else 1


if __name__ == "__main__":
    sys.exit(main())
