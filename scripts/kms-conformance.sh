#!/usr/bin/env bash
# The boto3 conformance suite for the local KMS server (`volcrypt kms serve`), alone:
#   scripts/kms-conformance.sh [PYTEST ARGS...]     e.g.  scripts/kms-conformance.sh -k rotation -x
#   scripts/kms-conformance.sh --setup              only create/refresh the venv, run nothing
# Creates .venv (python3 -m venv) if it is missing and installs tests/kms/requirements.txt into
# it (boto3 and pytest for this suite; moto, whose `moto_server` the Rust tests in
# tests/it/kms_moto.rs use as a second KMS endpoint), then runs pytest on tests/kms.
# VOLCRYPT_VENV_READY=1 skips the install (scripts/test.sh sets it after its own --setup).
# The suite's conftest builds target/debug/volcrypt with `cargo build --quiet` (set
# VOLCRYPT_SKIP_BUILD=1 to skip that, or VOLCRYPT_BIN=PATH to test another binary). Every server
# it starts listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${VOLCRYPT_VENV_READY:-}" != 1 ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -r tests/kms/requirements.txt
fi
if [ "${1:-}" = --setup ]; then
  exit 0
fi
# No __pycache__ or .pytest_cache in the work tree.
export PYTHONDONTWRITEBYTECODE=1
exec .venv/bin/python -m pytest -q -p no:cacheprovider tests/kms "$@"
