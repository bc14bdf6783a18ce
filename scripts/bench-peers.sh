#!/usr/bin/env bash
# bench-peers.sh: volcrypt side by side with the tools people already use to encrypt bulk data
# (issue 7, item 6). Everything runs in one go on one input file, and the results go into
# results/peers-<UTC date-time>/: summary.md, the raw TSV, every command's output, the log and
# the host info.
#
# What it measures. Each figure is the median of BENCH_REPS runs; within a rep the tools take
# turns, and the order rotates from one rep to the next.
#   mem   In memory, no I/O:
#         - `openssl speed -elapsed -seconds S -mr -evp aes-256-gcm -bytes B`, one process, for
#           B = 16384 (the largest column of openssl's default table), 65536 and 1048576. Then
#           `-multi NPROC` at 65536, which uses all cores the way volcrypt does by default.
#         - `volcrypt bench run --workload cipher`, with 64 KiB chunks, on 1 thread and on NPROC
#           threads. This needs a binary that has it; without it the row is skipped and the
#           reason printed.
#   null  File to /dev/null, through stdout: openssl enc -aes-256-ctr, age and/or rage, and
#         gpg --symmetric. volcrypt has no stdout mode (`--output` refuses an existing path),
#         so in this mode the peers are compared with volcrypt's file -> file figure.
#   file  File to a new file in the same directory: the same peers, plus
#         `volcrypt encrypt P --output O` on all cores and with --threads 1.
#
# The input P is BENCH_SIZE bytes of AES-CTR keystream, so it is incompressible. It is made once
# in BENCH_DIR and read warm from the page cache. BENCH_DIR is /dev/shm when that has room, so
# the script measures the CPU and not the disk; otherwise it is /var/tmp, and the report says so.
# Outputs are removed after each run, untimed. Before the timed reps, each tool is tried on a
# 1 MiB file. A tool that fails there is skipped and the reason given. A tool that passes has the
# wall time of that run reported as its fixed cost: start-up and key set-up (gpg's S2K
# passphrase hashing, age's X25519, volcrypt's header and tag table). Then BENCH_WARMUP untimed
# runs of each null/file command, then the reps.
# Figures: MB/s = input bytes / wall seconds of the whole command. For openssl speed and
#   volcrypt bench the figure is the tool's own. CPU s = user + sys of the command, from the
#   rusage of its children. MB/CPU-s = input MB / CPU s (null and file modes).
#   MB = 1e6 bytes.
# Ratios: "volcrypt ÷ tool" is how many times faster volcrypt is. The reference is the volcrypt
#   row named in the table: for file and null, encrypt --output on all cores; for mem, the
#   cipher workload at the same thread count.
#
# Installing: peers that are missing are installed with apt-get when running as root (age from
#   the `age` package, gpg from `gnupg`). Otherwise the peer is skipped with a printed reason.
#   rage is used when it is already on PATH. `cargo install rage` is tried only with
#   BENCH_CARGO_INSTALL=1, and only when neither age nor rage can be had, because it is slow.
#
# Usage: scripts/bench-peers.sh          (1G, 3 reps: about 2-4 minutes on a 2-vCPU VM)
# Knobs (environment):
#   BENCH_SIZE (1G; a multiple of 1M)
#   BENCH_DIR (/dev/shm if it has room, else /var/tmp)
#   BENCH_REPS (3)
#   BENCH_WARMUP (1)
#   BENCH_SPEED_SECONDS (3; openssl speed -seconds)
#   BENCH_CIPHER_SIZE (BENCH_SIZE; bytes the cipher workload seals per rep)
#   BENCH_VOLCRYPT (a volcrypt binary to use; implies no build)
#   BENCH_SKIP_BUILD=1 (use target/release/volcrypt as it is)
#   BENCH_CARGO_INSTALL=1
# Needs: bash, python3 (standard library only), GNU coreutils, openssl (installed when missing
#   and root).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SIZE=${BENCH_SIZE:-1G}
REPS=${BENCH_REPS:-3}
WARMUP=${BENCH_WARMUP:-1}
SPEED_S=${BENCH_SPEED_SECONDS:-3}
MIB=$((1 << 20))
BYTES=$(numfmt --from=iec "$SIZE") || { echo "BENCH_SIZE=$SIZE is not a size" >&2; exit 2; }
((BYTES > 0 && BYTES % MIB == 0)) || { echo "BENCH_SIZE=$SIZE is not a positive multiple of 1M" >&2; exit 2; }
CIPHER_SIZE=${BENCH_CIPHER_SIZE:-$SIZE}
numfmt --from=iec "$CIPHER_SIZE" >/dev/null || { echo "BENCH_CIPHER_SIZE=$CIPHER_SIZE is not a size" >&2; exit 2; }
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_REPS=$REPS is not a positive integer" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "BENCH_WARMUP=$WARMUP is not a non-negative integer" >&2; exit 2; }
[[ "$SPEED_S" =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_SPEED_SECONDS=$SPEED_S is not a positive integer" >&2; exit 2; }
NPROC=$(nproc)

# Room for P, O (volcrypt's O carries up to 64 MiB of journal slots and the tag table), the
# pinned binary, and slack.
NEED=$((2 * BYTES + BYTES / 16 + 512 * MIB))
room() { local a; a=$(df --output=avail -B1 "$1" 2>/dev/null | tail -1 | tr -d ' '); [[ -n "$a" ]] && ((a >= NEED)); }
DIR_WHY=""
if [[ -n "${BENCH_DIR:-}" ]]; then
    DIR=$BENCH_DIR
    DIR_WHY="set by BENCH_DIR"
elif [[ -d /dev/shm ]] && room /dev/shm; then
    DIR=/dev/shm
    DIR_WHY="tmpfs: the figures are CPU-bound, not disk-bound"
else
    DIR=/var/tmp
    DIR_WHY="/dev/shm lacks $NEED bytes free; /var/tmp is on a disk, but P is read warm from the page cache and nothing is synced, so the figures are still mostly CPU-bound (file -> file includes page-cache growth)"
fi
room "$DIR" || { echo "$DIR has less than $NEED bytes free" >&2; exit 1; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/results/peers-$STAMP"
mkdir -p "$OUT/runs"
LOG="$OUT/bench-peers.log"
T0=$(date +%s)
log() { printf '[%s +%4ss] %s\n' "$(date -u +%H:%M:%S)" "$(($(date +%s) - T0))" "$*" | tee -a "$LOG" >&2; }

WORK=""
GNUPGHOME_DIR=""
cleanup() {
    local rc=$?
    if [[ -n "$GNUPGHOME_DIR" ]] && command -v gpgconf >/dev/null; then
        gpgconf --homedir "$GNUPGHOME_DIR" --kill gpg-agent >/dev/null 2>&1 || true
    fi
    [[ -n "$WORK" ]] && rm -rf -- "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log "results -> $OUT; scratch in $DIR ($DIR_WHY)"

# ----------------------------------------------------------------------------- installing
apt_install() { # apt_install PKG: 0 when installed; else prints why not
    if [[ $(id -u) != 0 ]]; then echo "not root, so no apt-get install $1"; return 1; fi
    if ! command -v apt-get >/dev/null; then echo "no apt-get"; return 1; fi
    log "apt-get install -y $1"
    if DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >>"$LOG" 2>&1; then return 0; fi
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOG" 2>&1 || true
    if DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >>"$LOG" 2>&1; then return 0; fi
    echo "apt-get install $1 failed (see bench-peers.log)"
    return 1
}
: >"$OUT/skipped.tsv"
skip() { # skip ID REASON
    printf '%s\t%s\n' "$1" "$2" >>"$OUT/skipped.tsv"
    log "SKIP $1: $2"
}

command -v python3 >/dev/null || { log "python3 is needed"; exit 1; }
if ! command -v openssl >/dev/null; then
    why=$(apt_install openssl) || { log "openssl is needed (input file) and missing: $why"; exit 1; }
fi
if ! command -v gpg >/dev/null; then
    why=$(apt_install gnupg) || true
    command -v gpg >/dev/null || skip gpg "gpg is not installed: ${why:-apt-get install gnupg did not provide gpg}"
fi
if ! command -v age >/dev/null; then
    why=$(apt_install age) || true
    if ! command -v age >/dev/null; then
        why="age is not installed: ${why:-apt-get install age did not provide age}"
        if ! command -v rage >/dev/null && [[ "${BENCH_CARGO_INSTALL:-0}" == 1 ]] && command -v cargo >/dev/null; then
            log "cargo install rage (BENCH_CARGO_INSTALL=1; this takes minutes)"
            cargo install rage >>"$LOG" 2>&1 || log "cargo install rage failed (see the log)"
            hash -r
        fi
        skip age "$why"
    fi
fi
command -v rage >/dev/null || skip rage "rage is not on PATH (it is installed only with BENCH_CARGO_INSTALL=1, when age cannot be had)"

# ---------------------------------------------------------------------------- build, pin
WORK=$(mktemp -d "$DIR/volcrypt-bench-peers.XXXXXX")
if [[ -n "${BENCH_VOLCRYPT:-}" ]]; then
    SRC_VC=$BENCH_VOLCRYPT
else
    if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
        log "cargo build --release"
        cargo build --release 2>&1 | tee -a "$LOG" >&2
    fi
    SRC_VC="$ROOT/target/release/volcrypt"
fi
[[ -x "$SRC_VC" ]] || { log "no volcrypt binary at $SRC_VC"; exit 1; }
# Pin the binary: others may rebuild the shared target dir while this runs.
cp "$SRC_VC" "$WORK/volcrypt"
VC="$WORK/volcrypt"
P="$WORK/plain.bin"
O="$WORK/out.bin"
KEY="$WORK/key"
head -c 32 /dev/urandom >"$KEY"
chmod 600 "$KEY"
HEXKEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
HEXIV=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
PASS=volcrypt-bench-peers

# ---------------------------------------------------------------------------- host info
ver() { "$@" 2>&1 | head -1 | tr -d '\r' || true; }
{
    echo "date_utc=$STAMP"
    echo "git_describe=$(git describe --always --dirty 2>/dev/null || echo unknown)"
    echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "dirty_files=$(git status --porcelain 2>/dev/null | wc -l)"
    echo "version=$("$VC" --version)"
    echo "binary=$SRC_VC"
    echo "host=$(hostname)"
    echo "nproc=$NPROC"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "isa=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'aes|pclmulqdq|vaes|vpclmulqdq|avx2|avx512f|avx512vl|sha_ni' | tr '\n' ' ' | sed 's/ $//')"
    echo "kernel=$(uname -sr)"
    echo "mem_total=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "dir=$DIR"
    echo "dir_why=$DIR_WHY"
    echo "fstype=$(df --output=fstype "$DIR" | tail -1 | tr -d ' ')"
    echo "size=$SIZE"
    echo "size_bytes=$BYTES"
    echo "cipher_size=$CIPHER_SIZE"
    echo "reps=$REPS"
    echo "warmup=$WARMUP"
    echo "speed_seconds=$SPEED_S"
    echo "openssl=$(ver openssl version)"
    echo "age=$(command -v age >/dev/null && ver age --version || echo none)"
    echo "rage=$(command -v rage >/dev/null && ver rage --version || echo none)"
    echo "gpg=$(command -v gpg >/dev/null && ver gpg --version || echo none)"
    echo "gpg_libgcrypt=$(command -v gpg >/dev/null && gpg --version 2>/dev/null | awk '/libgcrypt/ && !n {print; n = 1}')"
} >"$OUT/host.env"
git status --porcelain >"$OUT/git-status.txt" 2>/dev/null || true
log "host: $(tr '\n' ' ' <"$OUT/host.env")"
load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" -v n="$NPROC" 'BEGIN { exit !(l > n / 2) }'; then
    log "warning: 1-min load average $load1 on $NPROC CPUs: other work may skew the figures"
fi

: >"$OUT/commands.txt"
cmdlog() { # cmdlog ID LINE: the exact command, with the scratch paths named
    local line=$2
    line=${line//$WORK\/volcrypt/volcrypt}
    line=${line//$P/P}
    line=${line//$O/O}
    line=${line//$WORK/\$WORK}
    printf '%s\t%s\n' "$1" "$line" >>"$OUT/commands.txt"
}

# ----------------------------------------------------------------------------- the input
log "making P: $SIZE of AES-CTR keystream in $DIR"
# openssl dies of SIGPIPE when head has enough; that is expected.
(openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
    -iv 0f0e0d0c0b0a09080706050403020100 </dev/zero 2>/dev/null || true) | head -c "$BYTES" >"$P"
[[ $(stat -c %s "$P") -eq $BYTES ]] || { log "$P has the wrong size"; exit 1; }
head -c "$MIB" "$P" >"$WORK/small.bin"

# --------------------------------------------------------------------------- the timer
# timed STDOUT_FILE CMD...: runs CMD with stdout to STDOUT_FILE and stderr to the log, prints
# "wall user sys"; fails (the reason on stderr) when CMD does.
timed() {
    python3 - "$LOG" "$@" <<'PY'
import resource, subprocess, sys, time
log, out, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as o, open(log, "a") as e:
    t = time.monotonic()
    rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=o, stderr=e).returncode
    w = time.monotonic() - t
if rc != 0:
    sys.exit(f"exit status {rc}")
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{w:.6f} {r.ru_utime:.6f} {r.ru_stime:.6f}")
PY
}
printf 'rep\tid\tmode\twall_s\tuser_s\tsys_s\tin_bytes\trate_Bps\tout_bytes\tloadavg\n' >"$OUT/runs.tsv"
row() { # row REP ID MODE "WALL USER SYS" IN_BYTES RATE OUT_BYTES
    local w u s
    read -r w u s <<<"$4"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$w" "$u" "$s" "$5" "$6" "$7" \
        "$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/runs.tsv"
}

# ----------------------------------------------------------------------------- the tools
# tools.tsv: id, mode, threads, what it does (for the report), fixed cost (1 MiB run wall s).
printf 'id\tmode\tthreads\twhat\tfixed_s\n' >"$OUT/tools.tsv"
GNUPGHOME_DIR="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME_DIR"
AGE_RCPT=""
if command -v age-keygen >/dev/null || command -v rage-keygen >/dev/null; then
    kg=age-keygen
    command -v age-keygen >/dev/null || kg=rage-keygen
    "$kg" -o "$WORK/age.key" >>"$LOG" 2>&1 || true
    AGE_RCPT=$(sed -n 's/^# public key: *//p' "$WORK/age.key" 2>/dev/null | head -1)
fi

# CMD=( ... ) for a stream tool reading SRC and writing its output to stdout.
CMD=()
stream_cmd() { # stream_cmd ID SRC
    case $1 in
    openssl-enc) CMD=(openssl enc -aes-256-ctr -K "$HEXKEY" -iv "$HEXIV" -in "$2") ;;
    age) CMD=(age -e -r "$AGE_RCPT" "$2") ;;
    rage) CMD=(rage -e -r "$AGE_RCPT" "$2") ;;
    gpg) CMD=(gpg --homedir "$GNUPGHOME_DIR" --batch --yes --quiet --pinentry-mode loopback --passphrase "$PASS"
        --symmetric --cipher-algo AES256 --compress-algo none -o - "$2") ;;
    esac
}
# CMD=( ... ) for volcrypt encrypt --output (ID volcrypt or volcrypt-1t).
vc_cmd() { # vc_cmd ID SRC DST
    CMD=("$VC" encrypt "$2" --output "$3" --key-file "$KEY" --json)
    [[ $1 == volcrypt-1t ]] && CMD+=(--threads 1)
    return 0
}

declare -A WHAT=(
    [openssl-enc]="AES-256-CTR, no authentication (openssl enc refuses AEAD modes); 1 thread, 8 KiB buffer"
    [age]="X25519 recipient + ChaCha20-Poly1305 STREAM in 64 KiB chunks (Go); 1 stream"
    [rage]="the age format (X25519 + ChaCha20-Poly1305, 64 KiB chunks), Rust; 1 stream"
    [gpg]="OpenPGP symmetric: iterated-salted S2K from a passphrase, AES-256 (gpg 2.2: CFB + MDC, SHA-1); no compression; 1 thread"
    [volcrypt]="AES-256-GCM per 64 KiB chunk (tags in a separate table), all cores; writes a volume: data + header + tag table + journal area"
    [volcrypt-1t]="as volcrypt, --threads 1"
)
STREAM_PEERS=()
for id in openssl-enc age rage gpg; do
    if cut -f1 "$OUT/skipped.tsv" | grep -qx "$id"; then continue; fi
    if [[ $id == age || $id == rage ]] && [[ -z "$AGE_RCPT" ]]; then
        skip "$id" "no age identity could be made (age-keygen / rage-keygen failed)"
        continue
    fi
    stream_cmd "$id" "$WORK/small.bin"
    if t=$(timed "$WORK/small.out" "${CMD[@]}" 2>>"$LOG"); then
        STREAM_PEERS+=("$id")
        for mode in null file; do
            printf '%s\t%s\t1\t%s\t%s\n' "$id" "$mode" "${WHAT[$id]}" "${t%% *}" >>"$OUT/tools.tsv"
        done
        log "$id: 1 MiB probe ok in ${t%% *} s"
    else
        skip "$id" "the 1 MiB probe failed: $(tail -3 "$LOG" | tr '\n' ' ' | cut -c1-300)"
    fi
    if [[ $id == gpg && -s "$WORK/small.out" ]]; then
        gpg --homedir "$GNUPGHOME_DIR" --batch --pinentry-mode loopback --passphrase "$PASS" \
            --list-packets "$WORK/small.out" 2>&1 | grep -E 'gpg: |symkey|encrypted data|aead|mdc' >"$OUT/gpg-packets.txt" || true
    fi
    rm -f "$WORK/small.out"
done
VC_TOOLS=()
for id in volcrypt volcrypt-1t; do
    vc_cmd "$id" "$WORK/small.bin" "$WORK/small.out"
    if t=$(timed "$OUT/runs/probe-$id.json" "${CMD[@]}" 2>>"$LOG"); then
        VC_TOOLS+=("$id")
        printf '%s\tfile\t%s\t%s\t%s\n' "$id" "$([[ $id == volcrypt ]] && echo "$NPROC" || echo 1)" \
            "${WHAT[$id]}" "${t%% *}" >>"$OUT/tools.tsv"
        log "$id: 1 MiB probe ok in ${t%% *} s"
    else
        skip "$id" "the 1 MiB probe failed: $(tail -3 "$LOG" | tr '\n' ' ' | cut -c1-300)"
    fi
    rm -f "$WORK/small.out"
done
[[ ${#VC_TOOLS[@]} -gt 0 ]] || { log "volcrypt encrypt --output does not run; nothing to compare with"; exit 1; }

# volcrypt bench run --workload cipher, when this binary has it. Its flags are read from --help.
CIPHER_WHY=""
CIPHER_ARGS=()
if ! br_help=$("$VC" bench run --help 2>&1); then
    CIPHER_WHY="this volcrypt has no \`bench run\` (\`volcrypt bench run --help\`: $(head -1 <<<"$br_help" | cut -c1-200))"
elif ! grep -q -- '--workload' <<<"$br_help"; then
    CIPHER_WHY="\`volcrypt bench run\` has no --workload flag"
else
    has() { grep -qE -- "(^|[ ,])$1([ =,]|\$)" <<<"$br_help"; }
    CIPHER_ARGS=(bench run --workload cipher)
    has --size && CIPHER_ARGS+=(--size "$CIPHER_SIZE")
    has --chunk-size && CIPHER_ARGS+=(--chunk-size 64K)
    has --reps && CIPHER_ARGS+=(--reps 1)
    has --warmup && CIPHER_ARGS+=(--warmup 1)
    CIPHER_OUT_FLAG=""
    for f in --out-dir --output-dir --results-dir --results --out --output; do
        if has "$f"; then CIPHER_OUT_FLAG=$f; break; fi
    done
    CIPHER_THREADS_FLAG=""
    has --threads && CIPHER_THREADS_FLAG=--threads
fi
# cipher_run THREADS TAG: one `bench run --workload cipher`; its report.json lands in
# $OUT/runs/cipher-TAG.report.json. Prints "wall user sys".
cipher_run() {
    local d="$WORK/cipher-$2" t args=("${CIPHER_ARGS[@]}") rep
    rm -rf -- "$d"
    mkdir -p "$d"
    [[ -n "$CIPHER_THREADS_FLAG" ]] && args+=("$CIPHER_THREADS_FLAG" "$1")
    [[ -n "$CIPHER_OUT_FLAG" ]] && args+=("$CIPHER_OUT_FLAG" "$d")
    if [[ $2 == *-1 ]]; then
        if [[ -n "$CIPHER_OUT_FLAG" ]]; then
            cmdlog "volcrypt-cipher-t$1" "$VC ${args[*]}"
        else
            cmdlog "volcrypt-cipher-t$1" "cd $d && $VC ${args[*]}"
        fi
    fi
    # Without an output flag the run dir is results/<run-id> under the cwd.
    t=$(cd "$d" && timed "$OUT/runs/cipher-$2.txt" "$VC" "${args[@]}") || return 1
    rep=$(find "$d" -name report.json | head -1)
    [[ -n "$rep" ]] || { echo "no report.json under $d after the run" >&2; return 1; }
    cp -- "$rep" "$OUT/runs/cipher-$2.report.json"
    [[ -f "$(dirname "$rep")/summary.txt" ]] && cp -- "$(dirname "$rep")/summary.txt" "$OUT/runs/cipher-$2.summary.txt"
    rm -rf -- "$d"
    echo "$t"
}
# cipher_rate TAG THREADS: bytes/s of the cipher case (64 KiB chunks, THREADS threads, else the first).
cipher_rate() {
    python3 - "$OUT/runs/cipher-$1.report.json" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cases = [c for c in r.get("cases", []) if c.get("case", {}).get("workload") == "cipher"] or r.get("cases", [])
pick = [c for c in cases if c["case"].get("chunk_size") == 65536 and c["case"].get("threads") == int(sys.argv[2])]
c = (pick or cases)[0]
print(f"{c['bw_median']}\t{c['case'].get('threads')}\t{c['case'].get('backend')}\t{c['case'].get('size')}")
PY
}
CIPHER_T=()
if [[ -z "$CIPHER_WHY" ]]; then
    for th in 1 "$NPROC"; do
        [[ " ${CIPHER_T[*]} " == *" $th "* ]] && continue
        if [[ $th != 1 && -z "$CIPHER_THREADS_FLAG" ]]; then continue; fi
        if t=$(cipher_run "$th" "t$th-probe" 2>>"$LOG") && info=$(cipher_rate "t$th-probe" "$th" 2>>"$LOG"); then
            CIPHER_T+=("$th")
            IFS=$'\t' read -r _ ct cb cs <<<"$info"
            printf 'volcrypt-cipher-t%s\tmem\t%s\t%s\t%s\n' "$th" "$ct" \
                "AES-256-GCM seal in memory (\`bench run --workload cipher\`), 64 KiB chunks, backend $cb, $cs bytes sealed per rep; figure = the harness's own median" \
                "-" >>"$OUT/tools.tsv"
            log "volcrypt bench cipher, $th thread(s): probe ok ($(cut -f1 <<<"$info") B/s)"
        else
            CIPHER_WHY="\`volcrypt ${CIPHER_ARGS[*]}\` failed: $(tail -3 "$LOG" | tr '\n' ' ' | cut -c1-300)"
            break
        fi
    done
fi
[[ -z "$CIPHER_WHY" ]] || skip volcrypt-cipher "$CIPHER_WHY"

# openssl speed rows: ID SIZE MULTI
SPEED=("openssl-speed-16k 16384 1" "openssl-speed-64k 65536 1" "openssl-speed-1m 1048576 1")
((NPROC > 1)) && SPEED+=("openssl-speed-64k-x$NPROC 65536 $NPROC")
for s in "${SPEED[@]}"; do
    read -r id b m <<<"$s"
    printf '%s\tmem\t%s\t%s\t-\n' "$id" "$m" \
        "AES-256-GCM via EVP on a cache-resident $b-byte buffer, $m process(es); no I/O (openssl's figure)" >>"$OUT/tools.tsv"
done
speed_cmd() { # speed_cmd SIZE MULTI
    CMD=(openssl speed -elapsed -seconds "$SPEED_S" -mr)
    (($2 > 1)) && CMD+=(-multi "$2")
    CMD+=(-evp aes-256-gcm -bytes "$1")
    return 0
}

# --------------------------------------------------------------------------------- runs
rotate() { # rotate N ITEMS...: the items, starting at index N mod count
    local n=$1
    shift
    local a=("$@") k=$# i
    ((k == 0)) && return 0
    for ((i = 0; i < k; i++)); do echo "${a[$(((i + n) % k))]}"; done
}
# One null/file run of a tool; REP 0 is a warm-up (kept in runs.tsv, left out of the medians).
one_run() { # one_run REP ID MODE
    local r=$1 id=$2 mode=$3 t dst jsonout ob=-
    if [[ $id == volcrypt* ]]; then
        vc_cmd "$id" "$P" "$O"
        jsonout="$OUT/runs/$id-$r.json"
    else
        stream_cmd "$id" "$P"
        if [[ $mode == null ]]; then dst=/dev/null; else dst=$O; fi
        jsonout=$dst
    fi
    [[ $r == 1 ]] && cmdlog "$id/$mode" "${CMD[*]}$([[ $id != volcrypt* ]] && echo " > ${jsonout/$O/O}")"
    if ! t=$(timed "$jsonout" "${CMD[@]}" 2>>"$LOG"); then
        log "FAILED (rep $r): $id $mode (stderr in the log)"
        row "$r" "$id" "$mode" "- - -" "$BYTES" fail -
        rm -f "$O"
        return 0
    fi
    [[ -f "$O" ]] && ob=$(stat -c %s "$O")
    rm -f "$O"
    row "$r" "$id" "$mode" "$t" "$BYTES" "$(python3 -c "import sys; print(int(sys.argv[1]) / float(sys.argv[2]))" "$BYTES" "${t%% *}")" "$ob"
    log "rep $r: $id $mode: $(awk -v b="$BYTES" '{printf "%.3f s wall (%.0f MB/s), %.3f s user, %.3f s sys", $1, b / $1 / 1e6, $2, $3}' <<<"$t")"
}

mapfile -t ORDER < <(for id in "${STREAM_PEERS[@]}"; do echo "$id null"; echo "$id file"; done
    for id in "${VC_TOOLS[@]}"; do echo "$id file"; done)
for ((r = 1 - WARMUP; r <= REPS; r++)); do
    rr=$r
    ((r < 1)) && rr=0
    if ((r >= 1)); then
        # mem: openssl speed, then the cipher workload (no warm-up: time-based / its own).
        while read -r s; do
            [[ -n "$s" ]] || continue
            read -r id b m <<<"$s"
            speed_cmd "$b" "$m"
            [[ $r == 1 ]] && cmdlog "$id" "${CMD[*]}"
            if t=$(timed "$OUT/runs/$id-$r.txt" "${CMD[@]}" 2>>"$LOG"); then
                rate=$(grep '^+F:' "$OUT/runs/$id-$r.txt" | tail -1 | awk -F: '{print $NF}')
                row "$r" "$id" mem "$t" - "${rate:-fail}" -
                log "rep $r: $id: $(awk -v x="${rate:-0}" 'BEGIN {printf "%.0f MB/s", x / 1e6}')"
            else
                row "$r" "$id" mem "- - -" - fail -
                log "FAILED (rep $r): $id"
            fi
        done < <(rotate "$r" "${SPEED[@]}")
        for th in "${CIPHER_T[@]}"; do
            if t=$(cipher_run "$th" "t$th-$r" 2>>"$LOG") && info=$(cipher_rate "t$th-$r" "$th" 2>>"$LOG"); then
                row "$r" "volcrypt-cipher-t$th" mem "$t" - "$(cut -f1 <<<"$info")" -
                log "rep $r: volcrypt-cipher-t$th: $(awk -v x="$(cut -f1 <<<"$info")" 'BEGIN {printf "%.0f MB/s", x / 1e6}')"
            else
                row "$r" "volcrypt-cipher-t$th" mem "- - -" - fail -
                log "FAILED (rep $r): volcrypt-cipher-t$th"
            fi
        done
    fi
    while read -r item; do
        [[ -n "$item" ]] || continue
        read -r id mode <<<"$item"
        one_run "$rr" "$id" "$mode"
    done < <(rotate "$((r + WARMUP))" "${ORDER[@]}")
done
rm -f -- "$OUT"/runs/probe-*.json "$OUT"/runs/cipher-*-probe.*
echo "$(($(date +%s) - T0))" >"$OUT/duration_s"

# ------------------------------------------------------------------------------ summary
python3 - "$OUT" <<'PY'
import csv, os, statistics, sys

out = sys.argv[1]
env = {k: v for k, v in (l.rstrip("\n").split("=", 1) for l in open(os.path.join(out, "host.env")) if "=" in l)}
tools = list(csv.DictReader(open(os.path.join(out, "tools.tsv")), delimiter="\t"))
runs = [r for r in csv.DictReader(open(os.path.join(out, "runs.tsv")), delimiter="\t") if r["rep"] != "0"]
skipped = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(out, "skipped.tsv")) if "\t" in l]
cmds = [l.rstrip("\n").split("\t", 1) for l in open(os.path.join(out, "commands.txt")) if "\t" in l]
nproc = int(env["nproc"])

def fig(tid, mode):
    sel = [r for r in runs if r["id"] == tid and r["mode"] == mode]
    ok = [r for r in sel if r["rate_Bps"] not in ("fail", "-", "")]
    mbs = [float(r["rate_Bps"]) / 1e6 for r in ok]
    cpu = [float(r["user_s"]) + float(r["sys_s"]) for r in ok]
    med = lambda v: statistics.median(v) if v else None
    eff = [int(r["in_bytes"]) / 1e6 / c for r, c in zip(ok, cpu) if r["in_bytes"] != "-" and c > 0]
    grow = [int(r["out_bytes"]) / int(r["in_bytes"]) for r in ok if r["out_bytes"] not in ("-", "") and r["in_bytes"] != "-"]
    return {"mbs": med(mbs), "runs": mbs, "cpu": med(cpu), "eff": med(eff), "fails": len(sel) - len(ok), "grow": med(grow)}

F = {(t["id"], t["mode"]): fig(t["id"], t["mode"]) for t in tools}
f0 = lambda x: "–" if x is None else f"{x:,.0f}"
f2 = lambda x: "–" if x is None else f"{x:.2f}"
ratio = lambda a, b: None if a is None or not b else a / b
fx = lambda x: "–" if x is None else f"{x:.2f}×"
vc_ref = F.get(("volcrypt", "file"), {}).get("mbs")

lines = []
W = lines.append
W(f"# volcrypt vs its peers, {env['date_utc']}")
W("")
W(f"Generated by `scripts/bench-peers.sh` (issue 7, item 6). Every tool works on the same input P, "
  f"{int(env['size_bytes']) / 2**20:,.0f} MiB of AES-CTR keystream (incompressible) on {env['fstype']} "
  f"(`{env['dir']}`: {env['dir_why']}). P is read warm from the page cache. MB/s = 1e6 B/s = input bytes / wall "
  f"time of the whole command. openssl speed and volcrypt bench report their own figure. "
  f"The medians are of {env['reps']} rep(s), after {env['warmup']} untimed warm-up run(s) of each "
  "file command; within each rep the tools take turns, in an order that rotates. CPU s = user + sys of the "
  "command. **volcrypt ÷ tool** is how many times volcrypt's throughput that tool's is (> 1: volcrypt faster). "
  f"For `null` and `file` the reference is `volcrypt encrypt --output` on all {nproc} cores (file → file). "
  "volcrypt cannot write to stdout, so the `null` rows are compared with volcrypt's file figure. For `mem` the "
  "reference is the volcrypt cipher workload at the same thread count. This is a report, not a test.")
W("")
W("## Throughput")
W("")
W("| tool | mode | threads | MB/s (median) | runs (MB/s) | volcrypt ÷ tool | CPU s (median) | MB per CPU s | O size ÷ P size | fixed cost (1 MiB run, s) |")
W("|---|---|---|---|---|---|---|---|---|---|")
MODE = {"mem": "mem", "null": "file → /dev/null", "file": "file → file"}
order = {"mem": 0, "null": 1, "file": 2}
fixed = lambda x: x if x in ("", "-") else f"{float(x):.3f}"
for t in sorted(tools, key=lambda t: (order[t["mode"]], t["id"].startswith("volcrypt"))):
    g = F[(t["id"], t["mode"])]
    if t["mode"] == "mem":
        th = int(t["threads"]) if t["threads"].isdigit() else 1
        ref = F.get((f"volcrypt-cipher-t{th}", "mem"), {}).get("mbs")
        if t["id"].startswith("volcrypt-cipher"):
            ref = None
    else:
        ref = vc_ref
    r = "1.00× (reference)" if t["id"] == "volcrypt" else fx(ratio(ref, g["mbs"]))
    fails = f" ({g['fails']} failed)" if g["fails"] else ""
    W(f"| `{t['id']}` | {MODE[t['mode']]} | {t['threads']} | **{f0(g['mbs'])}**{fails} | "
      f"{' / '.join(f0(x) for x in g['runs'])} | {r} | {'–' if t['id'].startswith('openssl-speed') else f2(g['cpu'])} | "
      f"{f0(g['eff']) if t['mode'] != 'mem' else '–'} | {f2(g['grow'])} | {fixed(t['fixed_s'])} |")
W("")

speed = [t for t in tools if t["id"].startswith("openssl-speed")]
if speed:
    W("## volcrypt against in-memory AES-256-GCM (`openssl speed`)")
    W("")
    W("`openssl speed` is the cipher alone, on a buffer that stays in cache. volcrypt's file → file figure adds "
      "reading P, writing O (fresh page cache on tmpfs), and its header, tag table and journal area.")
    W("")
    vc1 = F.get(("volcrypt-1t", "file"), {}).get("mbs")
    W(f"| openssl speed row | MB/s | volcrypt encrypt --output, {nproc} threads ÷ it | volcrypt encrypt --output, 1 thread ÷ it | volcrypt cipher, same threads ÷ it |")
    W("|---|---|---|---|---|")
    for t in speed:
        g = F[(t["id"], "mem")]
        th = int(t["threads"])
        cref = F.get((f"volcrypt-cipher-t{th}", "mem"), {}).get("mbs")
        W(f"| `{t['id']}` ({t['threads']} process(es)) | {f0(g['mbs'])} | {fx(ratio(vc_ref, g['mbs']))} | "
          f"{fx(ratio(vc1, g['mbs']))} | {fx(ratio(cref, g['mbs']))} |")
    W("")

W("## What each tool does (they are not doing the same work)")
W("")
for t in tools:
    if t["mode"] == "file" or (t["mode"] == "mem" and not t["id"].startswith("openssl-speed")):
        W(f"- `{t['id']}`: {t['what']}.")
if speed:
    W("- `openssl-speed-*`: AES-256-GCM through EVP on one cache-resident buffer of the named size, 1 process "
      f"(`-x{nproc}`: `-multi {nproc}`); no I/O, no chunk bookkeeping; openssl's own figure.")
W("- The file rows of the stream tools write their output to stdout, which is redirected to O. volcrypt writes O itself, "
  "and its O also holds the header, the tag table (32 B per chunk) and the journal slots (up to 2 × 32 MiB, written "
  "out): the `O size ÷ P size` column shows what each tool writes per input byte.")
W("- Only volcrypt and age/rage authenticate per chunk and can be read or verified in parallel. `openssl enc` has no "
  "authentication at all. gpg authenticates the whole message at its end (MDC).")
gp = os.path.join(out, "gpg-packets.txt")
if os.path.exists(gp) and os.path.getsize(gp):
    W("- gpg's packets (from `gpg --list-packets` of the 1 MiB probe): "
      + "; ".join(f"`{l.strip()}`" for l in open(gp) if l.strip()) + ".")
W("")
if skipped:
    W("## Skipped")
    W("")
    for tid, why in skipped:
        W(f"- `{tid}`: {why}")
    W("")

W("## Host")
W("")
W("| | |")
W("|---|---|")
for k in ["host", "cpu", "nproc", "isa", "kernel", "mem_total", "version", "git_describe", "commit", "dirty_files",
          "openssl", "age", "rage", "gpg", "gpg_libgcrypt", "dir", "fstype", "size", "cipher_size", "reps", "warmup",
          "speed_seconds", "loadavg_start"]:
    W(f"| {k} | {env.get(k, '')} |")
loads = [float(r["loadavg"]) for r in runs if r["loadavg"]]
if loads:
    W(f"| 1-min load average during the runs | {min(loads):.2f}–{max(loads):.2f} |")
W(f"| script wall time | {open(os.path.join(out, 'duration_s')).read().strip()} s |")
W("")
W("## Commands")
W("")
W("P = the input, O = the output file, `$WORK` = the scratch directory. K and the openssl key and IV are random per run.")
W("")
W("```")
for tid, c in cmds:
    W(f"# {tid}")
    W(c)
W("```")
W("")
W("Raw data next to this file: `runs.tsv` (every run, warm-ups as rep 0), `tools.tsv`, `skipped.tsv`, `runs/` "
  "(openssl speed output, volcrypt's `--json`, the cipher workload's report.json), `host.env`, `bench-peers.log`.")
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
log "done in $(($(date +%s) - T0)) s: $OUT/summary.md"
