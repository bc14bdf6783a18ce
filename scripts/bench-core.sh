#!/usr/bin/env bash
# bench-core.sh: the core performance report of volcrypt, measured in one run.
#
# What it measures (all on this machine, into results/core-<UTC date-time>/):
#   a. criterion `chunk_cipher`: seal/open of one 4 KiB / 64 KiB / 1 MiB chunk through
#      crypto::ChunkKey (ring, aws-lc) and through raw ring; ratios from the criterion
#      estimates (ChunkKey-ring vs raw ring must be >= 95 %; aws-lc vs ring for information).
#   b. `membw`: in-place read-modify-write memory bandwidth (x ^= k over a pre-faulted 1 GiB
#      buffer) and a raw ring 64 KiB seal loop over the same buffer, 1 and 2 threads.
#   c. `volcrypt encrypt` in place of a 4 GiB file on tmpfs (--io mmap --resilience none),
#      1 and 2 threads, ring and aws-lc: GB/s (bytes / elapsed from --json), speed-up, and
#      the 2-thread figure against the 2-thread RMW bandwidth of (b) (must be >= 60 %).
#      Each configuration: 1 warm-up, then BENCH_REPS timed runs (median reported); every
#      encrypt is followed by a `volcrypt decrypt`, so each one starts from plaintext.
#   d. Anonymous memory: `volcrypt encrypt --threads 2 --io mmap` of a 16 GiB sparse file on
#      disk (/tmp), sampling RssAnon/RssFile every 0.2 s (max RssAnon must be < 256 MiB).
#      This writes ~16 GiB to the disk.
#   e. summary.md: every figure, the ratios with PASS/FAIL, the commands and host info.
#
# Run from anywhere, with nothing else heavy running (it takes ~4-6 minutes):
#   scripts/bench-core.sh
# Knobs (environment): BENCH_REPS (3), BENCH_TMPFS_DIR (/dev/shm), BENCH_TMPFS_GIB (4),
#   BENCH_DISK_DIR (/tmp), BENCH_SPARSE_GIB (16), MEMBW_MIB (1024),
#   BENCH_CRITERION_FILTER (criterion filter regex, default all), BENCH_QUIET_MAX (seconds to
#   wait for the other CPU users to go quiet before each section, 120; 0 = don't wait).
# Needs: cargo, python3 (standard library only), openssl, GNU coreutils.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

REPS=${BENCH_REPS:-3}
TMPFS_DIR=${BENCH_TMPFS_DIR:-/dev/shm}
TMPFS_GIB=${BENCH_TMPFS_GIB:-4}
DISK_DIR=${BENCH_DISK_DIR:-/tmp}
SPARSE_GIB=${BENCH_SPARSE_GIB:-16}
CRIT_FILTER=${BENCH_CRITERION_FILTER:-}
QUIET_MAX=${BENCH_QUIET_MAX:-120}
export MEMBW_MIB=${MEMBW_MIB:-1024}

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/results/core-$STAMP"
SCRATCH="$OUT/scratch" # git-ignored (results/*/scratch*); removed at the end
mkdir -p "$OUT/tmpfs" "$SCRATCH/bin"
LOG="$OUT/bench-core.log"
T0=$(date +%s)

log() { printf '[%s +%4ss] %s\n' "$(date -u +%H:%M:%S)" "$(($(date +%s) - T0))" "$*" | tee -a "$LOG" >&2; }

SHM_DIR=""
DISK_SCRATCH=""
BG_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$BG_PID" ]] && kill -0 "$BG_PID" 2>/dev/null; then kill "$BG_PID" 2>/dev/null || true; wait "$BG_PID" 2>/dev/null || true; fi
    [[ -n "$SHM_DIR" ]] && rm -rf -- "$SHM_DIR"
    [[ -n "$DISK_SCRATCH" ]] && rm -rf -- "$DISK_SCRATCH"
    rm -rf -- "$SCRATCH"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Percentage of CPU time busy over one second, all CPUs (nothing of ours runs meanwhile).
