#!/usr/bin/env bash
# The project's test command (the README's second command; .ci/run calls exactly this).
# Runs the format and lint gates, then every unit, property and integration test.
# Tests that need root (the loop-device test) print "SKIP ...: <reason>" when they cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== module layers"
scripts/check-layers.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --locked -- --test-threads 2
