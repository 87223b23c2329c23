#!/usr/bin/env bash
# Refresh of a 200-resource AWS stack against moto with -parallelism 1, 10
# and 32, beside the floor: the same 200 reads sent straight to moto.
# See README.md next to this script.
#
# Knobs (environment): BENCH_RUNS (3), CARGO_TARGET_DIR, GANTRY_BIN (skip
# the build), GANTRY_MOTO (moto_server; default the test venv's).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

target="${CARGO_TARGET_DIR:-$root/target}"
if [[ -z "${GANTRY_BIN:-}" ]]; then
    echo "+ cargo build --release -p gantry"
    cargo build --release -p gantry
    GANTRY_BIN="$target/release/gantry"
fi
export GANTRY_BIN

venv="${GANTRY_VENV:-/var/tmp/gantry-venv}"
if [[ -z "${GANTRY_MOTO:-}" ]]; then
    if [ ! -x "$venv/bin/moto_server" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q 'moto[server]==5.2.5'
    fi
    GANTRY_MOTO="$venv/bin/moto_server"
fi
export GANTRY_MOTO

exec python3 "$root/benches/aws/bench.py"
