#!/usr/bin/env python3
"""Plan / apply / re-plan / destroy of N `for_each` instances and parse +
evaluate of ~5 MB of .tf: Gantry against Terraform and a physical floor, in
one run. See README.md.

Environment: GANTRY_BIN (required; run.sh sets it), GANTRY_TERRAFORM and
GANTRY_TF_PLUGINS (the peer and its provider mirror; unset or BENCH_NO_PEER=1:
no peer), BENCH_RUNS (3), BENCH_SIZES (1000,10000), BENCH_PEER_SIZES (1000),
BENCH_PEER_PLAN_SIZES (10000), BENCH_PEER_RUNS (1), BENCH_PARSE_MB (5), BENCH_ONLY (for_each,parse),
BENCH_KINDS (null_resource,random_id),
BENCH_TMPDIR (system temp dir)."""
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

GANTRY = os.environ["GANTRY_BIN"]
TERRAFORM = None if os.environ.get("BENCH_NO_PEER") else os.environ.get("GANTRY_TERRAFORM")
PLUGINS = os.environ.get("GANTRY_TF_PLUGINS", "")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000").split(",") if s]
PEER_SIZES = [int(s) for s in os.environ.get("BENCH_PEER_SIZES", "1000").split(",") if s]
PEER_RUNS = int(os.environ.get("BENCH_PEER_RUNS", "1"))
PEER_PLAN_SIZES = [int(s) for s in os.environ.get("BENCH_PEER_PLAN_SIZES", "10000").split(",")
                   if s]
PARSE_MB = float(os.environ.get("BENCH_PARSE_MB", "5"))
ONLY = set(os.environ.get("BENCH_ONLY", "for_each,parse").split(","))
KINDS = tuple(os.environ.get("BENCH_KINDS", "null_resource,random_id").split(","))
STEPS = ("plan", "apply", "re-plan", "destroy")
TARGET_PLAN_S = 2.0
TARGET_PLAN_MB = 300


# ---------------------------------------------------------------- configurations

def for_each_tf(kind, n):
    """N instances of one resource, for_each over a local map."""
    if kind == "null_resource":
        body = "  triggers = {\n    value = tostring(each.value)\n  }\n"
        provider = 'null = { source = "hashicorp/null" }'
    else:
        body = "  byte_length = 8\n  keepers = {\n    value = tostring(each.value)\n  }\n"
        provider = 'random = { source = "hashicorp/random" }'
    # range() is limited to 1,024 values (as in Terraform): N = outer x inner.
    inner = min(n, 1000)
    outer = n // inner
    return (
        f"terraform {{\n  required_providers {{\n    {provider}\n  }}\n}}\n\n"
        f"locals {{\n  numbers = flatten([for a in range({outer}) : "
        f"[for b in range({inner}) : a * {inner} + b]])\n"
        f"  items   = {{ for i in local.numbers : \"k${{i}}\" => i }}\n}}\n\n"
        f"resource \"{kind}\" \"r\" {{\n  for_each = local.items\n{body}}}\n"
    )


def parse_unit(i):
    """One service's worth of configuration: a local object built with
    function calls, conditionals and a for-expression, and a resource reading
    it. About 1.2 KB."""
    return f"""locals {{
  svc_{i} = {{
    name     = "${{var.prefix}}-svc-{i}"
    port     = 8000 + {i} % 1000
    replicas = {i} % 7 == 0 ? 3 : 1
    tier     = {i} % 3 == 0 ? "web" : ({i} % 3 == 1 ? "app" : "db")
    tags     = merge(local.common_tags, {{ service = "svc-{i}", owner = lower("Team-${{{i} % 17}}") }})
    subnets  = [for k in range(3) : cidrsubnet(var.base_cidr, 12, ({i} * 3 + k) % 4096)]
    hosts    = [for s in ["a", "b", "c"] : "${{s}}-{i}.${{var.domain}}" if s != "c" || {i} % 2 == 0]
  }}
}}

resource "null_resource" "svc_{i}" {{
  triggers = {{
    name     = local.svc_{i}.name
    endpoint = format("%s:%d", local.svc_{i}.name, local.svc_{i}.port)
    replicas = tostring(local.svc_{i}.replicas)
    tier     = upper(local.svc_{i}.tier)
    tags     = jsonencode(local.svc_{i}.tags)
    subnets  = join(",", local.svc_{i}.subnets)
    hosts    = join(" ", sort(local.svc_{i}.hosts))
    checksum = substr(sha256("${{local.svc_{i}.name}}/${{local.svc_{i}.port}}"), 0, 16)
  }}
}}

"""


