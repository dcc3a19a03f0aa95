#!/usr/bin/env python3
"""troupe's benchmarks (../shared/docs/benchmarks.md): each workload prints
one JSON line with its figures, measured as ratios in one run.

    python3 bench/bench.py b1 b2 b5      # or: all
    TROUPE=build/troupe REPEAT=5 python3 bench/bench.py b1
    B9_SIZES=10000 python3 bench/bench.py b9
    python3 bench/bench.py b9s           # B9's second part: streams

Workloads are generated into a temporary folder (BENCH_KEEP=DIR: into DIR,
which must be empty or new, and is kept; one workload at a time). Every
figure is the median of REPEAT runs (default 5), with the best run beside
it.
"""

import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TROUPE = os.environ.get("TROUPE", os.path.join(HERE, "..", "build", "troupe"))
REPEAT = int(os.environ.get("REPEAT", "5"))
# The fake-dify to measure against; set it to compare an older troupe (which
# may lack a flag a workload needs, B9's --timing-log) on the same server.
SERVER = os.environ.get("TROUPE_SERVER", TROUPE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def write_cases(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write('{"id": "c%d", "inputs": {"text": "case %d"}}\n' % (i, i))


def write_manifest(folder, name, cases, concurrency, delay=0.0, extra=None):
    m = {
        "name": name,
        "target": {"type": "stub"},
        "datasets": [{"name": "d", "file": cases}],
        "execution_policy": {"concurrency": concurrency},
        "stub": {"simulated_delay_seconds": delay},
    }
    if extra:
        m.update(extra)
    m = {k: v for k, v in m.items() if v is not None}
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as f:
        json.dump(m, f)
    return path


def thread_cpu(pid):
    """{thread id: utime + stime s} of a live process, from /proc."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[tid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def run_usage(manifest, folder, extra=(), threads=None, lines=None):
    """Runs troupe once: (process wall s, summary dict, rusage). With a
    dict as `threads`, fills it with each thread's CPU seconds, sampled
    every 50 ms (the last 50 ms before exit are not seen); with a list as
    `lines`, appends the result lines to it."""
    out = os.path.join(folder, "results.jsonl")
    summary = os.path.join(folder, "summary.json")
    args = [TROUPE, "run", manifest, "--out", out, "--force",
            "--summary-json", summary, "--progress", "never", *extra]
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    if threads is None:
        _, status, usage = os.wait4(proc.pid, 0)
    else:
        while True:
            threads.update(thread_cpu(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid != 0:
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped above
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("troupe failed: %s" % " ".join(args))
    with open(summary) as f:
        s = json.load(f)
    if lines is not None:
        with open(out) as f:
            lines.extend(r for r in map(json.loads, f)
                         if r.get("type") == "result")
    os.remove(out)
    return wall, s, usage


def run(manifest, folder, extra=()):
    """Runs troupe once: (process wall s, summary dict, peak RSS KB)."""
    wall, s, usage = run_usage(manifest, folder, extra)
    return wall, s, usage.ru_maxrss


def machine():
    return {"nproc": os.cpu_count()}


def b1(folder):
    n = 100_000
    cases = os.path.join(folder, "b1.jsonl")
    write_cases(cases, n)
    m = write_manifest(folder, "b1", cases, 8)
    runs = [run(m, folder) for _ in range(REPEAT)]
    run_rates = [s["tasks_per_second"] for _, s, _ in runs]
    e2e_rates = [n / w for w, _, _ in runs]
    return {"id": "B1", "tasks": n, "concurrency": 8,
            "tasks_per_second": round(statistics.median(run_rates)),
            "tasks_per_second_best": round(max(run_rates)),
            "end_to_end_tasks_per_second": round(statistics.median(e2e_rates)),
            "end_to_end_best": round(max(e2e_rates)),
            "target": ">= 200000", **machine()}


def b2(folder):
    n, delay, conc = 20_000, 0.05, 1000
    ideal = n * delay / conc
    cases = os.path.join(folder, "b2.jsonl")
    write_cases(cases, n)
    m = write_manifest(folder, "b2", cases, conc, delay)
    runs = [run(m, folder) for _ in range(REPEAT)]
    run_ratio = [s["wall_ms"] / 1000 / ideal for _, s, _ in runs]
    e2e_ratio = [w / ideal for w, _, _ in runs]
    return {"id": "B2", "tasks": n, "delay_s": delay, "concurrency": conc,
            "ideal_s": ideal,
            "wall_over_ideal": round(statistics.median(run_ratio), 3),
            "wall_over_ideal_best": round(min(run_ratio), 3),
            "end_to_end_over_ideal": round(statistics.median(e2e_ratio), 3),
            "target": "<= 1.05", **machine()}


def b5(folder):
    rss = {}
    for n in (100_000, 1_000_000):
        cases = os.path.join(folder, "b5-%d.jsonl" % n)
        write_cases(cases, n)
        m = write_manifest(folder, "b5-%d" % n, cases, 8)
        peaks = [run(m, folder)[2] for _ in range(max(1, REPEAT // 2))]
        rss[n] = statistics.median(peaks)
    return {"id": "B5", "peak_rss_kb_100k": rss[100_000],
            "peak_rss_kb_1m": rss[1_000_000],
            "ratio": round(rss[1_000_000] / rss[100_000], 3),
            "peak_rss_mb_1m": round(rss[1_000_000] / 1024, 1),
            "target": "ratio <= 1.5 and < 150 MB", **machine()}


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{"inputs":{"text":"case 1"},"response_mode":"blocking","user":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer app-bench"
"""


class fake_dify:
    """troupe fake-dify on a free port, for the length of a with-block."""

    def __init__(self, *flags):
        self.flags = list(flags)

    def __enter__(self):
        self.proc = subprocess.Popen(
            [SERVER, "fake-dify", "--listen", "127.0.0.1:0", "--api-key",
             "app-bench"] + self.flags, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.url = line.strip().split()[-1]
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()


def wrk(url, connections, seconds, folder):
    script = os.path.join(folder, "post.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "-s", script,
         url + "/v1/workflows/run"], capture_output=True, text=True,
        check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    sys.exit("cannot read wrk's output:\n" + out)


BARE_LOOP_SOURCE = os.path.join(HERE, "limits", "curl_multi_loop.c")


def bare_loop(url, n, concurrency, folder):
    """Requests per second of bench/limits/curl_multi_loop.c (libcurl's
    multi interface and epoll, no troupe) making the same calls."""
    exe = os.path.join(folder, "curl_multi_loop")
    if not os.path.exists(exe):
        subprocess.run(["cc", "-O2", "-o", exe, BARE_LOOP_SOURCE, "-lcurl"],
                       check=True)
    body = json.dumps({"inputs": {"text": "bench"},
                       "response_mode": "blocking", "user": "bench"})
    out = subprocess.run([exe, url + "/v1/workflows/run", str(n),
                          str(concurrency), "1", body],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["rps"]


def dify_workload(folder, name, n, concurrency, server_flags):
    cases = os.path.join(folder, name + ".jsonl")
    write_cases(cases, n)
    os.environ["BENCH_KEY"] = "app-bench"
    with fake_dify(*server_flags) as server:
        m = write_manifest(folder, name, cases, concurrency, extra={
            "target": {"type": "dify-workflow", "base_url": server.url + "/v1",
                       "api_key_env": "BENCH_KEY"},
            "stub": None})
        ratios, rates, wrks, e2e, bares = [], [], [], [], []
        # Alternate wrk, the bare libcurl loop and troupe on the same
        # server, so that all see the same machine state; the ratio is
        # taken per pair.
        for _ in range(REPEAT):
            w = wrk(server.url, concurrency, 5, folder)
            bares.append(bare_loop(server.url, n, concurrency, folder))
            wall, s, _ = run(m, folder)
            wrks.append(w)
            rates.append(s["tasks_per_second"])
            e2e.append(n / wall)
            ratios.append(s["tasks_per_second"] / w)
    return {"tasks": n, "concurrency": concurrency,
            "tasks_per_second": round(statistics.median(rates)),
            "wrk_requests_per_second": round(statistics.median(wrks)),
            "ratio": round(statistics.median(ratios), 3),
            "ratio_best": round(max(ratios), 3),
            "end_to_end_ratio": round(statistics.median(e2e) / statistics.median(wrks), 3),
            "bare_libcurl_requests_per_second": round(statistics.median(bares)),
            "troupe_over_bare_libcurl": round(
                statistics.median(rates) / statistics.median(bares), 3)}


def wrk_p50_ms(url, connections, seconds, folder):
    """wrk's p50 latency in ms (`--latency`) at `connections` in flight."""
    script = os.path.join(folder, "post.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT)
    out = subprocess.run(
        ["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency",
         "--timeout", "30s", "-s", script, url + "/v1/workflows/run"],
        capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "50%":
            v = parts[1]
            for unit, scale in (("ms", 1.0), ("us", 0.001), ("s", 1000.0)):
                if v.endswith(unit):
                    return float(v[:-len(unit)]) * scale
    sys.exit("cannot read wrk's latency:\n" + out)


def ramp_ms(log):
    """From fake-dify's --timing-log: ms from the first request read to the
    last (all calls of a run open at once, so this is the ramp)."""
    with open(log) as f:
        got = [json.loads(line)["received_us"] for line in f]
    return round((max(got) - min(got)) / 1000, 1), len(got)


def b9(folder):
    """B9's first part: N calls in flight to a server that answers after
    3 s (N = 1,000, 3,000, 10,000; B9_SIZES changes them), troupe beside wrk
    on the same server, one troupe run per size (REPEAT is not used)."""
    sizes = [int(x) for x in os.environ.get("B9_SIZES", "1000,3000,10000").split(",")]
    resource.setrlimit(resource.RLIMIT_NOFILE, (
        resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    os.environ["BENCH_KEY"] = "app-bench"
    rows = []
    for n in sizes:
        cases = os.path.join(folder, "b9-%d.jsonl" % n)
        write_cases(cases, n)
        with fake_dify("--latency-ms", "3000", "--threads", "2") as server:
            w = wrk_p50_ms(server.url, n, 8, folder)
        log = os.path.join(folder, "b9-%d-timing.jsonl" % n)
        with fake_dify("--latency-ms", "3000", "--threads", "2",
                       "--timing-log", log) as server:
            m = write_manifest(folder, "b9-%d" % n, cases, n, extra={
                "target": {"type": "dify-workflow",
                           "base_url": server.url + "/v1",
                           "api_key_env": "BENCH_KEY"},
                "execution_policy": {"concurrency": n, "timeout_seconds": 60},
                "stub": None})
            wall, s, _ = run(m, folder)
        ramp, calls = ramp_ms(log)
        p50 = s["latency_ms"]["p50"]
        rows.append({"in_flight": n, "wrk_p50_ms": w, "troupe_p50_ms": p50,
                     "troupe_max_ms": s["latency_ms"]["max"],
                     "p50_over_wrk": round(p50 / w, 3),
                     "wall_s": round(s["wall_ms"] / 1000, 2),
                     "ramp_ms": ramp, "server_calls": calls,
                     "wall_over_3s_plus_ramp": round(
                         s["wall_ms"] / (3000 + ramp), 3)})
    return {"id": "B9", "server_latency_ms": 3000, "sizes": rows,
            "target": "p50 <= 1.05x wrk, wall <= 1.2x (3 s + ramp), "
                      "ramp <= 1 s", **machine()}


AIOHTTP_STREAMS = os.path.join(HERE, "aiohttp_streams.py")


def aiohttp_python():
    """A Python with aiohttp: this one, else Debian's (python3-aiohttp)
    when this is another (a pyenv shim)."""
    for exe in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([exe, "-c", "import aiohttp"],
                          stderr=subprocess.DEVNULL).returncode == 0:
            return exe
    sys.exit("b9s: no python3 with aiohttp (apt-get install python3-aiohttp)")


def stream_log(log):
    """fake-dify's --timing-log of a streaming run, by case number (inputs
    "case N"): {n: (ms from reading the request to writing its first data
    event, events written)}."""
    out = {}
    with open(log) as f:
        for line in f:
            o = json.loads(line)
            n = int(o["inputs"]["text"].split()[1])
            first = o["first_event_us"]
            out[n] = (None if first is None
                      else (first - o["received_us"]) / 1000, o["events"])
    return out


def stream_figures(name, client_first, log, events_wanted, wall, usage):
    """One client's row: its first-event times against the server's, call
    by call (client_first: {n: ms}), with its wall, CPU and peak RSS."""
    server = stream_log(log)
    diffs = sorted(client_first[n] - server[n][0] for n in client_first
                   if n in server and server[n][0] is not None)
    firsts = sorted(client_first.values())

    def pick(values, q):
        return round(values[min(len(values) - 1, int(len(values) * q))], 1) \
            if values else None
    return {"client": name, "wall_s": round(wall, 2),
            "ramp_ms": ramp_ms(log)[0],
            "server_calls": len(server),
            "server_calls_all_events": sum(
                1 for _, e in server.values() if e == events_wanted),
            "first_event_p50_ms": pick(firsts, 0.5),
            "first_event_max_ms": pick(firsts, 1.0),
            "over_server_p50_ms": pick(diffs, 0.5),
            "over_server_p99_ms": pick(diffs, 0.99),
            "over_server_max_ms": pick(diffs, 1.0),
            "over_server_min_ms": pick(diffs, 0.0),
            "within_50ms": sum(1 for d in diffs if abs(d) <= 50),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def b9s(folder):
    """B9's second part: N streaming calls at once (B9S_STREAMS, default
    10,000), each 50 SSE events over 5 s, troupe and then an aiohttp client
    (aiohttp_streams.py), each against a fresh fake-dify. REPEAT is not
    used."""
    n = int(os.environ.get("B9S_STREAMS", "10000"))
    events, latency = 50, 5000
    resource.setrlimit(resource.RLIMIT_NOFILE, (
        resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)
    os.environ["BENCH_KEY"] = "app-bench"
    cases = os.path.join(folder, "b9s.jsonl")
    write_cases(cases, n)
    server_flags = ["--latency-ms", str(latency), "--stream-events",
                    str(events), "--threads", "2", "--timing-log"]
    rows = []
    log = os.path.join(folder, "b9s-troupe-timing.jsonl")
    with fake_dify(*server_flags, log) as server:
        m = write_manifest(folder, "b9s", cases, n, extra={
            "target": {"type": "dify-workflow",
                       "base_url": server.url + "/v1",
                       "api_key_env": "BENCH_KEY",
                       "response_mode": "streaming", "user": "bench"},
            "execution_policy": {"concurrency": n, "timeout_seconds": 120},
            "retry_policy": {"max_attempts": 1},
            "stub": None})
        lines = []
        wall, s, usage = run_usage(m, folder, lines=lines)
        server_cpu = cpu_seconds(server.proc.pid)
    first = {int(r["case_id"][1:]): r["first_event_ms"] for r in lines
             if "first_event_ms" in r}
    row = stream_figures("troupe", first, log, events, wall, usage)
    row["server_cpu_s"] = server_cpu
    row["succeeded"] = s["counts"].get("SUCCEEDED", 0)
    # troupe keeps no count of events; a SUCCEEDED stream read all of its
    # events up to workflow_finished, and the server logs what it wrote.
    row["events_consumed"] = None
    rows.append(row)
    log = os.path.join(folder, "b9s-aiohttp-timing.jsonl")
    calls = os.path.join(folder, "b9s-aiohttp-calls.jsonl")
    with fake_dify(*server_flags, log) as server:
        start = time.monotonic()
        proc = subprocess.Popen(
            [aiohttp_python(), AIOHTTP_STREAMS, server.url + "/v1", str(n),
             "--key", "app-bench", "--calls", calls],
            stdout=subprocess.PIPE, text=True)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        server_cpu = cpu_seconds(server.proc.pid)
    summary = json.loads(out)
    with open(calls) as f:
        got = [json.loads(line) for line in f]
    first = {c["i"]: c["first_event_ms"] for c in got
             if c["first_event_ms"] is not None}
    row = stream_figures("aiohttp", first, log, events, wall, usage)
    row["server_cpu_s"] = server_cpu
    row["succeeded"] = summary["ok"]
    row["events_consumed"] = summary["events"]
    rows.append(row)
    return {"id": "B9s", "streams": n, "events_per_stream": events,
            "server_latency_ms": latency, "clients": rows,
            "target": "every event consumed, first event within 50 ms of "
                      "the server's; CPU and RSS beside aiohttp",
            **machine()}


def b3(folder):
    r = dify_workload(folder, "b3", 20_000, 200, ["--latency-ms", "20"])
    return {"id": "B3", "server_latency_ms": 20, **r, "target": ">= 0.95",
            **machine()}


def b4(folder):
    r = dify_workload(folder, "b4", 50_000, 64, [])
    return {"id": "B4", "server_latency_ms": 0, **r, "target": ">= 0.60",
            **machine()}


def b7(folder):
    n = 10_000
    cases = os.path.join(folder, "b7.jsonl")
    write_cases(cases, n)
    m = write_manifest(folder, "b7", cases, 100, 0.5, extra={
        "execution_policy": {"concurrency": 100, "timeout_seconds": 30},
        "retry_policy": {"max_attempts": 3, "backoff_seconds": 60,
                         "backoff_multiplier": 2, "max_backoff_seconds": 600},
        "stub": {"simulated_delay_seconds": 0.5,
                 "dataset_behaviors": {"d": ["failure", "failure", "success"]}}})
    walls = []
    for _ in range(REPEAT):
        out = os.path.join(folder, "results.jsonl")
        start = time.monotonic()
        subprocess.run([TROUPE, "run", m, "--out", out, "--force",
                        "--virtual-time", "--timeline",
                        os.path.join(folder, "timeline.txt")],
                       stdout=subprocess.DEVNULL, check=False)
        walls.append(time.monotonic() - start)
    # Every gap is exact: 60 s after the first attempt, 120 s after the
    # second.
    gaps_ok = 0
    virtual_ms = 0
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "summary":
                virtual_ms = r["wall_ms"]
            if r["type"] != "result":
                continue
            log = r["attempt_log"]
            g1 = log[1]["started_ms"] - log[0]["started_ms"] - log[0]["duration_ms"]
            g2 = log[2]["started_ms"] - log[1]["started_ms"] - log[1]["duration_ms"]
            gaps_ok += g1 == 60000 and g2 == 120000
    return {"id": "B7", "tasks": n, "attempts_per_task": 3,
            "virtual_hours": round(virtual_ms / 3.6e6, 2),
            "wall_seconds": round(statistics.median(walls), 3),
            "wall_seconds_best": round(min(walls), 3),
            "exact_gaps": "%d/%d" % (gaps_ok, n),
            "target": "< 2 s", **machine()}


def cpu_seconds(pid):
    """utime + stime of a live process so far, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        # proc(5): after the name's ")", field 3 (state) comes first, so
        # utime (14) and stime (15) are the 12th and 13th.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class troupe_nodes:
    """k `troupe node --listen 127.0.0.1:0 --workers W` processes for the
    length of a with-block: started before it (each waited for until it says
    "listening on"), stopped with SIGINT at its end, whatever happens."""

    def __init__(self, folder, k, workers):
        self.folder, self.k, self.workers = folder, k, workers
        self.procs, self.addresses = [], []

    def __enter__(self):
        try:
            for i in range(self.k):
                err = os.path.join(self.folder, "node-%d.err" % i)
                with open(err, "w") as f:
                    self.procs.append(subprocess.Popen(
                        [TROUPE, "node", "--listen", "127.0.0.1:0",
                         "--workers", str(self.workers)],
                        stdout=subprocess.DEVNULL, stderr=f))
                self.addresses.append(self._address(err, self.procs[-1]))
        except BaseException:
            self.__exit__()
            raise
        return self

    @staticmethod
    def _address(err, proc):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(err) as f:
                text = f.read()
            if "listening on " in text and " with" in text:
                return text.split("listening on ", 1)[1].split(" with", 1)[0]
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        sys.exit("troupe node did not start: " + text)

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def flag(self):
        return ["--nodes", ",".join(self.addresses)]

    def cpu(self):
        """CPU seconds used by all the nodes so far."""
        return sum(cpu_seconds(p.pid) for p in self.procs)


def b6(folder):
    """B2 over 2 nodes of 500 workers (no local workers), paired with B2 in
    one process on the same manifest just before it."""
    n, delay, conc, per_node = 20_000, 0.05, 1000, 500
    ideal = n * delay / conc
    cases = os.path.join(folder, "b6.jsonl")
    write_cases(cases, n)
    m = write_manifest(folder, "b6", cases, conc, delay)
    rows = []
    with troupe_nodes(folder, 2, per_node) as nodes:
        for _ in range(REPEAT):
            lwall, ls, lu = run_usage(m, folder)
            before = nodes.cpu()
            wall, s, u = run_usage(m, folder, nodes.flag())
            node_cpu = nodes.cpu() - before
            rows.append({
                "e2e": wall / ideal, "run": s["wall_ms"] / 1000 / ideal,
                "outside_run_s": wall - s["wall_ms"] / 1000,
                "sup_cpu_s": u.ru_utime + u.ru_stime, "node_cpu_s": node_cpu,
                "local_e2e": lwall / ideal,
                "local_run": ls["wall_ms"] / 1000 / ideal,
                "local_outside_run_s": lwall - ls["wall_ms"] / 1000,
                "local_cpu_s": lu.ru_utime + lu.ru_stime})

    def med(key, digits=3):
        return round(statistics.median(r[key] for r in rows), digits)

    return {"id": "B6", "tasks": n, "delay_s": delay, "concurrency": conc,
            "nodes": 2, "workers_per_node": per_node, "local_workers": 0,
            "ideal_s": ideal,
            "end_to_end_over_ideal": med("e2e"),
            "end_to_end_over_ideal_best": round(min(r["e2e"] for r in rows), 3),
            "run_over_ideal": med("run"),
            "outside_run_s": med("outside_run_s"),
            "supervisor_cpu_s": med("sup_cpu_s"),
            "nodes_cpu_s": med("node_cpu_s"),
            "local_b2_end_to_end_over_ideal": med("local_e2e"),
            "local_b2_run_over_ideal": med("local_run"),
            "local_b2_outside_run_s": med("local_outside_run_s"),
            "local_b2_cpu_s": med("local_cpu_s"),
            "target": "<= 1.10 end to end", **machine()}


def b8(folder):
    """Stub tasks with no delay over 1 to 16 nodes of 64 workers, concurrency
    = every worker; "nodes": 0 is the same run in one process (64 local
    workers), for comparison."""
    n = int(os.environ.get("B8_TASKS", "200000"))
    per_node = 64
    counts = [int(x) for x in os.environ.get("B8_NODES", "0,1,2,4,8,16")
              .split(",")]
    cases = os.path.join(folder, "b8.jsonl")
    write_cases(cases, n)
    curve = []
    for k in counts:
        conc = max(1, k) * per_node
        m = write_manifest(folder, "b8-%d" % k, cases, conc)
        rows = []
        with troupe_nodes(folder, k, per_node) as nodes:
            for _ in range(REPEAT):
                before = nodes.cpu()
                threads = {}
                wall, s, u = run_usage(m, folder, nodes.flag() if k else [],
                                       threads)
                node_cpu = nodes.cpu() - before
                sup_cpu = u.ru_utime + u.ru_stime
                busiest = max(threads.values(), default=0)
                rows.append({
                    "busiest_us_per_task": busiest / n * 1e6,
                    "rate": s["tasks_per_second"], "e2e": n / wall,
                    "share": 100 * sup_cpu / wall,
                    "nodes_share": 100 * node_cpu / wall,
                    "us_per_task": sup_cpu / n * 1e6,
                    "nodes_us_per_task": node_cpu / n * 1e6,
                    "wall": wall})
        med = lambda key: statistics.median(r[key] for r in rows)
        curve.append({
            "nodes": k, "concurrency": conc,
            "tasks_per_second": round(med("rate")),
            "tasks_per_second_best": round(max(r["rate"] for r in rows)),
            "end_to_end_tasks_per_second": round(med("e2e")),
            "supervisor_cpu_percent": round(med("share"), 1),
            "supervisor_cpu_us_per_task": round(med("us_per_task"), 2),
            "supervisor_busiest_thread_us_per_task":
                round(med("busiest_us_per_task"), 2),
            "nodes_cpu_percent": round(med("nodes_share"), 1),
            "nodes_cpu_us_per_task": round(med("nodes_us_per_task"), 2),
            "wall_s": round(med("wall"), 2)})
        print(json.dumps({"B8_point": curve[-1]}), file=sys.stderr,
              flush=True)
    return {"id": "B8", "tasks": n, "workers_per_node": per_node,
            "curve": curve, "target": "the curve (docs/scaling.md)",
            **machine()}


SOAK_TABLE = os.path.join(HERE, "..", "tests", "e2e", "soak-faults.json")


def soak_mode(folder, table, n, concurrency, mode):
    """One soak run: n tasks in `mode` on a server of their own."""
    every, offset, faults = table["every"], table["offset"], table["faults"]

    def fault_of(i):
        return faults[(i // every) % len(faults)] if i % every == offset else None

    cases = os.path.join(folder, "soak-%s.jsonl" % mode)
    with open(cases, "w") as f:
        for i in range(n):
            inputs = {"text": "case %d" % i}
            fault = fault_of(i)
            if fault:
                inputs["_fault"] = fault["fault"]
                if "times" in fault:
                    inputs["_fault_times"] = fault["times"]
            f.write(json.dumps({"id": "c%d" % i, "inputs": inputs}) + "\n")
    os.environ["BENCH_KEY"] = "app-bench"
    with fake_dify() as server:
        policy = dict(table["execution_policy"], concurrency=concurrency)
        m = write_manifest(folder, "soak-" + mode, cases, concurrency, extra={
            "target": {"type": "dify-workflow", "base_url": server.url + "/v1",
                       "api_key_env": "BENCH_KEY", "response_mode": mode},
            "execution_policy": policy,
            "retry_policy": table["retry_policy"], "stub": None})
        out = os.path.join(folder, "soak-%s-results.jsonl" % mode)
        start = time.monotonic()
        code = subprocess.run([TROUPE, "run", m, "--out", out, "--force",
                               "--progress", "never"],
                              stdout=subprocess.DEVNULL).returncode
        wall = time.monotonic() - start
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(server.url + "/_fake/stats") as r:
            stats = json.load(r)
    lines, wrong, attempts = {}, [], 0
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            if r["type"] == "result":
                lines.setdefault(r["task_id"], []).append(r)
    for i in range(n):
        got = lines.get("d/c%d#0" % i, [])
        if len(got) != 1:
            wrong.append({"task": i, "result_lines": len(got)})
            continue
        r = got[0]
        attempts += r["attempts"]
        fault = fault_of(i) or {"status": "SUCCEEDED", "attempts": 1,
                                "first": "SUCCEEDED"}
        first = r["attempt_log"][0]["status"] if r["attempt_log"] else None
        if (r["status"], r["attempts"], first) != (
                fault["status"], fault["attempts"], fault["first"]):
            wrong.append({"task": i, "fault": fault.get("fault"),
                          "status": r["status"], "attempts": r["attempts"],
                          "first": first, "error": r.get("error")})
    calls = stats["by_path"].get("/v1/workflows/run", 0)
    return {"mode": mode, "exit": code, "wall_s": round(wall, 2),
            "result_lines": sum(len(v) for v in lines.values()),
            "wrong": len(wrong), "first_wrong": wrong[:5],
            "server_calls": calls, "sum_of_attempts": attempts,
            "ok": not wrong and calls == attempts and code == 1}


def soak(folder):
    """The ctest fault soak (tests/e2e/soak.test.cpp) at SOAK_TASKS tasks
    (default 20,000), blocking and streaming; exits 1 if anything is off."""
    with open(SOAK_TABLE) as f:
        table = json.load(f)
    n = int(os.environ.get("SOAK_TASKS", "20000"))
    conc = int(os.environ.get("SOAK_CONCURRENCY",
                              table["execution_policy"]["concurrency"]))
    modes = [soak_mode(folder, table, n, conc, m)
             for m in ("blocking", "streaming")]
    result = {"id": "soak", "tasks": n, "concurrency": conc, "modes": modes,
              "ok": all(m["ok"] for m in modes), **machine()}
    if not result["ok"]:
        print(json.dumps(result), flush=True)
        sys.exit("soak: a task ended wrong or the counts differ")
    return result


WORKLOADS = {"b1": b1, "b2": b2, "b3": b3, "b4": b4, "b5": b5, "b6": b6,
             "b9": b9, "b9s": b9s,
             "b7": b7, "b8": b8, "soak": soak}
# "all" is the benchmarks; the soak is a check and runs when named.
BENCHMARKS = ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"]


def main(argv):
    names = argv or ["all"]
    if names == ["all"]:
        names = BENCHMARKS
    for name in names:
        if name not in WORKLOADS:
            sys.exit("unknown workload %s (have: %s)" % (name, ", ".join(WORKLOADS)))
        # BENCH_KEEP=DIR keeps the workload's files (manifests, results,
        # fake-dify's timing logs) in DIR instead of a temporary folder.
        # A fresh folder: fake-dify appends to its timing logs. Absolute:
        # troupe reads a manifest's dataset relative to the manifest.
        keep = os.environ.get("BENCH_KEEP")
        if keep:
            keep = os.path.abspath(keep)
            if os.path.isdir(keep) and os.listdir(keep):
                sys.exit("BENCH_KEEP: %s is not empty; give a fresh folder "
                         "(fake-dify appends to its timing logs)" % keep)
            os.makedirs(keep, exist_ok=True)
            print(json.dumps(WORKLOADS[name](keep)), flush=True)
            continue
        with tempfile.TemporaryDirectory(prefix="troupe-bench-") as folder:
            print(json.dumps(WORKLOADS[name](folder)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
