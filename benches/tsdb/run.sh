#!/usr/bin/env bash
# Time-series store benchmark: one synthetic workload pushed through remote
# write into Gantry and into Prometheus 2.42 (Debian package), side by side.
# See README.md next to this script.
#
# Knobs (environment): BENCH_SERIES (10000), BENCH_HOURS (4),
# BENCH_WINDOW (20 samples per series per request), BENCH_BATCH_SERIES (500),
# BENCH_SETTLE_S (75: time for both to compact the head into a block),
# BENCH_QUERY_RUNS (10), CARGO_TARGET_DIR, GANTRY_BIN (skip the build).
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

if ! command -v prometheus >/dev/null; then
    echo "+ apt-get install -y prometheus"
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq prometheus >/dev/null; else sudo apt-get install -y -qq prometheus >/dev/null; fi
fi
prometheus --version 2>&1 | head -n 1

exec python3 "$root/benches/tsdb/bench.py"