cpu_busy() {
    local a b
    read -r -a a < <(head -1 /proc/stat)
    sleep 1
    read -r -a b < <(head -1 /proc/stat)
    python3 -c '
import sys
a = list(map(int, sys.argv[1].split())); b = list(map(int, sys.argv[2].split()))
d = [y - x for x, y in zip(a[:8], b[:8])]  # user..steal (guest is inside user)
idle = d[3] + d[4]
print(round(100.0 * (1 - idle / max(sum(d), 1)), 1))' "${a[*]:1}" "${b[*]:1}"
}

# Waits (up to QUIET_MAX s) until the machine is quiet; records the busy % per section.
quiet() {
    local section=$1 waited=0 busy
    busy=$(cpu_busy)
    while python3 -c "import sys; sys.exit(0 if float('$busy') > 15 else 1)" && ((waited < QUIET_MAX)); do
        ((waited == 0)) && log "waiting for the machine to go quiet (busy ${busy} %) ..."
        sleep 4
        waited=$((waited + 5))
        busy=$(cpu_busy)
    done
    printf '%s\t%s\t%s\n' "$section" "$busy" "$waited" >>"$OUT/cpu-busy.tsv"
    log "section $section: other CPU use ${busy} % (waited ${waited} s)"
}

log "results -> $OUT"
printf 'section\tbusy_pct\twaited_s\n' >"$OUT/cpu-busy.tsv"

# ---------------------------------------------------------------------------------- build
log "cargo build --release; cargo bench --no-run"
cargo build --release 2>&1 | tee -a "$LOG" >&2
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
# Pin the binaries: others may rebuild the shared target dir while this runs.
cp "$TARGET_DIR/release/volcrypt" "$SCRATCH/bin/volcrypt"
cargo bench --no-run --message-format=json 2>>"$LOG" |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])' >"$SCRATCH/benches.txt"
while read -r name exe; do cp "$exe" "$SCRATCH/bin/$name"; done <"$SCRATCH/benches.txt"
for b in chunk_cipher membw; do
    [[ -x "$SCRATCH/bin/$b" ]] || { log "bench executable $b not found"; exit 1; }
done
VOLCRYPT="$SCRATCH/bin/volcrypt"

# ---------------------------------------------------------------------------------- host
{
    echo "date_utc=$STAMP"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "cpu_family_model=$(grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')/$(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')"
    echo "kernel=$(uname -r)"
    echo "mem_total=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "commit=$(git rev-parse --short HEAD)"
    echo "dirty_files=$(git status --porcelain | wc -l)"
    echo "version=$("$VOLCRYPT" --version)"
    echo "rustc=$(rustc --version)"
    echo "tmpfs_dir=$TMPFS_DIR"
    echo "disk_dir=$DISK_DIR ($(df --output=fstype "$DISK_DIR" | tail -1 | tr -d ' '))"
    echo "isa=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|vaes|vpclmulqdq|avx2|avx512f|avx512vl' | tr '\n' ' ')"
    echo "reps=$REPS"
    echo "tmpfs_gib=$TMPFS_GIB"
    echo "sparse_gib=$SPARSE_GIB"
} >"$OUT/host.env"
git status --porcelain >"$OUT/git-status.txt"
log "host: $(tr '\n' ' ' <"$OUT/host.env")"

# ------------------------------------------------------------------- a. criterion chunk_cipher
quiet chunk_cipher
log "a. cargo bench --bench chunk_cipher ${CRIT_FILTER}"
# Criterion writes its estimates under CRITERION_HOME: keep them with the results.
# (Same as `cargo bench --bench chunk_cipher`, run from the pinned executable.)
CRITERION_HOME="$OUT/criterion" "$SCRATCH/bin/chunk_cipher" --bench ${CRIT_FILTER:+"$CRIT_FILTER"} \
    >"$OUT/chunk_cipher.txt" 2>>"$LOG"
log "a. done"

# ------------------------------------------------------------------------------- b. membw
quiet membw
# Three process runs, median per figure: this VM's memory bandwidth swings with the host's load.
for r in 1 2 3; do
    log "b. cargo bench --bench membw (MEMBW_MIB=$MEMBW_MIB), run $r"
    "$SCRATCH/bin/membw" --bench >"$OUT/membw-run$r.json" 2> >(tee -a "$LOG" >&2)
    log "b. $(cat "$OUT/membw-run$r.json")"
