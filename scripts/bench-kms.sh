#!/usr/bin/env bash
# bench-kms.sh: the local KMS server's throughput against moto's, measured in one run.
#
# What it does (all on 127.0.0.1; results into results/kms-<UTC date-time>/):
#   1. builds target/release/volcrypt; creates .venv if missing and installs 'moto[server]'.
#   2. starts `volcrypt kms serve --addr 127.0.0.1:0 --data-dir <tmp>` (endpoint and credential
#      file from its JSON "listening" line) and runs
#      `volcrypt bench kms --endpoint ... --credentials ... --connections 32 --duration 10s`
#      into volcrypt/ (summary.txt, result.json, latency.hgrm); stops the server.
#   3. starts `moto_server -H 127.0.0.1 -p <free port>` and runs the same bench into moto/
#      (moto accepts any credential and checks no signature; the bench creates the key with
#      CreateKey there too); stops it.
#   4. summary.md: req/s, p50/p99/p99.9 of both, the ratio volcrypt/moto, the targets
#      (>= 10,000 GenerateDataKey req/s with p99 < 10 ms at 32 connections; >= 20 x moto) as
#      PASS/FAIL, CPU busy % before each run, host info, git commit and the exact commands.
#
# The load generator uses 1 runtime thread (--client-threads); the server gets the rest of the
# machine (its runtime has one worker per core). Run with nothing else heavy running:
#   scripts/bench-kms.sh
# Knobs (environment): BENCH_OP (generate-data-key | decrypt | mixed), BENCH_CONNECTIONS (32),
#   BENCH_DURATION (10s), BENCH_WARMUP (2s), BENCH_CLIENT_THREADS (1), BENCH_QUIET_MAX (seconds
#   to wait for other CPU users to go quiet before each run, 120; 0 = don't wait),
#   BENCH_SKIP_BUILD=1 (use the existing target/release/volcrypt).
# Needs: cargo, python3 (with venv and network access to PyPI for moto the first time).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

OP=${BENCH_OP:-generate-data-key}
CONNS=${BENCH_CONNECTIONS:-32}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-2s}
CLIENT_THREADS=${BENCH_CLIENT_THREADS:-1}
QUIET_MAX=${BENCH_QUIET_MAX:-120}

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT_REL="results/kms-$STAMP"
OUT="$ROOT/$OUT_REL"
SCRATCH="$OUT/scratch" # git-ignored (results/*/scratch*); removed at the end
mkdir -p "$SCRATCH"
LOG="$OUT/bench-kms.log"
CMDS="$OUT/commands.txt"
BIN="$ROOT/target/release/volcrypt"
T0=$(date +%s)

log() { printf '[%s +%4ss] %s\n' "$(date -u +%H:%M:%S)" "$(($(date +%s) - T0))" "$*" | tee -a "$LOG" >&2; }
# Records a command (as run, relative to the repo root) for the summary.
record() { printf '%s\n' "$*" >> "$CMDS"; }

