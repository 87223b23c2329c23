"""Refresh of a 200-resource stack against moto, at -parallelism 1, 10, 32.

Standard library only. Starts moto_server on a free loopback port, applies
100 SQS queues and 100 SSM parameters once, then times `gantry plan
-refresh-only` (every resource read back) BENCH_RUNS times per parallelism
and prints medians and the speed-up over -parallelism=1. The floor is the
same 200 reads sent straight to moto (sequentially, and from 10 and 32
threads), without signing or a provider in between.

moto answers one request at a time in a few milliseconds, where AWS
answers many at once after tens of milliseconds on the network. So the
run is made twice: straight to moto, and through a loopback proxy that
holds each request for BENCH_LATENCY_MS (50) before passing it on, as a
network round trip to AWS would.
"""

import concurrent.futures
import http.server
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
GANTRY = os.environ["GANTRY_BIN"]
MOTO = os.environ["GANTRY_MOTO"]
N = 100  # queues, and as many parameters
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "50"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    proc = subprocess.Popen(
        [MOTO, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto_server did not start")


def start_latency_proxy(upstream, delay_s):
    """A threaded loopback proxy that waits `delay_s`, then forwards."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.forward()

        def do_GET(self):
            self.forward()

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay_s)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
            req = urllib.request.Request(upstream + self.path, data=body or None, headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(req) as r:
                    status, rh, out = r.status, r.headers, r.read()
            except urllib.error.HTTPError as e:
                status, rh, out = e.code, e.headers, e.read()
            self.send_response(status)
            for k, v in rh.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 256  # 32 clients connect at once

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stack(url):
    return f"""
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  endpoints {{
    sqs = "{url}"
    ssm = "{url}"
    sts = "{url}"
  }}
}}

resource "aws_sqs_queue" "q" {{
  count = {N}
  name  = "bench-${{count.index}}"
}}

resource "aws_ssm_parameter" "p" {{
  count = {N}
  name  = "/bench/p${{count.index}}"
  type  = "String"
  value = "v${{count.index}}"
}}
"""


def gantry(cwd, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    t = time.perf_counter()
    subprocess.run(
        [GANTRY, *args], cwd=cwd, env=env, check=True,
        stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    return time.perf_counter() - t


def json_call(url, target, body):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": target,
            # moto reads the region and service from the signature's scope.
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261204/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0".format(
                "sqs" if target.startswith("AmazonSQS") else "ssm"
            ),
        },
    )
    with urllib.request.urlopen(req) as r:
        return r.read()


def floor(url, threads):
    calls = [
        ("AmazonSQS.GetQueueAttributes",
         {"QueueUrl": f"{url}/123456789012/bench-{i}", "AttributeNames": ["All"]})
        for i in range(N)
    ] + [
        ("AmazonSSM.GetParameter", {"Name": f"/bench/p{i}"}) for i in range(N)
    ]
    t = time.perf_counter()
    if threads == 1:
        for target, body in calls:
            json_call(url, target, body)
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as ex:
            list(ex.map(lambda c: json_call(url, *c), calls))
    return time.perf_counter() - t


def measure(work, url, label):
    with open(os.path.join(work, "main.tf"), "w") as f:
        f.write(stack(url))
    print(f"\n{label}")
    print(f"{'what':<48}{'median s':>10}{'speed-up':>10}")
    base = None
    for p in (1, 10, 32):
        times = [
            gantry(work, "plan", "-refresh-only", "-lock=false", f"-parallelism={p}", "-no-color")
            for _ in range(RUNS)
        ]
        m = statistics.median(times)
        base = base or m
        print(f"{'gantry plan -refresh-only -parallelism=' + str(p):<48}{m:>10.2f}{base / m:>10.2f}")
    for threads in (1, 10, 32):
        m = statistics.median(floor(url, threads) for _ in range(RUNS))
        print(f"{'floor: 200 reads, ' + str(threads) + ' thread(s)':<48}{m:>10.2f}")


def main():
    moto, url = start_moto()
    proxy, proxied = start_latency_proxy(url, LATENCY_MS / 1000)
    work = tempfile.mkdtemp(prefix="gantry-aws-bench-")
    try:
        with open(os.path.join(work, "main.tf"), "w") as f:
            f.write(stack(url))
        gantry(work, "apply", "-auto-approve", "-parallelism=32", "-no-color")
        print(f"stack: {2 * N} resources ({N} SQS queues, {N} SSM parameters), moto 5.2.5")
        measure(work, url, "straight to moto (it serves one request at a time)")
        measure(work, proxied, f"through a {LATENCY_MS} ms round-trip proxy (as AWS over a network)")
    finally:
        proxy.shutdown()
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