done
python3 - "$OUT"/membw-run*.json >"$OUT/membw.json" <<'PY'
import json, statistics, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
med = {k: {t: statistics.median(r[k][t] for r in runs) for t in runs[0][k]}
       for k in ("rmw_gbps", "ring_seal_64k_gbps")}
med["buffer_mib"] = runs[0]["buffer_mib"]
med["runs"] = runs
print(json.dumps(med))
PY

# ------------------------------------------------------------------------ c. tmpfs encrypt
KEY="$SCRATCH/key"
head -c 32 /dev/urandom >"$KEY"
chmod 600 "$KEY"
SHM_DIR=$(mktemp -d "$TMPFS_DIR/volcrypt-bench.XXXXXX")
VOL="$SHM_DIR/vol.img"
log "c. writing a ${TMPFS_GIB} GiB file to $VOL (AES-CTR keystream as data)"
# openssl dies of SIGPIPE when head has enough; that is expected.
(openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
    -iv 0f0e0d0c0b0a09080706050403020100 </dev/zero 2>/dev/null || true) |
    head -c "${TMPFS_GIB}G" >"$VOL"
want=$((TMPFS_GIB << 30))
[[ $(stat -c %s "$VOL") -eq $want ]] || { log "c. $VOL has the wrong size"; exit 1; }
SUM_BEFORE=$(sha256sum "$VOL" | cut -d' ' -f1)

vc() { # vc OP BACKEND THREADS JSON_OUT
    "$VOLCRYPT" "$1" "$VOL" --key-file "$KEY" --threads "$3" --io mmap --crypto "$2" \
        --resilience none --json >"$4"
}
quiet tmpfs
for backend in ring aws-lc; do
    for t in 1 2; do
        log "c. $backend ${t}T: warm-up"
        vc encrypt "$backend" "$t" "$OUT/tmpfs/encrypt-$backend-${t}t-warmup.json"
        vc decrypt "$backend" "$t" "$OUT/tmpfs/decrypt-$backend-${t}t-warmup.json"
        for r in $(seq 1 "$REPS"); do
            vc encrypt "$backend" "$t" "$OUT/tmpfs/encrypt-$backend-${t}t-run$r.json"
            vc decrypt "$backend" "$t" "$OUT/tmpfs/decrypt-$backend-${t}t-run$r.json"
        done
        log "c. $backend ${t}T: $(python3 -c '
import json, sys
v = [json.load(open(p)) for p in sys.argv[1:]]
print(" ".join("%.2f" % (j["bytes"] / j["elapsed"] / 1e9) for j in v), "GB/s")' \
            "$OUT"/tmpfs/encrypt-"$backend"-"${t}"t-run*.json)"
    done
done
SUM_AFTER=$(sha256sum "$VOL" | cut -d' ' -f1)
{
    echo "sha256_before=$SUM_BEFORE"
    echo "sha256_after=$SUM_AFTER"
} >"$OUT/tmpfs/roundtrip.env"
rm -rf -- "$SHM_DIR"
SHM_DIR=""

# --------------------------------------------------------------------- d. anonymous memory
quiet rss
need=$(((SPARSE_GIB << 30) + (1 << 30)))
avail=$(df --output=avail -B1 "$DISK_DIR" | tail -1 | tr -d ' ')
if ((avail < need)); then
    log "d. SKIPPED: $DISK_DIR has $avail bytes free, needs $need"
    echo "skipped: $DISK_DIR has $avail bytes free" >"$OUT/rss-skipped.txt"
