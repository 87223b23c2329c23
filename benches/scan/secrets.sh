#!/usr/bin/env bash
# Secret scanning throughput: Gantry's built-in rules against detect-secrets
# (PyPI) on the same files, beside the floor of reading the files.
#
#   benches/scan/secrets.sh [CORPUS_DIR] [SUBSET_MB]
#
# CORPUS_DIR defaults to the local cargo registry sources (real Rust, C,
# Markdown, TOML, JSON ...). Gantry scans the whole corpus; detect-secrets,
# about 300x slower, runs on a SUBSET_MB (default 20) slice of the same
# files, and Gantry is timed on that slice too for the ratio.
#
# Environment: CARGO_TARGET_DIR (default target), DS_VENV (default
# /var/tmp/secrets-bench-venv; created with detect-secrets 1.5.0 if absent),
# RUNS (default 3; medians are reported).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CORPUS="${1:-$HOME/.cargo/registry/src}"
SUBSET_MB="${2:-20}"
RUNS="${RUNS:-3}"
DS_VENV="${DS_VENV:-/var/tmp/secrets-bench-venv}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d /tmp/secrets-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "== building the runner (release, example only)"
(cd "$ROOT" && cargo build --release -q -p gantry-scan --example secrets_bench)
BENCH="$TARGET/release/examples/secrets_bench"

if [ ! -x "$DS_VENV/bin/detect-secrets" ]; then
  echo "== installing detect-secrets into $DS_VENV"
  python3 -m venv "$DS_VENV"
  "$DS_VENV/bin/pip" install -q detect-secrets==1.5.0
fi

find "$CORPUS" -type f | sort > "$WORK/all.txt"
BYTES=$(tr '\n' '\0' < "$WORK/all.txt" | du -cb --files0-from=- | tail -1 | cut -f1)
echo "== corpus: $CORPUS, $(wc -l < "$WORK/all.txt") files, $((BYTES / 1000000)) MB"

# The subset: whole top-level package directories, in sorted order, until
# SUBSET_MB is reached.
: > "$WORK/subset-dirs.txt"
acc=0
for d in $(find "$CORPUS" -mindepth 2 -maxdepth 2 -type d | sort); do
  s=$(du -sb "$d" | cut -f1)
  echo "$d" >> "$WORK/subset-dirs.txt"
  acc=$((acc + s))
  [ "$acc" -ge $((SUBSET_MB * 1000000)) ] && break
done
while read -r d; do find "$d" -type f; done < "$WORK/subset-dirs.txt" | sort > "$WORK/subset.txt"
SUB_BYTES=$(tr '\n' '\0' < "$WORK/subset.txt" | du -cb --files0-from=- | tail -1 | cut -f1)
echo "== subset: $(wc -l < "$WORK/subset-dirs.txt") packages, $(wc -l < "$WORK/subset.txt") files, $((SUB_BYTES / 1000000)) MB"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run() { # mode list threads -> median seconds; prints each run
  local mode=$1 list=$2 threads=$3 out
  for _ in $(seq "$RUNS"); do
    out=$("$BENCH" "$mode" "$list" "$threads")
    echo "   $out" >&2
    echo "$out" | sed -E 's/.*seconds=([0-9.]+).*/\1/'
  done | median
}

"$BENCH" read "$WORK/all.txt" 1 > /dev/null # warm the page cache
echo "== floor: read every file (1 thread)"
FLOOR=$(run read "$WORK/all.txt" 1)
echo "== gantry: built-in rules (1 thread)"
G1=$(run scan "$WORK/all.txt" 1)
echo "== gantry: built-in rules (2 threads)"
G2=$(run scan "$WORK/all.txt" 2)
echo "== gantry on the subset (1 thread)"
GS=$(run scan "$WORK/subset.txt" 1)

echo "== detect-secrets 1.5.0 on the subset (--all-files, default plugins)"
# detect-secrets only scans paths under its working directory: run it from
# the corpus root with relative package paths.
cd "$CORPUS"
sed "s|^$CORPUS/||" "$WORK/subset-dirs.txt" > "$WORK/subset-rel.txt"
/usr/bin/time -f "%e %U %S" -o "$WORK/ds.time" \
  "$DS_VENV/bin/detect-secrets" scan --all-files $(cat "$WORK/subset-rel.txt") > "$WORK/ds.json"
read -r DS_WALL DS_USER DS_SYS < "$WORK/ds.time"
DS_CPU=$(echo "$DS_USER + $DS_SYS" | bc -l)
DS_FOUND=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(v) for v in d['results'].values()))" "$WORK/ds.json")
echo "   wall ${DS_WALL}s, cpu ${DS_CPU}s, ${DS_FOUND} findings"

mbs() { echo "scale=1; $1 / 1000000 / $2" | bc -l; }
echo
echo "== results (medians of $RUNS)"
printf "%-40s %10s %10s\n" "" "seconds" "MB/s"
printf "%-40s %10s %10s\n" "read floor, corpus, 1 thread" "$FLOOR" "$(mbs "$BYTES" "$FLOOR")"
printf "%-40s %10s %10s\n" "gantry, corpus, 1 thread" "$G1" "$(mbs "$BYTES" "$G1")"
printf "%-40s %10s %10s\n" "gantry, corpus, 2 threads" "$G2" "$(mbs "$BYTES" "$G2")"
printf "%-40s %10s %10s\n" "gantry, subset, 1 thread" "$GS" "$(mbs "$SUB_BYTES" "$GS")"
printf "%-40s %10s %10s\n" "detect-secrets, subset, cpu time" "$DS_CPU" "$(mbs "$SUB_BYTES" "$DS_CPU")"
printf "%-40s %10s %10s\n" "detect-secrets, subset, wall" "$DS_WALL" "$(mbs "$SUB_BYTES" "$DS_WALL")"
echo "ratio (detect-secrets cpu / gantry 1 thread, same files): $(echo "scale=0; $DS_CPU / $GS" | bc -l)x"
echo "ratio (detect-secrets wall / gantry 1 thread, same files): $(echo "scale=0; $DS_WALL / $GS" | bc -l)x"
