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
echo "== cargo test (unit, property and integration tests)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --lib --test integration -- --test-threads 2 2>&1 | tee "$log"
# One closing line over every test binary, so the totals are read in one place.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' "$log"
