#!/usr/bin/env bash
# The project's test command (the README's second command; .ci/run calls exactly this).
# Runs the format and lint gates, then every unit, property and integration test, then the
# boto3 conformance suite of the local KMS server (tests/kms, in the Python venv .venv).
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
echo "== KMS conformance suite (boto3 against volcrypt kms serve; venv .venv from tests/kms/requirements.txt)"
# scripts/kms-conformance.sh creates .venv (python3 -m venv) when missing, pip-installs
# tests/kms/requirements.txt into it and runs `pytest -q tests/kms`. A failure here must not
# stop the script before the totals line, so its status is kept and counted below.
pytest_status=0
scripts/kms-conformance.sh 2>&1 | tee -a "$log" || pytest_status=$?
# One closing line over every test binary and the pytest suite, so the totals are read in one
# place: cargo's "test result: ok. N passed; M failed; ..." lines, and pytest's summary line
# ("N passed, M failed, K errors in 1.23s", errors counted as failures). A pytest run that
# failed without a count (crash, usage error) counts as one failure.
awk -v pytest_status="$pytest_status" '
     /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^=* *[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)[ ,]/ && / in [0-9.]+s/ {
       for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|errors?)[,]?$/) { f += $i; pf += $i } }
     }
     END { if (pytest_status != 0 && pf == 0) f += 1
           printf "tests: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' "$log"
