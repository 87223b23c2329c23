#!/usr/bin/env python3
"""Per-step overhead and wall time of `gantry run` against act (host mode)
and the floor of spawning `sh -c true`, in one run. See README.md."""
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
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
ACT_RUNS = int(os.environ.get("BENCH_ACT_RUNS", "3"))
MINS = {}


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
    repo = os.path.join(root, name)
    os.makedirs(os.path.join(repo, ".github/workflows"))
    with open(os.path.join(repo, ".github/workflows/wf.yml"), "w") as f:
        f.write(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@example.invalid",
               GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@example.invalid")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "bench"]):
        subprocess.run(["git", *args], cwd=repo, check=True, env=env)
    return repo


def timed(cmd, cwd, env=None, runs=RUNS):
    """Median wall time of `runs` runs, after one discarded warm-up run (this
    VM is markedly slower on the first runs after other work)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if i > 0:
            times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed in {cwd}:\n{done.stderr.decode(errors='replace')[-2000:]}")
    MINS[tuple(cmd) + (cwd,)] = min(times)
    return statistics.median(times)


def main():
    root = tempfile.mkdtemp(prefix="gantry-pbench-")
    xdg = os.path.join(root, "xdg")
    os.makedirs(xdg)
    act_env = dict(os.environ, XDG_CONFIG_HOME=xdg, XDG_CACHE_HOME=xdg)
    repos = {
        "1 step": make_repo(root, "one", workflow_steps(1)),
        "200 steps": make_repo(root, "two-hundred", workflow_steps(200)),
        "50 jobs": make_repo(root, "fifty", workflow_jobs(50)),
        "256 legs": make_repo(root, "matrix", workflow_matrix(256)),
    }
    gantry = lambda r: timed([GANTRY, "run", "-C", r], r)
    act = lambda r: timed(
        [ACT, "push", "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "-W", ".github/workflows/wf.yml"],
        r, act_env, ACT_RUNS)
    print(f"machine: nproc={os.cpu_count()}; {platform.platform()}; python {platform.python_version()}")
    print(f"gantry: {GANTRY}\nact: {subprocess.run([ACT, '--version'], capture_output=True, text=True).stdout.strip()}")
    print(f"runs: gantry {RUNS}, act {ACT_RUNS} (medians)\n")

    # The floor: spawning `sh -c true` 200 times, two ways.
    floor_bash = timed(["bash", "-c", "for i in $(seq 200); do /bin/sh -c true; done"], root) / 200
    floor_py = timed([sys.executable, "-c",
                      "import subprocess\nfor _ in range(200): subprocess.run(['/bin/sh', '-c', 'true'])"], root) / 200

    # Interleaved per scenario, so a slow phase of the VM hits both.
    g, a = {}, {}
    for k, r in repos.items():
        g[k] = gantry(r)
        a[k] = act(r)
    g_min = {k: MINS[(GANTRY, "run", "-C", r, r)] for k, r in repos.items()}

    g_step = (g["200 steps"] - g["1 step"]) / 199
    a_step = (a["200 steps"] - a["1 step"]) / 199
    floor = min(floor_bash, floor_py)
    g_over = g_step - floor
    a_over = a_step - floor

    ms = lambda s: f"{s * 1000:8.2f}"
    print(f"{'scenario':<34}{'gantry ms':>10}{'act ms':>10}{'act/gantry':>12}")
    for k in repos:
        print(f"{k + ' (wall)':<34}{ms(g[k]):>10}{ms(a[k]):>10}{a[k] / g[k]:>11.1f}x")
    print(f"{'per step, (T200 - T1) / 199':<34}{ms(g_step):>10}{ms(a_step):>10}{a_step / g_step:>11.1f}x")
    print(f"{'per-step overhead over the floor':<34}{ms(g_over):>10}{ms(a_over):>10}{a_over / max(g_over, 1e-9):>11.1f}x")
    g_min_step = (g_min["200 steps"] - g_min["1 step"]) / 199
    print(f"{'gantry per step, fastest runs':<34}{ms(g_min_step):>10}  (overhead {ms(g_min_step - floor).strip()} ms)")
    print(f"\nfloor: bash loop {floor_bash * 1000:.3f} ms/spawn, python subprocess {floor_py * 1000:.3f} ms/spawn "
          f"(overhead uses the lower)")
    print(f"target per-step overhead <= 1.5 ms: {'MET' if g_over <= 0.0015 else 'NOT MET'} ({g_over * 1000:.2f} ms)")
    print(f"target >= 4x less overhead than act: {'MET' if a_over >= 4 * g_over else 'NOT MET'} "
          f"({a_over / max(g_over, 1e-9):.1f}x)")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