else
    DISK_SCRATCH=$(mktemp -d "$DISK_DIR/volcrypt-bench.XXXXXX")
    SPARSE="$DISK_SCRATCH/sparse.img"
    truncate -s "${SPARSE_GIB}G" "$SPARSE"
    log "d. encrypt of a ${SPARSE_GIB} GiB sparse file on $DISK_DIR, sampling RSS every 0.2 s"
    printf 't_s\tRssAnon_kB\tRssFile_kB\tRssShmem_kB\tVmHWM_kB\n' >"$OUT/rss-samples.tsv"
    "$VOLCRYPT" encrypt "$SPARSE" --key-file "$KEY" --threads 2 --io mmap --crypto ring \
        --resilience none --json >"$OUT/rss-encrypt.json" 2>"$OUT/rss-encrypt.stderr" &
    BG_PID=$!
    start=$(date +%s.%N)
    while kill -0 "$BG_PID" 2>/dev/null; do
        awk -v t="$(python3 -c "import time; print(round(time.time() - $start, 2))")" '
            /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} /^RssShmem:/ {s = $2} /^VmHWM:/ {h = $2}
            END { if (a != "") printf "%s\t%s\t%s\t%s\t%s\n", t, a, f, s, h }' \
            "/proc/$BG_PID/status" >>"$OUT/rss-samples.tsv" 2>/dev/null || true
        sleep 0.2
    done
    rc=0
    wait "$BG_PID" || rc=$?
    BG_PID=""
    echo "$rc" >"$OUT/rss-encrypt.rc"
    log "d. exit $rc, $(($(wc -l <"$OUT/rss-samples.tsv") - 1)) samples"
    rm -rf -- "$DISK_SCRATCH"
    DISK_SCRATCH=""
fi

# ------------------------------------------------------------------------------ e. summary
echo "$(($(date +%s) - T0))" >"$OUT/duration_s"
python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys

out = sys.argv[1]
J = lambda p: json.load(open(p))
env = lambda p: dict(l.rstrip("\n").split("=", 1) for l in open(p) if "=" in l)
host = env(os.path.join(out, "host.env"))
SIZES = [4096, 65536, 1048576]
LABEL = {4096: "4 KiB", 65536: "64 KiB", 1048576: "1 MiB"}

def verdict(ok):
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")

# a. criterion
def est(group, ident, size, stat):
    p = os.path.join(out, "criterion", group, ident, str(size), "new", "estimates.json")
    return J(p)[stat]["point_estimate"] if os.path.exists(p) else None  # ns per iteration

def gbps(ns, size):
    return None if ns is None else size / ns  # bytes per ns == GB/s

def f(x, d=2):
    return "–" if x is None else f"{x:.{d}f}"

def pct(x):
    return "–" if x is None else f"{100 * x:.1f} %"

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

lines = []
W = lines.append
W(f"# volcrypt core benchmark, {host['date_utc']}")
W("")
W("Generated by `scripts/bench-core.sh`. GB/s = 1e9 B/s. This is a report, not a test:")
W("PASS/FAIL marks each ratio against its requirement.")
W("")
W("## Host")
W("")
W("| | |")
W("|---|---|")
for k in ["nproc", "cpu", "cpu_family_model", "isa", "kernel", "mem_total", "commit", "dirty_files",
          "version", "rustc", "tmpfs_dir", "disk_dir", "reps"]:
    W(f"| {k} | {host.get(k, '')} |")
busy = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "cpu-busy.tsv"))][1:]
W("| other CPU use at section start | " + ", ".join(f"{s}: {b} %" for s, b, _ in busy) + " |")
W(f"| script wall time | {open(os.path.join(out, 'duration_s')).read().strip()} s |")
W("")

checks = []  # (requirement, figure, target, verdict)

W("## a. Chunk cipher (criterion `chunk_cipher`, in-cache, 1 thread)")
W("")
W("Throughput from criterion's mean (and median) estimate per iteration; GB/s.")
W("")
W("| op | size | raw ring | ChunkKey ring | ChunkKey aws-lc | ring / raw ring (mean) | ring / raw ring (median) | aws-lc / ring (mean) |")
W("|---|---|---|---|---|---|---|---|")
crit = {}
for group in ["seal", "open"]:
    for n in SIZES:
        g = {i: gbps(est(group, i, n, "mean"), n) for i in ["raw-ring", "ring", "aws-lc"]}
        gm = {i: gbps(est(group, i, n, "median"), n) for i in ["raw-ring", "ring", "aws-lc"]}
        r_mean = ratio(g["ring"], g["raw-ring"])
        r_med = ratio(gm["ring"], gm["raw-ring"])
        r_aws = ratio(g["aws-lc"], g["ring"])
        crit[(group, n)] = (g, r_mean, r_med, r_aws)
        W(f"| {group} | {LABEL[n]} | {f(g['raw-ring'])} | {f(g['ring'])} | {f(g['aws-lc'])} | "
          f"{pct(r_mean)} | {pct(r_med)} | {f(r_aws)}× |")