PARSE_HEADER = """terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}

variable "prefix" {
  type    = string
  default = "bench"
}

variable "base_cidr" {
  type    = string
  default = "10.0.0.0/8"
}

variable "domain" {
  type    = string
  default = "example.internal"
}

locals {
  common_tags = {
    project = var.prefix
    env     = "bench"
    managed = "terraform"
  }
}

"""


def write_parse_config(d, megabytes):
    """~`megabytes` MB of .tf in files of 500 units each; returns (bytes,
    resources, files)."""
    os.makedirs(d)
    want = int(megabytes * 1024 * 1024)
    total = 0
    units = 0
    files = 0
    with open(os.path.join(d, "main.tf"), "w") as f:
        f.write(PARSE_HEADER)
    total += len(PARSE_HEADER)
    files += 1
    while total < want:
        chunk = []
        for _ in range(500):
            if total >= want:
                break
            u = parse_unit(units)
            chunk.append(u)
            total += len(u)
            units += 1
        with open(os.path.join(d, f"svc_{files:03d}.tf"), "w") as f:
            f.write("".join(chunk))
        files += 1
    return total, units, files


# ---------------------------------------------------------------- measuring

class Proc:
    """One finished command: wall seconds, CPU seconds (user+system of the
    process and every child it waited for) and peak RSS in MB (the largest
    single process among them)."""

    def __init__(self, wall, cpu, rss_mb):
        self.wall = wall
        self.cpu = cpu
        self.rss = rss_mb


def run(cmd, cwd, env, err_path, timeout=None):
    with open(err_path, "wb") as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err,
                             stdin=subprocess.DEVNULL)
        deadline = None if timeout is None else start + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG if deadline else 0)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                os.wait4(p.pid, 0)
                raise TimeoutError(f"{' '.join(cmd)}: still running after {timeout} s")
            time.sleep(0.05)
        wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(err_path, errors="replace") as f:
            sys.stderr.write(f.read()[-4000:])
        raise RuntimeError(f"{' '.join(cmd)} in {cwd}: exit {p.returncode}")
    return Proc(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024)


class Tool:
    def __init__(self, name, binary, root):
        self.name = name
        self.binary = binary
        self.env = dict(os.environ, HOME=root, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                        TF_INPUT="0", NO_COLOR="1")
        self.env.pop("TF_CLI_CONFIG_FILE", None)
        # `gantry validate` is Gantry's own checker: the Terraform commands
        # are under `gantry tf`.
        self.prefix = [binary, "tf"] if name == "gantry" else [binary]
        self.err = os.path.join(root, f"{name}.stderr")

    def init(self, d):
        if self.name == "terraform":
            run([self.binary, "init", "-input=false", "-no-color", f"-plugin-dir={PLUGINS}"],
                d, self.env, self.err)

    def cmd(self, step):
        common = ["-input=false", "-no-color"]
        if step in ("plan", "re-plan"):
            return [*self.prefix, "plan", *common]
        if step == "apply":
            return [*self.prefix, "apply", "-auto-approve", *common]
        if step == "destroy":
            return [*self.prefix, "destroy", "-auto-approve", *common]
        if step == "validate":
            return [*self.prefix, "validate", "-no-color"]
        raise ValueError(step)

    def run(self, step, d, timeout=None):
        return run(self.cmd(step), d, self.env, self.err, timeout)


def floor_write_fsync(path, size):
    """Write `size` bytes to a fresh file, fsync, rename over `path`."""
    data = b"x" * size
    tmp = path + ".floor"
    start = time.perf_counter()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, data)
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, path)
    return time.perf_counter() - start


def floor_json_load(path):
    start = time.perf_counter()
    with open(path) as f:
        json.load(f)
    return time.perf_counter() - start


def floor_cat(paths, err):
    return run(["cat", *paths], "/", os.environ, err).wall


