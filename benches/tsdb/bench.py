#!/usr/bin/env python3
"""Time-series store benchmark: the same synthetic workload pushed through
remote write into Gantry and into Prometheus 2.42, side by side.

Measures ingestion (samples/s and samples per CPU-second of the server
process), RSS per active series, bytes per sample in compacted blocks, and
p50/p99 latency of ten typical queries. Standard library only: protobuf is
encoded by hand and snappy is written as literal-only blocks (valid snappy
that every decoder reads; compression is not what is measured).
"""

import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SERIES = int(os.environ.get("BENCH_SERIES", "10000"))
HOURS = float(os.environ.get("BENCH_HOURS", "4"))
STEP_MS = 15_000
WINDOW = int(os.environ.get("BENCH_WINDOW", "20"))  # samples per series per request
BATCH_SERIES = int(os.environ.get("BENCH_BATCH_SERIES", "500"))
SETTLE_S = int(os.environ.get("BENCH_SETTLE_S", "75"))
QUERY_RUNS = int(os.environ.get("BENCH_QUERY_RUNS", "10"))


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(tag, payload):
    return uvarint((tag << 3) | 2) + uvarint(len(payload)) + payload


def write_request(series_samples):
    """series_samples: list of (labels: list[(k, v)] sorted, [(t_ms, v)])."""
    import struct

    body = bytearray()
    for labels, samples in series_samples:
        ts = bytearray()
        for k, v in labels:
            ts += field_bytes(1, field_bytes(1, k.encode()) + field_bytes(2, v.encode()))
        for t, v in samples:
            s = b"\x09" + struct.pack("<d", v) + b"\x10" + uvarint(t & 0xFFFFFFFFFFFFFFFF)
            ts += field_bytes(2, s)
        body += field_bytes(1, bytes(ts))
    return bytes(body)


def snappy_literal(data):
    out = bytearray(uvarint(len(data)))
    i = 0
    while i < len(data):
        chunk = data[i : i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2, n & 0xFF, n >> 8])
        out += chunk
        i += len(chunk)
    return bytes(out)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def labels_of(i):
    return sorted(
        [
            ("__name__", "bench_requests_total" if i % 2 == 0 else "bench_latency_seconds"),
            ("instance", f"host-{i % 500}:9100"),
            ("job", f"job-{i % 10}"),
            ("series", str(i)),
        ]
    )


def value(i, k):
    if i % 2 == 0:
        return float(k * (i % 7 + 1))  # a counter
    return 0.1 + ((i * 31 + k * 17) % 100) / 1000.0  # a gauge


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / tick


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def block_stats(dirs):
    size = 0
    samples = 0
    for d in dirs:
        if not os.path.isdir(d):
            continue
        for b in os.listdir(d):
            meta = os.path.join(d, b, "meta.json")
            if not os.path.exists(meta):
                continue
            with open(meta) as f:
                samples += json.load(f)["stats"]["numSamples"]
            for root, _, files in os.walk(os.path.join(d, b)):
                size += sum(os.path.getsize(os.path.join(root, n)) for n in files)
    return size, samples


class Target:
    def __init__(self, name, base, write_url, headers, pid, block_dirs):
        self.name, self.base, self.write_url = name, base, write_url
        self.headers, self.pid, self.block_dirs = headers, pid, block_dirs

    def post(self, body):
        req = urllib.request.Request(self.write_url, data=body, method="POST")
        req.add_header("Content-Encoding", "snappy")
        req.add_header("Content-Type", "application/x-protobuf")
        req.add_header("X-Prometheus-Remote-Write-Version", "0.1.0")
        for k, v in self.headers.items():
            req.add_header(k, v)
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read()

    def query(self, expr, t=None, rng=None):
        params = {"query": expr}
        path = "/api/v1/query"
        if rng:
            path = "/api/v1/query_range"
            params.update(rng)
        elif t is not None:
            params["time"] = str(t)
        url = self.base + path + "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url)
        for k, v in self.headers.items():
            req.add_header(k, v)
        start = time.perf_counter()
        with urllib.request.urlopen(req, timeout=300) as r:
            body = json.loads(r.read())
        return time.perf_counter() - start, body


def wait_ready(url, headers, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            req = urllib.request.Request(url)
            for k, v in headers.items():
                req.add_header(k, v)
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"not ready: {url}")


