#!/usr/bin/env bash
# The project's test command (the README's second command; .ci/run calls exactly this).
# Runs the format and lint gates, sets up the Python venv .venv (tests/kms/requirements.txt),
# then every unit, property and integration test (with moto's server from the venv as a second
# KMS endpoint), then the boto3 conformance suite of the local KMS server (tests/kms).
# Tests that need root (the loop-device test) print "SKIP ...: <reason>" when they cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== module layers"
scripts/check-layers.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --all-targets --locked -- -D warnings
echo "== Python venv .venv (tests/kms/requirements.txt: boto3, pytest, moto)"
# Before cargo test: the Rust tests in tests/it/kms_moto.rs run .venv/bin/moto_server as a
# second KMS endpoint, and are required to (not skipped) here. A failed install does not stop
# the script: the moto tests and the pytest suite then fail and are counted in the totals.
venv_status=0
scripts/kms-conformance.sh --setup || venv_status=$?
[ "$venv_status" = 0 ] || echo "venv setup failed (status $venv_status); moto and pytest tests will fail"
echo "== cargo test (unit, property and integration tests)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A failure must not stop the script before the totals line: the status is kept and counted.
cargo_status=0
VOLCRYPT_MOTO_SERVER="$PWD/.venv/bin/moto_server" VOLCRYPT_REQUIRE_MOTO=1 \
  cargo test --locked --lib --test integration -- --test-threads 2 2>&1 | tee "$log" || cargo_status=$?
echo "== KMS conformance suite (boto3 against volcrypt kms serve; venv .venv from tests/kms/requirements.txt)"
# scripts/kms-conformance.sh runs `pytest -q tests/kms` in the venv set up above. A failure
# here must not stop the script before the totals line, so its status is kept and counted below.
pytest_status=0
VOLCRYPT_VENV_READY=1 scripts/kms-conformance.sh 2>&1 | tee -a "$log" || pytest_status=$?
# The benchmark report files against their JSON schemas (tests/bench): the fixture written by
# the Rust test bench::output::tests::writes_schema_fixture above, a fresh `volcrypt bench run`,
# and every committed results/*/report.json.
echo "== benchmark report schemas (pytest tests/bench)"
.venv/bin/python -m pytest -q tests/bench 2>&1 | tee -a "$log" || pytest_status=$?
# The daemon's metrics endpoint, parsed by prometheus_client's OpenMetrics parser (tests/daemon),
# against the target/debug/volcrypt the cargo tests built.
echo "== daemon metrics (pytest tests/daemon)"
.venv/bin/python -m pytest -q tests/daemon 2>&1 | tee -a "$log" || pytest_status=$?
# One closing line over every test binary and the pytest suite, so the totals are read in one
# place: cargo's "test result: ok. N passed; M failed; ..." lines, and pytest's summary line
# ("N passed, M failed, K errors in 1.23s", errors counted as failures). A pytest run that
# failed without a count (crash, usage error) counts as one failure; so does a cargo test run
# that failed without a failing test (a build error, a crashed test binary).
awk -v pytest_status="$pytest_status" -v cargo_status="$cargo_status" '
     /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^=* *[0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)[ ,]/ && / in [0-9.]+s/ {
       for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^(failed|errors?)[,]?$/) { f += $i; pf += $i } }
     }
     /^test result: FAILED/ { cf += 1 }
     END { if (pytest_status != 0 && pf == 0) f += 1
           if (cargo_status != 0 && cf == 0) f += 1
           printf "tests: %d passed, %d failed\n", p, f; exit (p == 0 || f > 0) }' "$log"