def fmt_s(x):
    return "-" if x is None else (f"{x:.3f}" if x < 10 else f"{x:.1f}")


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.1f}x" if a / b < 100 else f"{a / b:.0f}x"


def fmt_mb(x):
    return "-" if x is None else f"{x:.1f}"


def med(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- scenarios

def for_each_scenarios(root, tools, rows, every):
    for n in SIZES:
        for kind in KINDS:
            label = f"{kind} x{n}"
            # (tool, runs, steps)
            cases = [(t, RUNS, STEPS) for t in tools if t.name == "gantry"]
            for t in tools:
                if t.name != "terraform" or kind != "null_resource":
                    continue
                runs = min(RUNS, PEER_RUNS) if n > 1000 else RUNS
                if n in PEER_SIZES:
                    cases.append((t, runs, STEPS))
                elif n in PEER_PLAN_SIZES:
                    cases.append((t, runs, ("plan",)))
            samples = {}  # (tool, step) -> [Proc]
            floors = {step: [] for step in STEPS}
            state_size = 0
            dirs = {}
            for t, _, _ in cases:
                d = os.path.join(root, f"{kind}-{n}-{t.name}")
                os.makedirs(d)
                with open(os.path.join(d, "main.tf"), "w") as f:
                    f.write(for_each_tf(kind, n))
                t.init(d)
                dirs[t.name] = d
            for r in range(RUNS):
                for t, runs, steps in cases:
                    if r >= runs:
                        continue
                    d = dirs[t.name]
                    for step in steps:
                        p = t.run(step, d)
                        samples.setdefault((t.name, step), []).append(p)
                        every.append(f"{t.name:9} {label:20} {step:8} wall {p.wall:8.3f} s  "
                                     f"cpu {p.cpu:8.3f} s  rss {p.rss:7.1f} MB")
                        print(f"  {every[-1]}", flush=True)
                        if t.name == "gantry" and step == "apply":
                            state = os.path.join(d, "terraform.tfstate")
                            state_size = os.path.getsize(state)
                            scratch = os.path.join(root, "floor.json")
                            floors["apply"].append(floor_write_fsync(scratch, state_size))
                            floors["re-plan"].append(floor_json_load(state))
                            floors["destroy"].append(floor_json_load(state)
                                                     + floor_write_fsync(scratch, 200))
                        if t.name == "gantry" and step == "plan":
                            floors["plan"].append(floor_cat([os.path.join(d, "main.tf")],
                                                            os.path.join(root, "cat.stderr")))
                print(f"  done: {label} run {r + 1}", flush=True)
            for step in STEPS:
                g = samples.get(("gantry", step), [])
                tf = samples.get(("terraform", step), [])
                rows.append({
                    "scenario": f"{label} {step}",
                    "g_wall": med([p.wall for p in g]), "g_cpu": med([p.cpu for p in g]),
                    "g_rss": med([p.rss for p in g]),
                    "t_wall": med([p.wall for p in tf]), "t_cpu": med([p.cpu for p in tf]),
                    "t_rss": med([p.rss for p in tf]), "t_runs": len(tf),
                    "floor": med(floors[step]),
                })
            rows.append({"note": f"{label}: state file {state_size / 1e6:.2f} MB"})


def parse_scenario(root, tools, rows, every):
    d = os.path.join(root, "parse")
    size, units, files = write_parse_config(d, PARSE_MB)
    tfs = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".tf"))
    for t in tools:
        t.init(d)
    samples = {}
    floors = []
    for r in range(RUNS):
        floors.append(floor_cat(tfs, os.path.join(root, "cat.stderr")))
        for t in tools:
            runs = RUNS if t.name == "gantry" else min(RUNS, PEER_RUNS)
            if r >= runs:
                continue
            for step in ("validate", "plan"):
                p = t.run(step, d)
                samples.setdefault((t.name, step), []).append(p)
                every.append(f"{t.name:9} {'parse ' + str(PARSE_MB) + ' MB':20} {step:8} wall "
                             f"{p.wall:8.3f} s  cpu {p.cpu:8.3f} s  rss {p.rss:7.1f} MB")
                print(f"  {every[-1]}", flush=True)
        print(f"  done: parse run {r + 1}", flush=True)
    for step in ("validate", "plan"):
        g = samples.get(("gantry", step), [])
        tf = samples.get(("terraform", step), [])
        rows.append({
            "scenario": f"{size / 1e6:.1f} MB .tf {step}",
            "g_wall": med([p.wall for p in g]), "g_cpu": med([p.cpu for p in g]),
            "g_rss": med([p.rss for p in g]),
            "t_wall": med([p.wall for p in tf]), "t_cpu": med([p.cpu for p in tf]),
            "t_rss": med([p.rss for p in tf]), "t_runs": len(tf),
            "floor": med(floors),
        })
    rows.append({"note": f"parse: {size / 1e6:.2f} MB in {files} files, {units} resources "
                         f"and {units} locals objects"})


