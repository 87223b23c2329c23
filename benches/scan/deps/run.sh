#!/usr/bin/env bash
# Dependency-scanning benchmark: import time and size of the real OSV
# corpora (../shared/data/osv), and a 5,000-package lockfile against a
# database of 100,000+ records. Prints markdown tables.
#
#   bash benches/scan/deps/run.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/gantry-target}"
cargo bench -q -p gantry-scan --bench deps
