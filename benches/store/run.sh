#!/usr/bin/env bash
# Durable event appends per second: Gantry over HTTP (SQLite, PostgreSQL)
# against raw SQLite floors, in one run. See README.md next to this script.
#
# Knobs (environment): BENCH_EVENTS (20000), BENCH_FLOOR_EVENTS (min(events, 10000)),
# BENCH_RUNS (3), BENCH_CLIENTS (32), BENCH_TMPDIR (system temp dir),
# GANTRY_TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/postgres),
# CARGO_TARGET_DIR, GANTRY_BIN (skip the build and use this binary).
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

knobs=()
for var in BENCH_EVENTS BENCH_FLOOR_EVENTS BENCH_RUNS BENCH_CLIENTS BENCH_TMPDIR \
           GANTRY_TEST_DATABASE_URL CARGO_TARGET_DIR; do
    if [[ -n "${!var:-}" ]]; then
        export "${var?}"
        knobs+=("$var=${!var}")
    fi
done

echo "+ ${knobs[*]:+${knobs[*]} }GANTRY_BIN=$GANTRY_BIN cargo bench -p gantry --bench store"
exec cargo bench -p gantry --bench store