DATA_DIR=""
SERVER_PID=""
MOTO_PID=""
stop_pid() {
    local pid=$1
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    local rc=$?
    stop_pid "$SERVER_PID"
    stop_pid "$MOTO_PID"
    [[ -n "$DATA_DIR" ]] && rm -rf -- "$DATA_DIR"
    rm -rf -- "$SCRATCH"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Percentage of CPU time busy over one second, all CPUs.
cpu_busy() {
    local a b
    read -r -a a < <(head -1 /proc/stat)
    sleep 1
    read -r -a b < <(head -1 /proc/stat)
    python3 -c '
import sys
a = list(map(int, sys.argv[1].split())); b = list(map(int, sys.argv[2].split()))
d = [y - x for x, y in zip(a[:8], b[:8])]
print(round(100.0 * (1 - (d[3] + d[4]) / max(sum(d), 1)), 1))' "${a[*]:1}" "${b[*]:1}"
}

# Waits (up to QUIET_MAX s) for the machine to be quiet (< 15 % busy, the server under test
# being idle); records the last busy % for the section.
quiet() {
    local section=$1 waited=0 busy
    busy=$(cpu_busy)
    while [[ "$QUIET_MAX" -gt 0 ]] && python3 -c "import sys; sys.exit(0 if float('$busy') > 15 else 1)" \
        && [[ $waited -lt $QUIET_MAX ]]; do
        [[ $waited -eq 0 ]] && log "machine busy (${busy}%) before $section; waiting up to ${QUIET_MAX}s"
        sleep 4
        waited=$((waited + 5))
        busy=$(cpu_busy)
    done
    echo "$section $busy" >> "$OUT/cpu-busy.txt"
    log "CPU busy before $section: ${busy}%"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() { # host port timeout_s
    python3 - "$1" "$2" "$3" <<'PY'
import socket, sys, time
host, port, limit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + limit
while time.time() < end:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# Runs a command and writes, as JSON to FILE, the CPU it and SERVER_PID used meanwhile and
# how busy the whole machine was (so contention from other processes shows in the summary).
cat > "$SCRATCH/cpu-of.py" <<'PY'
import json, os, resource, subprocess, sys, time
out, server_pid, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
tck = os.sysconf("SC_CLK_TCK")
def machine():
    f = [int(x) for x in open("/proc/stat").readline().split()[1:9]]
    return sum(f), f[3] + f[4]
def server():
    try:
        f = open(f"/proc/{server_pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / tck
    except OSError:
        return 0.0
(t0, i0), s0, w0 = machine(), server(), time.monotonic()
rc = subprocess.run(cmd).returncode
(t1, i1), s1, w1 = machine(), server(), time.monotonic()
u = resource.getrusage(resource.RUSAGE_CHILDREN)
wall = w1 - w0
busy = (1 - (i1 - i0) / max(t1 - t0, 1)) * os.cpu_count()
srv, cli = (s1 - s0) / wall, (u.ru_utime + u.ru_stime) / wall
json.dump({"wall_s": wall, "server_cores": srv, "client_cores": cli, "machine_busy_cores": busy,
           "other_cores": max(busy - srv - cli, 0.0), "cpus": os.cpu_count()}, open(out, "w"))
sys.exit(rc)
PY

# The bench against ENDPOINT with CREDENTIALS into OUT/NAME (its server is SERVER_PID); its
# exit status is recorded (1 means some requests failed: they are in the report), not fatal.
run_bench() { # name endpoint credentials server_pid
    local name=$1 endpoint=$2 creds=$3 server_pid=$4 rc=0
    local args=(bench kms --endpoint "$endpoint" --credentials "$creds" --op "$OP"
        --connections "$CONNS" --duration "$DURATION" --warmup "$WARMUP"
        --client-threads "$CLIENT_THREADS" --out "$OUT_REL/$name")
    record "target/release/volcrypt ${args[*]}"
    python3 "$SCRATCH/cpu-of.py" "$OUT/$name.cpu.json" "$server_pid" "$BIN" "${args[@]}" \
        > "$SCRATCH/$name.stdout" 2> "$SCRATCH/$name.stderr" || rc=$?
    cat "$SCRATCH/$name.stdout" >> "$LOG"
    if [[ $rc -ne 0 ]]; then
        log "$name bench exited $rc: $(tail -3 "$SCRATCH/$name.stderr")"
        cat "$SCRATCH/$name.stderr" >> "$LOG"
    fi
    echo "$rc" > "$OUT/$name.rc"
    [[ -f "$OUT/$name/summary.txt" ]] && cat "$OUT/$name/summary.txt" >&2
    return 0
}

# 1. build and venv
if [[ "${BENCH_SKIP_BUILD:-0}" != 1 ]]; then
    log "building release"
    record "cargo build --release"
    cargo build --release --quiet 2>> "$LOG"
fi
if [[ ! -x .venv/bin/python ]]; then
    record "python3 -m venv .venv"
    python3 -m venv .venv
fi
record ".venv/bin/python -m pip install -q 'moto[server]'"
.venv/bin/python -m pip install -q --disable-pip-version-check 'moto[server]' >> "$LOG" 2>&1

# 2. volcrypt
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/volcrypt-bench-kms.XXXXXX")
quiet volcrypt
log "starting volcrypt kms serve"
record "target/release/volcrypt kms serve --addr 127.0.0.1:0 --data-dir $DATA_DIR &"
"$BIN" kms serve --addr 127.0.0.1:0 --data-dir "$DATA_DIR" \
    > "$SCRATCH/serve.stdout" 2> "$SCRATCH/serve.stderr" &
SERVER_PID=$!
for _ in $(seq 1 300); do
    grep -q '"listening"' "$SCRATCH/serve.stdout" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SCRATCH/serve.stderr" >&2; log "server exited"; exit 1; }
    sleep 0.1
done
LISTEN=$(grep -m1 '"listening"' "$SCRATCH/serve.stdout") || { log "no listening line"; exit 1; }
read -r ENDPOINT CREDS < <(python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["endpoint"], d["credentials_file"])' "$LISTEN")
case "$ENDPOINT" in http://127.0.0.1:*) ;; *) log "unexpected endpoint $ENDPOINT"; exit 1 ;; esac
log "volcrypt at $ENDPOINT; running the bench ($OP, $CONNS connections, $DURATION after $WARMUP)"
run_bench volcrypt "$ENDPOINT" "$CREDS" "$SERVER_PID"
stop_pid "$SERVER_PID"; SERVER_PID=""

# 3. moto (a dummy credential: moto checks no signature)
PORT=$(free_port)
printf '{"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": "moto-checks-no-signature"}\n' \
    > "$OUT/moto-credentials.json"
quiet moto
log "starting moto_server on 127.0.0.1:$PORT"
record ".venv/bin/moto_server -H 127.0.0.1 -p $PORT &"
.venv/bin/moto_server -H 127.0.0.1 -p "$PORT" > "$SCRATCH/moto.log" 2>&1 &
MOTO_PID=$!
wait_port 127.0.0.1 "$PORT" 60 || { tail -20 "$SCRATCH/moto.log" >&2; log "moto did not start"; exit 1; }
run_bench moto "http://127.0.0.1:$PORT" "$OUT_REL/moto-credentials.json" "$MOTO_PID"
stop_pid "$MOTO_PID"; MOTO_PID=""

# 4. summary
MOTO_VERSION=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null || echo unknown)
record "scripts/bench-kms.sh   # this script; writes results/kms-$STAMP/summary.md"
python3 - "$OUT" "$OP" "$CONNS" "$MOTO_VERSION" <<'PY'
import json, os, platform, subprocess, sys
out, op, conns, moto_version = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return "unknown"

def load(name):
    p = os.path.join(out, name, "result.json")
    rc = open(os.path.join(out, name + ".rc")).read().strip() if os.path.exists(os.path.join(out, name + ".rc")) else "?"
    return (json.load(open(p)) if os.path.exists(p) else None), rc

def pct(r, p):
    for x in r["latency"]["percentiles"]:
        if abs(x["percentile"] - p) < 1e-9:
            return x["value_us"]
    return None

def ms(us):
    return "n/a" if us is None else f"{us / 1000:.2f}"

v, v_rc = load("volcrypt")
m, m_rc = load("moto")
busy = dict(l.split() for l in open(os.path.join(out, "cpu-busy.txt")) if l.strip())
lines = [f"# KMS bench: volcrypt vs moto ({op}, {conns} connections)", ""]
lines += ["| server | req/s | p50 ms | p99 ms | p99.9 ms | max ms | ok requests | errors | reconnects | CPU busy before |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
for name, r, rc in (("volcrypt", v, v_rc), ("moto " + moto_version, m, m_rc)):
    key = name.split()[0]
    if r is None:
        lines.append(f"| {name} | failed (exit {rc}) | | | | | | | | {busy.get(key, '?')}% |")
        continue
    errs = r["error_count"]
    if r["errors"]:
        errs = f"{errs} (" + ", ".join(f"{k}={n}" for k, n in r["errors"].items()) + ")"
    lines.append(f"| {name} | {r['req_per_sec']:.0f} | {ms(pct(r, 50.0))} | {ms(pct(r, 99.0))} | "
                 f"{ms(pct(r, 99.9))} | {ms(r['latency']['max_us'])} | {r['requests']} | {errs} | "
                 f"{r['reconnects']} | {busy.get(key, '?')}% |")
lines.append("")
lines += ["CPU while each bench ran (cores, averaged over warm-up + measurement; the machine has "
          f"{os.cpu_count()}): the server, the load generator, everything else on the machine.", "",
          "| server | server cores | generator cores | other processes' cores | server CPU per request |",
          "|---|---:|---:|---:|---:|"]
for key, r in (("volcrypt", v), ("moto", m)):
    p = os.path.join(out, key + ".cpu.json")
    if not os.path.exists(p):
        continue
    c = json.load(open(p))
    per = f"{c['server_cores'] / r['req_per_sec'] * 1e6:.0f} us" if r and r["req_per_sec"] > 0 else "n/a"
    lines.append(f"| {key} | {c['server_cores']:.2f} | {c['client_cores']:.2f} | {c['other_cores']:.2f} | {per} |")
lines.append("")
ratio = None
if v and m and m["req_per_sec"] > 0:
    ratio = v["req_per_sec"] / m["req_per_sec"]
    lines.append(f"Ratio volcrypt / moto: **{ratio:.1f} x** ({v['req_per_sec']:.0f} / {m['req_per_sec']:.0f} req/s).")
else:
    lines.append("Ratio volcrypt / moto: n/a (a run failed).")
lines += ["", "## Targets", ""]
applies = op == "generate-data-key" and conns == 32
if not applies:
    lines.append("_The targets are defined for generate-data-key at 32 connections; shown for information._")
    lines.append("")
if v:
    p99 = pct(v, 99.0)
    ok = v["req_per_sec"] >= 10000 and p99 is not None and p99 < 10000 and v["error_count"] == 0
    lines.append(f"- {'PASS' if ok else 'FAIL'}: >= 10,000 GenerateDataKey req/s with p99 < 10 ms at 32 connections, "
                 f"no errors (measured {v['req_per_sec']:.0f} req/s, p99 {ms(p99)} ms, {v['error_count']} errors)")
else:
    lines.append("- FAIL: >= 10,000 GenerateDataKey req/s with p99 < 10 ms (the volcrypt run failed)")
if ratio is not None:
    lines.append(f"- {'PASS' if ratio >= 20 else 'FAIL'}: >= 20 x moto (measured {ratio:.1f} x)")
else:
    lines.append("- FAIL: >= 20 x moto (a run failed)")
lines += ["", "## Method", "",
          "- Load generator: `volcrypt bench kms`, tokio with 1 runtime worker thread (`--client-threads`), "
          "one keep-alive HTTP/1.1 connection per task (hyper `client::conn::http1`), requests back to back, "
          "each SigV4-signed afresh like botocore; latency from send to the last body byte, in an hdrhistogram (us). "
          "Only requests completing inside the measured window (after the warm-up) count; any non-200 is an error.",
          "- Both servers run on the same machine as the generator; the server's runtime has one worker per core.",
          "- moto's server (werkzeug) closes the connection after each answer, so the generator reconnects for "
          "every request there (the `reconnects` column); connect time is outside the latency, inside the req/s.",
          "- Per-run details: `volcrypt/summary.txt`, `volcrypt/result.json`, `volcrypt/latency.hgrm` "
          "(HdrHistogram percentile distribution, milliseconds), same under `moto/`.",
          "", "## Host", ""]
cpu = sh("sh", "-c", "lscpu | sed -n 's/^Model name: *//p' | head -1")
mem = sh("sh", "-c", "free -h | awk '/^Mem:/ {print $2}'")
lines += [f"- CPU: {cpu}, {os.cpu_count()} logical CPUs",
          f"- Memory: {mem} total",
          f"- Kernel: {platform.system()} {platform.release()}",
          f"- rustc: {sh('rustc', '--version')}",
          f"- Python: {platform.python_version()}, moto {moto_version}",
          f"- git: {sh('git', 'rev-parse', 'HEAD')}" + (" (work tree has uncommitted changes)" if sh('git', 'status', '--porcelain') not in ("", "unknown") else ""),
          f"- Date: {sh('date', '-u', '+%Y-%m-%dT%H:%M:%SZ')}",
          "", "## Commands", "", "```"]
lines += [l.rstrip("\n") for l in open(os.path.join(out, "commands.txt"))]
lines += ["```", ""]
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines))
print("\n".join(lines))
PY
log "done: $OUT/summary.md"
