#!/usr/bin/env bash
# Misconfiguration benchmark: 1,000 generated .tf files scanned by Gantry
# (release example binary) and by checkov on the same directory; prints
# times (median of RUNS), findings counts and the ratio.
#
# usage: benches/scan/misconfig/run.sh [N_FILES] [RUNS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
n="${1:-1000}"
runs="${2:-3}"
work="${BENCH_DIR:-/var/tmp/gantry-bench-misconfig}"
venv="${CHECKOV_VENV:-/var/tmp/checkov-venv}"
target="${CARGO_TARGET_DIR:-$repo/target}"

python3 "$here/gen.py" "$work/tf" "$n"

if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q checkov
fi

(cd "$repo" && CARGO_TARGET_DIR="$target" cargo build -q --release -p gantry-scan --example misconfig_scan)
gantry="$target/release/examples/misconfig_scan"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

gt=()
for _ in $(seq "$runs"); do
  s=$(now); "$gantry" "$work/tf" > "$work/gantry.txt"; e=$(now)
  gt+=("$(echo "$e - $s" | bc)")
done
g_med=$(printf '%s\n' "${gt[@]}" | median)
g_findings=$(awk -F'\t' '$1=="findings"{print $2}' "$work/gantry.txt")

ct=()
for _ in $(seq "$runs"); do
  s=$(now)
  "$venv/bin/checkov" -d "$work/tf" --framework terraform --quiet --compact -o json \
    --skip-download > "$work/checkov.json" 2> "$work/checkov.err" || true
  e=$(now)
  ct+=("$(echo "$e - $s" | bc)")
done
c_med=$(printf '%s\n' "${ct[@]}" | median)
c_failed=$(python3 -c "
import json,sys
d=json.load(open('$work/checkov.json'))
d=d if isinstance(d,list) else [d]
print(sum(x.get('summary',{}).get('failed',0) for x in d))")

echo "files:            $n"
echo "gantry  runs (s): ${gt[*]}  median $g_med  findings $g_findings"
echo "checkov runs (s): ${ct[*]}  median $c_med  failed checks $c_failed"
echo "ratio (checkov/gantry): $(echo "scale=1; $c_med / $g_med" | bc)x"