# ---------------------------------------------------------------- main

def describe(binary, args):
    try:
        out = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)
        return out.stdout.strip().splitlines()[0]
    except Exception as e:  # noqa: BLE001 - context line only
        return f"? ({e})"


def main():
    base = os.environ.get("BENCH_TMPDIR") or None
    root = tempfile.mkdtemp(prefix="gantry-iacbench-", dir=base)
    tools = [Tool("gantry", GANTRY, root)]
    if TERRAFORM:
        tools.append(Tool("terraform", TERRAFORM, root))
    try:
        tree = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "crates"], capture_output=True,
                               text=True).stdout.strip()
    except OSError:
        tree, dirty = "?", ""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"date:     {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine:  nproc={os.cpu_count()}, {mem:.1f} GiB RAM, {platform.system()} "
          f"{platform.release()}")
    print(f"load:     {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min, at start)")
    print(f"gantry:   {GANTRY} ({describe(GANTRY, ['tf', 'version'])}; tree {tree}"
          f"{' + local changes' if dirty else ''})")
    if TERRAFORM:
        print(f"peer:     {TERRAFORM} ({describe(TERRAFORM, ['version'])}), "
              f"hashicorp/null 2.1.2 from {PLUGINS}; all steps at {PEER_SIZES}, "
              f"plan only at {PEER_PLAN_SIZES}, {PEER_RUNS} run(s) above 1,000")
    else:
        print("peer:     none (BENCH_NO_PEER or no GANTRY_TERRAFORM)")
    print(f"runs:     {RUNS} (medians); tmp dir {root}")
    print("", flush=True)
    rows = []
    every = []
    try:
        if "for_each" in ONLY:
            for_each_scenarios(root, tools, rows, every)
        if "parse" in ONLY:
            parse_scenario(root, tools, rows, every)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print(f"{'scenario (median)':34} {'gantry s':>9} {'cpu s':>8} {'RSS MB':>7} "
          f"{'tf s':>8} {'tf cpu':>8} {'tf RSS':>7} {'tf/g':>6} {'floor s':>8} {'g/floor':>8}")
    notes = []
    plan10k = None
    for row in rows:
        if "note" in row:
            notes.append(row["note"])
            continue
        print(f"{row['scenario']:34} {fmt_s(row['g_wall']):>9} {fmt_s(row['g_cpu']):>8} "
              f"{fmt_mb(row['g_rss']):>7} {fmt_s(row['t_wall']):>8} {fmt_s(row['t_cpu']):>8} "
              f"{fmt_mb(row['t_rss']):>7} "
              f"{fmt_ratio(row['t_wall'], row['g_wall']):>6} {fmt_s(row['floor']):>8} "
              f"{fmt_ratio(row['g_wall'], row['floor']):>8}")
        if row["scenario"] == "null_resource x10000 plan":
            plan10k = row
    print()
    for n in notes:
        print(n)
    print("tf/g: Terraform wall / Gantry wall; g/floor: Gantry wall / floor (see README)")
    print()
    print("every run:")
    for line in every:
        print(f"  {line}")
    print()
    print(f"load at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if plan10k:
        ok = plan10k["g_wall"] < TARGET_PLAN_S and plan10k["g_rss"] < TARGET_PLAN_MB
        print(f"target: plan of 10,000 under {TARGET_PLAN_S:.0f} s and {TARGET_PLAN_MB} MB: "
              f"{'MET' if ok else 'NOT MET'} ({plan10k['g_wall']:.3f} s, "
              f"{plan10k['g_rss']:.0f} MB)")


if __name__ == "__main__":
    main()
