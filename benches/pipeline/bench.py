#!/usr/bin/env python3
"""Per-step overhead and wall time of `gantry run` against act (host mode)
and the floor of spawning `sh -c true`, in one run. See README.md.

Environment: GANTRY_BIN, GANTRY_ACT (both required; run.sh sets them),
BENCH_RUNS (5), BENCH_ACT_RUNS (3), BENCH_PARALLEL (unset: both tools use
their default, the CPU count), BENCH_TMPDIR (system temp dir)."""
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

GANTRY = os.environ["GANTRY_BIN"]
ACT = os.environ["GANTRY_ACT"]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
ACT_RUNS = int(os.environ.get("BENCH_ACT_RUNS", "3"))
PARALLEL = os.environ.get("BENCH_PARALLEL", "")
STEPS = 200
JOBS = 50
LEGS = 256
TARGET_OVERHEAD_MS = 1.5
TARGET_RATIO = 4.0


# ---------------------------------------------------------------- workflows

def workflow_steps(n):
    steps = "".join("      - run: true\n" for _ in range(n))
    return f"on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"


def workflow_jobs(n):
    jobs = "".join(
        f"  j{i}:\n    runs-on: ubuntu-latest\n    steps:\n      - run: true\n" for i in range(n)
    )
    return f"on: push\njobs:\n{jobs}"


def workflow_matrix(legs):
    values = ", ".join(str(i) for i in range(legs))
    return (
        "on: push\njobs:\n  m:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n"
        f"        n: [{values}]\n    steps:\n      - run: true\n"
    )


def make_repo(root, name, text):
    """A committed git repository holding .github/workflows/wf.yml (act wants
    a repository for the github context; no checkout step is used)."""
    repo = os.path.join(root, name)
    os.makedirs(os.path.join(repo, ".github/workflows"))
    with open(os.path.join(repo, ".github/workflows/wf.yml"), "w") as f:
        f.write(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid",
               GIT_CONFIG_NOSYSTEM="1", HOME=root)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    return repo


# ---------------------------------------------------------------- timing

class Timer:
    def __init__(self, root):
        self.root = root
        self.samples = {}  # name -> list of seconds

    def run(self, name, cmd, cwd, runs, env=None, out=None):
        """Runs `cmd` once as a discarded warm-up, then `runs` times; returns
        the median wall time in seconds. stdout goes to /dev/null, or to the
        file `out` (truncated before each run); stderr goes to a file that is
        shown when the command fails."""
        err_path = os.path.join(self.root, "stderr.txt")
        times = []
        for i in range(runs + 1):
            with open(err_path, "wb") as err, \
                    (open(out, "wb") if out else open(os.devnull, "wb")) as stdout:
                start = time.perf_counter()
                done = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                      stdout=stdout, stderr=err)
                elapsed = time.perf_counter() - start
            if done.returncode != 0:
                with open(err_path, "rb") as err:
                    tail = err.read()[-3000:].decode(errors="replace")
                sys.exit(f"bench: `{' '.join(cmd)}` exited {done.returncode} in {cwd}:\n{tail}")
            if i > 0:
                times.append(elapsed)
        self.samples[name] = times
        return statistics.median(times)


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine_facts():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    commit = sh(f"git -C '{root}' rev-parse --short HEAD")
    dirty = sh(f"git -C '{root}' status --porcelain --untracked-files=no")
    return [
        f"date:     {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"machine:  nproc={os.cpu_count()}, {cpu}, {mem} RAM, {platform.system()} {platform.release()}",
        f"load:     {load} (1/5/15 min, at start)",
        f"gantry:   {GANTRY} ({sh(f'{GANTRY} --version')}; tree {commit}{' + local changes' if dirty else ''})",
        f"act:      {ACT} ({sh(f'{ACT} --version')}; host mode)",
        f"shells:   {sh('bash --version | head -1')}; /bin/sh -> {os.path.realpath('/bin/sh')}",
        f"python:   {platform.python_version()}",
    ]