W("")
g, r_mean, r_med, r_aws = crit[("seal", 65536)]
checks.append(("seal through `crypto/` (ChunkKey ring) ≥ 95 % of raw ring, 64 KiB (criterion mean)",
               pct(r_mean) + f" (median: {pct(r_med)})", "≥ 95 %",
               verdict(None if r_mean is None else r_mean >= 0.95)))
checks.append(("aws-lc vs ring, seal 64 KiB (information)", f"{f(r_aws)}×", "–", "n/a"))

# b. membw
mb = J(os.path.join(out, "membw.json"))
W(f"## b. Memory bandwidth (`membw`, {mb['buffer_mib']} MiB pre-faulted buffer)")
W("")
W("Each run: median of 5 passes after 1 warm-up. Table: median of the process runs; every run listed below it.")
W("")
W("| figure | 1 thread | 2 threads |")
W("|---|---|---|")
W(f"| in-place RMW `x ^= k` (GB/s of buffer) | {f(mb['rmw_gbps']['1'])} | {f(mb['rmw_gbps']['2'])} |")
W(f"| raw ring seal, 64 KiB chunks, same buffer (GB/s) | {f(mb['ring_seal_64k_gbps']['1'])} | {f(mb['ring_seal_64k_gbps']['2'])} |")
W(f"| ring seal / RMW | {pct(mb['ring_seal_64k_gbps']['1'] / mb['rmw_gbps']['1'])} | {pct(mb['ring_seal_64k_gbps']['2'] / mb['rmw_gbps']['2'])} |")
W("")
for i, r in enumerate(mb.get("runs", []), 1):
    W(f"- run {i}: RMW {f(r['rmw_gbps']['1'])} / {f(r['rmw_gbps']['2'])}, "
      f"ring seal {f(r['ring_seal_64k_gbps']['1'])} / {f(r['ring_seal_64k_gbps']['2'])} GB/s (1T / 2T)")
W("")

# c. tmpfs
rmw2 = mb["rmw_gbps"]["2"]
seal2 = mb["ring_seal_64k_gbps"]["2"]
W(f"## c. In-place encrypt of a {host['tmpfs_gib']} GiB file on tmpfs (`--io mmap --resilience none`, 64 KiB chunks)")
W("")
W("GB/s = `bytes / elapsed` from `--json` (the data pass). Median of the timed runs (all runs listed); "
  "each configuration had one warm-up run first, and every encrypt was followed by a decrypt.")
W("")
W("| backend | 1T encrypt | 2T encrypt | speed-up 2T/1T | 2T / RMW 2T | 2T / raw ring seal 2T | 1T decrypt | 2T decrypt | runs 1T | runs 2T |")
W("|---|---|---|---|---|---|---|---|---|---|")
tm = {}
for backend in ["ring", "aws-lc"]:
    row = {}
    for t in [1, 2]:
        for op in ["encrypt", "decrypt"]:
            runs = [J(p) for p in sorted(glob.glob(os.path.join(out, "tmpfs", f"{op}-{backend}-{t}t-run*.json")))]
            v = [j["bytes"] / j["elapsed"] / 1e9 for j in runs]
            row[(op, t)] = (statistics.median(v) if v else None, v)
    e1, e2 = row[("encrypt", 1)][0], row[("encrypt", 2)][0]
    tm[backend] = (e1, e2)
    W(f"| {backend} | {f(e1)} | {f(e2)} | {f(ratio(e2, e1))}× | {pct(ratio(e2, rmw2))} | {pct(ratio(e2, seal2))} | "
      f"{f(row[('decrypt', 1)][0])} | {f(row[('decrypt', 2)][0])} | "
      f"{' / '.join(f(x) for x in row[('encrypt', 1)][1])} | {' / '.join(f(x) for x in row[('encrypt', 2)][1])} |")
W("")
rt = env(os.path.join(out, "tmpfs", "roundtrip.env"))
same = rt["sha256_before"] == rt["sha256_after"]
W(f"Round trip check: SHA-256 of the file before the first encrypt and after the last decrypt "
  f"{'match' if same else '**DIFFER**'} (`{rt['sha256_after'][:16]}…`).")
