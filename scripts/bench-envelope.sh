#!/usr/bin/env bash
# bench-envelope.sh: envelope-encryption costs against an in-process KMS on 127.0.0.1, into
# results/envelope-<UTC date-time>/ (result.json, summary.md, command.txt):
#   - rewrap (one KMS ReEncrypt, header only) beside a full in-place rekey of one large volume
#     (BENCH_SIZE, default 10G; it is created sparse, so encrypt writes it in full: needs that
#     much free disk in BENCH_DIR);
#   - BENCH_VOLUMES (10000) small volumes of BENCH_VOLUME_SIZE (64K) created through a data-key
#     cache in reuse mode with max_uses BENCH_MAX_USES (100): GenerateDataKey calls against the
#     bound N / max_uses + 1 (counted by the cache and in the server's audit log), then all of
#     them opened through one cache (Decrypt calls).
# Usage: scripts/bench-envelope.sh   (BENCH_SKIP_BUILD=1 to use the existing release binary)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SIZE=${BENCH_SIZE:-10G}
VOLUMES=${BENCH_VOLUMES:-10000}
VOLUME_SIZE=${BENCH_VOLUME_SIZE:-64K}
MAX_USES=${BENCH_MAX_USES:-100}
DIR=${BENCH_DIR:-/var/tmp}
[ "${BENCH_SKIP_BUILD:-0}" = 1 ] || cargo build --release --locked
OUT="results/envelope-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
cmd=(target/release/volcrypt bench envelope --size "$SIZE" --volumes "$VOLUMES"
     --volume-size "$VOLUME_SIZE" --max-uses "$MAX_USES" --dir "$DIR" --out "$OUT")
{
  echo "${cmd[*]}"
  echo "git $(git describe --always --dirty 2>/dev/null || echo unknown); $(nproc) cores; $(uname -r)"
} > "$OUT/command.txt"
"${cmd[@]}"
echo "results in $OUT"