def fs_probe(d, rounds=200):
    """ms to create (one with a line, five empty) and unlink six files: what a
    step's script and file-command files cost on this file system right now."""
    start = time.perf_counter()
    for i in range(rounds):
        paths = [os.path.join(d, f"probe_{i}_{k}") for k in range(6)]
        for k, p in enumerate(paths):
            with open(p, "wb") as f:
                f.write(b"true\n" if k == 0 else b"")
        for p in paths:
            os.unlink(p)
    return (time.perf_counter() - start) / rounds * 1000


# ---------------------------------------------------------------- main

def main():
    root = tempfile.mkdtemp(prefix="gantry-pbench-", dir=os.environ.get("BENCH_TMPDIR") or None)
    try:
        run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(root):
    xdg = os.path.join(root, "xdg")
    tmp = os.path.join(root, "tmp")
    os.makedirs(xdg)
    os.makedirs(tmp)
    # Both tools keep their per-run and per-step files under `tmp` (Gantry via
    # TMPDIR, act via XDG_CACHE_HOME), so they share one file system.
    gantry_env = dict(os.environ, TMPDIR=tmp)
    # act: private config/cache dirs, no version check (it would query
    # api.nektosact.com), cache server on loopback (its default address is the
    # machine's outbound IP).
    act_env = dict(os.environ, XDG_CONFIG_HOME=xdg, XDG_CACHE_HOME=xdg, TMPDIR=tmp,
                   ACT_DISABLE_VERSION_CHECK="1")
    repos = {
        "1 step": make_repo(root, "one", workflow_steps(1)),
        f"{STEPS} steps": make_repo(root, "steps", workflow_steps(STEPS)),
        f"{JOBS} jobs": make_repo(root, "jobs", workflow_jobs(JOBS)),
        f"{LEGS} legs": make_repo(root, "matrix", workflow_matrix(LEGS)),
    }
    gantry_extra = ["--parallel", PARALLEL] if PARALLEL else []
    act_extra = ["--concurrent-jobs", PARALLEL] if PARALLEL else []
    out_file = os.path.join(root, "gantry-stdout.txt")
    t = Timer(root)

    def gantry(key, repo, out=None):
        return t.run(("gantry-file " if out else "gantry ") + key,
                     [GANTRY, "run", "-C", repo, *gantry_extra], repo, RUNS, env=gantry_env, out=out)

    def act(key, repo):
        return t.run("act " + key,
                     [ACT, "push", "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode",
                      "--cache-server-addr", "127.0.0.1", "-W", ".github/workflows/wf.yml", *act_extra],
                     repo, ACT_RUNS, env=act_env)

    print("\n".join(machine_facts()))
    print(f"runs:     gantry {RUNS}, act {ACT_RUNS}, floors {RUNS} (medians, after one discarded warm-up each)")
    par = PARALLEL or f"default = CPU count = {os.cpu_count()}"
    fs = sh(f"df -T '{tmp}' | awk 'NR==2 {{print $2\" on \"$7}}'")
    probe_start = fs_probe(tmp)
    print(f"tmp dir:  {tmp} ({fs}); 6 file create+unlink: {probe_start:.3f} ms (at start)")
    print(f"parallel: gantry --parallel, act --concurrent-jobs: {par}")
    print(flush=True)

    # Floors: one process spawning `/bin/sh -c true` N times, two ways. Per
    # spawn = (T_N - T_1) / (N - 1), the same differencing as the tools, so
    # the interpreter's own start-up cancels out.
    bash_loop = "for i in $(seq {n}); do /bin/sh -c true; done"
    py_loop = "import subprocess\nfor _ in range({n}): subprocess.run(['/bin/sh', '-c', 'true'])"
    # Context only: what Gantry's default shell costs (`bash -e {0}` on a
    # script file, as on GitHub and in act), spawned from a bash loop.
    script = os.path.join(root, "step.sh")
    with open(script, "w") as f:
        f.write("true\n")
    bash_e_loop = "for i in $(seq {n}); do bash -e " + script + "; done"
    floors = {}
    for name, argv in (("bash loop, /bin/sh -c true", lambda n: ["bash", "-c", bash_loop.format(n=n)]),
                       ("python subprocess.run, /bin/sh -c true",
                        lambda n: [sys.executable, "-c", py_loop.format(n=n)]),
                       ("bash loop, bash -e step.sh (gantry's default shell)",
                        lambda n: ["bash", "-c", bash_e_loop.format(n=n)])):
        t1 = t.run(f"floor1 {name}", argv(1), root, RUNS)
        tn = t.run(f"floorN {name}", argv(STEPS), root, RUNS)
        floors[name] = (tn - t1) / (STEPS - 1)

    # Gantry and act alternate per scenario, so a slow phase of the machine
    # hits both.
    g, a, gf = {}, {}, {}
    for key, repo in repos.items():
        g[key] = gantry(key, repo)
        gf[key] = gantry(key, repo, out=out_file)
        a[key] = act(key, repo)
        print(f"  done: {key}: gantry {g[key] * 1000:.1f} ms, act {a[key] * 1000:.1f} ms", file=sys.stderr, flush=True)
    stdout_lines = sum(1 for _ in open(out_file))  # from the last scenario

    n = f"{STEPS} steps"
    floor_name = min(list(floors)[:2], key=lambda k: floors[k])
    floor = floors[floor_name]
    g_step = (g[n] - g["1 step"]) / (STEPS - 1)
    gf_step = (gf[n] - gf["1 step"]) / (STEPS - 1)
    a_step = (a[n] - a["1 step"]) / (STEPS - 1)
    g_over, gf_over, a_over = g_step - floor, gf_step - floor, a_step - floor

    ms = lambda s: f"{s * 1000:.2f}"
    w = 44
    print(f"{'wall time (median)':<{w}}{'gantry ms':>11}{'act ms':>11}{'act/gantry':>12}{'gantry>file':>13}")
    for key in repos:
        print(f"{key:<{w}}{ms(g[key]):>11}{ms(a[key]):>11}{a[key] / g[key]:>11.1f}x{ms(gf[key]):>13}")
    print()
    print(f"{'per step':<{w}}{'gantry ms':>11}{'act ms':>11}{'act/gantry':>12}{'gantry>file':>13}")
    print(f"{'(i)   (T_200 - T_1) / 199':<{w}}{ms(g_step):>11}{ms(a_step):>11}"
          f"{a_step / g_step:>11.1f}x{ms(gf_step):>13}")
    print(f"{'(ii)  floor, ms per spawn':<{w}}{ms(floor):>11}{ms(floor):>11}{'':>12}{ms(floor):>13}")
    ratio = a_over / g_over if g_over > 0 else float("inf")
    print(f"{'(iii) overhead = (i) - (ii)':<{w}}{ms(g_over):>11}{ms(a_over):>11}{ratio:>11.1f}x{ms(gf_over):>13}")
    print()
    print("floors, ms per spawn, (T_200 - T_1) / 199:")
    for name, v in floors.items():
        mark = "  <- (ii), the cheaper /bin/sh floor" if name == floor_name else ""
        print(f"  {name:<52}{v * 1000:6.3f}{mark}")
    shell_floor = floors[list(floors)[2]]
    print(f"  gantry per step over its own shell's cost (context): {ms(g_step - shell_floor)} ms; "
          f"act: {ms(a_step - shell_floor)} ms")
    print()
    print("every run, ms:")
    for name, times in t.samples.items():
        if not name.startswith("floor"):
            print(f"  {name:<26}" + " ".join(f"{x * 1000:.1f}" for x in times))
    print(f"gantry>file: stdout to a file ({stdout_lines} lines for the {LEGS}-leg run) instead of /dev/null")
    print()
    print(f"6 file create+unlink in the tmp dir: {probe_start:.3f} ms at start, {fs_probe(tmp):.3f} ms at end")
    print(f"load at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min; 2+ on a 2-core machine means contention)")
    met1 = g_over * 1000 <= TARGET_OVERHEAD_MS
    met2 = a_over >= TARGET_RATIO * g_over
    print(f"target: gantry per-step overhead (iii) <= {TARGET_OVERHEAD_MS} ms: "
          f"{'MET' if met1 else 'NOT MET'} ({ms(g_over)} ms)")
    print(f"target: act's per-step overhead >= {TARGET_RATIO:g}x gantry's: "
          f"{'MET' if met2 else 'NOT MET'} ({ratio:.1f}x: act {ms(a_over)} ms, gantry {ms(g_over)} ms)")


if __name__ == "__main__":
    main()