W("")
for backend in ["ring", "aws-lc"]:
    e1, e2 = tm[backend]
    note = " (default backend)" if backend == "ring" else ""
    checks.append((f"2-thread in-place tmpfs encrypt ≥ 60 % of 2-thread in-place RMW bandwidth, {backend}{note}",
                   f"{f(e2)} / {f(rmw2)} GB/s = {pct(ratio(e2, rmw2))}", "≥ 60 %",
                   verdict(None if e2 is None else e2 / rmw2 >= 0.60)))
    checks.append((f"1T / 2T tmpfs encrypt and speed-up, {backend}",
                   f"{f(e1)} / {f(e2)} GB/s, {f(ratio(e2, e1))}×", "(reported; no target)", "n/a"))

# d. rss
W("## d. Anonymous memory during a disk-backed encrypt (`--threads 2 --io mmap`)")
W("")
skipped = os.path.join(out, "rss-skipped.txt")
if os.path.exists(skipped):
    W(open(skipped).read())
    checks.append(("max RssAnon < 256 MiB", "skipped", "< 256 MiB", "n/a"))
else:
    rows = [l.split("\t") for l in open(os.path.join(out, "rss-samples.tsv")).read().splitlines()[1:]]
    anon = [int(r[1]) for r in rows]
    filek = [int(r[2]) for r in rows]
    hwm = [int(r[4]) for r in rows]
    rc = open(os.path.join(out, "rss-encrypt.rc")).read().strip()
    try:
        s = J(os.path.join(out, "rss-encrypt.json"))
        thr = f"{s['bytes'] / s['elapsed'] / 1e9:.2f} GB/s ({s['bytes'] / 2**30:.0f} GiB in {s['elapsed']:.1f} s)"
    except (ValueError, OSError, KeyError):
        thr = "–"
    max_anon = max(anon) / 1024 if anon else None
    W("| figure | value |")
    W("|---|---|")
    W(f"| samples (every 0.2 s) | {len(rows)} |")
    W(f"| exit status | {rc} |")
    W(f"| max RssAnon | {f(max_anon, 1)} MiB |")
    W(f"| max RssFile | {f(max(filek) / 1024 if filek else None, 1)} MiB |")
    W(f"| VmHWM (peak RSS, incl. file pages) | {f(max(hwm) / 1024 if hwm else None, 1)} MiB |")
    W(f"| encrypt throughput to disk (information) | {thr} |")
    W("")
    checks.append((f"max RssAnon during a {host['sparse_gib']} GiB disk-backed encrypt < 256 MiB", f"{f(max_anon, 1)} MiB",
                   "< 256 MiB", verdict(None if max_anon is None or rc != "0" else max_anon < 256)))

W("## Requirements")
W("")
W("| requirement | measured | target | verdict |")
W("|---|---|---|---|")
for c in checks:
    W("| " + " | ".join(c) + " |")
W("")

W("## Commands")
W("")
W("```")
W("cargo build --release")
W("cargo bench --bench chunk_cipher        # run as the pinned bench executable with CRITERION_HOME=<results>/criterion")
W(f"MEMBW_MIB={mb['buffer_mib']} cargo bench --bench membw   # 3 runs")
W(f"# c. per backend B in ring, aws-lc and T in 1, 2: 1 warm-up + {host['reps']} timed, each encrypt then decrypt")
W("volcrypt encrypt VOL --key-file K --threads T --io mmap --crypto B --resilience none --json")
W("volcrypt decrypt VOL --key-file K --threads T --io mmap --crypto B --resilience none --json")
W(f"# d. {host['sparse_gib']} GiB sparse file (truncate -s {host['sparse_gib']}G) on the disk, RSS sampled from /proc/PID/status every 0.2 s")
W("volcrypt encrypt SPARSE --key-file K --threads 2 --io mmap --crypto ring --resilience none --json")
W("```")
W("")
W("Raw outputs next to this file: `chunk_cipher.txt` and `criterion/` (estimates), `membw-run*.json` (+ `membw.json`, the medians), "
  "`tmpfs/*.json` (every run's Summary), `rss-samples.tsv`, `rss-encrypt.json`, `bench-core.log`, "
  "`host.env`, `cpu-busy.tsv`, `git-status.txt`.")
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
log "done in $(($(date +%s) - T0)) s: $OUT/summary.md"