def start_gantry(work):
    port = free_port()
    d = os.path.join(work, "gantry")
    os.makedirs(d)
    with open(os.path.join(d, "gantry.yml"), "w") as f:
        f.write("version: 1\nmonitoring:\n  self-scrape: false\n  retention: 30d\n")
    proc = subprocess.Popen(
        [os.environ["GANTRY_BIN"], "up", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(d, "data")],
        cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    token_path = os.path.join(d, "data", "admin-token")
    deadline = time.time() + 60
    while not os.path.exists(token_path) and time.time() < deadline:
        time.sleep(0.1)
    token = open(token_path).read().strip()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/readyz", {})
    return proc, Target("gantry", base, base + "/api/v1/write", headers, proc.pid, [os.path.join(d, "data", "tsdb", "blocks")])


def start_prometheus(work):
    port = free_port()
    d = os.path.join(work, "prometheus")
    os.makedirs(d)
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1h\n")
    data = os.path.join(d, "data")
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={data}",
         f"--web.listen-address=127.0.0.1:{port}", "--web.enable-remote-write-receiver",
         "--storage.tsdb.retention.time=30d"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/-/ready", {})
    return proc, Target("prometheus", base, base + "/api/v1/write", {}, proc.pid, [data])


def ingest(target, start_ms):
    steps = int(HOURS * 3600 * 1000 / STEP_MS)
    labels = [labels_of(i) for i in range(SERIES)]
    total = 0
    cpu0 = cpu_seconds(target.pid)
    t0 = time.perf_counter()
    for w in range(0, steps, WINDOW):
        ks = range(w, min(w + WINDOW, steps))
        for b in range(0, SERIES, BATCH_SERIES):
            batch = []
            for i in range(b, min(b + BATCH_SERIES, SERIES)):
                batch.append((labels[i], [(start_ms + k * STEP_MS, value(i, k)) for k in ks]))
                total += len(ks)
            target.post(snappy_literal(write_request(batch)))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(target.pid) - cpu0
    return total, wall, cpu, start_ms + (steps - 1) * STEP_MS


QUERIES = [
    ("rate over counters", "sum(rate(bench_requests_total[5m]))"),
    ("sum by", "sum by (job) (bench_latency_seconds)"),
    ("topk", "topk(5, bench_latency_seconds)"),
    ("avg_over_time", "avg(avg_over_time(bench_latency_seconds[10m]))"),
    ("selector", 'bench_latency_seconds{job="job-3", instance="host-7:9100"}'),
    ("regex", 'count(bench_requests_total{instance=~"host-1.*"})'),
    ("increase by", "sum by (instance) (increase(bench_requests_total[15m]))"),
    ("quantile", "quantile(0.9, bench_latency_seconds)"),
    ("binary", "sum(bench_requests_total) / count(bench_requests_total)"),
    ("1h range", "sum by (job) (rate(bench_requests_total[5m]))"),
]


def run_queries(target, end_ms):
    t = end_ms / 1000.0
    out = {}
    for name, q in QUERIES:
        times = []
        for _ in range(QUERY_RUNS):
            if name == "1h range":
                dt, body = target.query(q, rng={"start": str(t - 3600), "end": str(t), "step": "60"})
            else:
                dt, body = target.query(q, t=t)
            if body.get("status") != "success":
                raise SystemExit(f"{target.name}: {q}: {body}")
            times.append(dt)
        times.sort()
        out[name] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))])
    return out


def main():
    work = tempfile.mkdtemp(prefix="gantry-bench-tsdb-")
    start_ms = int((time.time() - HOURS * 3600 - 600) * 1000) // STEP_MS * STEP_MS
    results = {}
    try:
        for starter in (start_gantry, start_prometheus):
            proc, target = starter(work)
            try:
                total, wall, cpu, end_ms = ingest(target, start_ms)
                rss = rss_bytes(target.pid)
                time.sleep(SETTLE_S)  # both compact the head into blocks in the background
                size, in_blocks = block_stats(target.block_dirs)
                qs = run_queries(target, end_ms)
                results[target.name] = dict(total=total, wall=wall, cpu=cpu, rss=rss, size=size, in_blocks=in_blocks, queries=qs)
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    g, p = results["gantry"], results["prometheus"]
    print(f"workload: {SERIES} series x {HOURS} h at 15 s = {g['total']} samples, remote write, {WINDOW} samples/series/request")
    print(f"{'metric':<34}{'gantry':>16}{'prometheus':>16}{'gantry/prom':>14}")

    def row(name, gv, pv, fmt="{:.0f}"):
        ratio = gv / pv if pv else float("nan")
        print(f"{name:<34}{fmt.format(gv):>16}{fmt.format(pv):>16}{ratio:>14.2f}")

    row("ingest samples/s (wall)", g["total"] / g["wall"], p["total"] / p["wall"])
    row("ingest samples per CPU-second", g["total"] / max(g["cpu"], 1e-9), p["total"] / max(p["cpu"], 1e-9))
    row("RSS bytes per series", g["rss"] / SERIES, p["rss"] / SERIES)
    bps = lambda r: r["size"] / r["in_blocks"] if r["in_blocks"] else float("nan")
    row("bytes per sample in blocks", bps(g), bps(p), "{:.2f}")
    row("samples in blocks", g["in_blocks"], p["in_blocks"])
    for name, _ in QUERIES:
        row(f"query p50 ms: {name}", g["queries"][name][0] * 1000, p["queries"][name][0] * 1000, "{:.2f}")
        row(f"query p99 ms: {name}", g["queries"][name][1] * 1000, p["queries"][name][1] * 1000, "{:.2f}")


if __name__ == "__main__":
    main()
