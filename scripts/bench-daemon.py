#!/usr/bin/env python3
"""Daemon benchmark (issue 8): the daemon's cost against the CLI, and four concurrent jobs
against one, measured in one run on the same volumes.

1. CLI vs daemon: an in-place encrypt of the same SIZE volume (a fresh copy of one plaintext
   each time), `volcrypt encrypt --json` and a daemon job (metrics on, as by default), REPS
   times each, the order alternating from rep to rep. Both
   report the engine's data-pass summary (bytes / seconds), so the ratio is like for like;
   wall times (process start to exit; submit to `succeeded`, polled every 10 ms) are shown too.
   Target: daemon >= 95 % of the CLI.
2. Concurrency: one daemon job on one volume, then four at once on four volumes (max_concurrent
   = 4, one shared pool), REPS times each, wall time from the first submit to the last
   `succeeded`. Target: aggregate of four >= 90 % of one.

Usage: scripts/bench-daemon.py [--size 1G] [--reps 3] [--dir /dev/shm/...] [--io pread]
Writes results/daemon-<UTC time>/{summary.md,results.json}. Run on a quiet machine.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "volcrypt")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("volcrypt")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def call(sock, method, path, body=None):
    c = UnixHTTP(sock)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read() or b"null")
    c.close()
    if r.status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {r.status}: {data}")
    return data


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def size_bytes(s):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * units[s[-1]] if s[-1] in units else int(s)


def wait_all(sock, ids):
    done = {}
    while len(done) < len(ids):
        for i in ids:
            if i in done:
                continue
            j = call(sock, "GET", f"/v1/jobs/{i}")
            if j["state"] in ("succeeded", "failed", "cancelled"):
                if j["state"] != "succeeded":
                    raise RuntimeError(f"job {i}: {j['state']}: {j.get('error')}")
                done[i] = (time.monotonic(), j)
        time.sleep(0.01)
    return done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default=os.environ.get("BENCH_SIZE", "1G"))
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "3")))
    ap.add_argument("--dir", default=os.environ.get("BENCH_DIR", "/dev/shm/volcrypt-bench-daemon"))
    ap.add_argument("--io", default=os.environ.get("BENCH_IO", "pread"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    size = size_bytes(a.size)

    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(a.dir)
    key = os.path.join(a.dir, "key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    src = os.path.join(a.dir, "plain")
    with open(src, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
    sock = os.path.join(a.dir, "run", "volcrypt.sock")
    conf = os.path.join(a.dir, "volcrypt.toml")
    with open(conf, "w") as f:
        f.write(f'[daemon]\nsocket = "{sock}"\nmetrics = "127.0.0.1:{free_port()}"\ndata_dir = "{a.dir}/data"\n'
                f'[engine]\nio = "{a.io}"\nthreads = {a.threads}\n[jobs]\nmax_concurrent = 4\n')
    log = open(os.path.join(a.dir, "daemon.log"), "w")
    daemon = subprocess.Popen([BIN, "daemon", "--config", conf, "--log-format", "json"], stderr=log)
    for _ in range(500):
        if os.path.exists(sock):
            break
        time.sleep(0.01)

    def fresh(name):
        p = os.path.join(a.dir, name)
        shutil.copyfile(src, p)
        subprocess.run(["sync"], check=True)
        return p

    cli, dmn, cli_wall, dmn_wall = [], [], [], []
    single, four = [], []
    try:
        def run_cli():
            v = fresh("cli")
            t = time.monotonic()
            out = subprocess.run([BIN, "encrypt", v, "--key-file", key, "--io", a.io,
                                  "--threads", str(a.threads), "--json", "-q"],
                                 check=True, capture_output=True, text=True).stdout
            cli_wall.append(size / (time.monotonic() - t))
            s = json.loads(out)
            cli.append(s["bytes"] / s["elapsed"])
            os.remove(v)

        def run_daemon():
            v = fresh("dmn")
            t = time.monotonic()
            j = call(sock, "POST", "/v1/jobs", {"op": "encrypt", "volume": v, "key_file": key})
            end, rec = wait_all(sock, [j["id"]])[j["id"]]
            dmn_wall.append(size / (end - t))
            single.append(size / (end - t))
            dmn.append(rec["result"]["bytes"] / rec["result"]["elapsed"])
            os.remove(v)

        for rep in range(a.reps):
            # Alternate which side goes first, so order effects cancel out.
            for side in ((run_cli, run_daemon) if rep % 2 == 0 else (run_daemon, run_cli)):
                side()

            vols = [fresh(f"c{i}") for i in range(4)]
            t = time.monotonic()
            ids = [call(sock, "POST", "/v1/jobs", {"op": "encrypt", "volume": p, "key_file": key})["id"]
                   for p in vols]
            done = wait_all(sock, ids)
            four.append(4 * size / (max(e for e, _ in done.values()) - t))
            for p in vols:
                os.remove(p)
            print(f"rep {rep + 1}: cli {cli[-1] / 1e6:.0f} MB/s, daemon {dmn[-1] / 1e6:.0f} MB/s, "
                  f"one job {single[-1] / 1e6:.0f} MB/s, four jobs {four[-1] / 1e6:.0f} MB/s", file=sys.stderr)
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(a.dir, ignore_errors=True)

    # Verdicts use the median of per-rep ratios: each rep measures both sides back to back, so
    # pairing them cancels the drift of a noisy machine; the ratio of medians is shown too.
    med = statistics.median
    r1 = med([d / c for d, c in zip(dmn, cli)])
    r1w = med([d / c for d, c in zip(dmn_wall, cli_wall)])
    r2 = med([f / o for f, o in zip(four, single)])
    r1m = med(dmn) / med(cli)
    r2m = med(four) / med(single)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = os.path.join(ROOT, "results", f"daemon-{stamp}")
    os.makedirs(out_dir)
    res = {"size": size, "reps": a.reps, "io": a.io, "threads": a.threads, "dir": a.dir,
           "cli_bps": cli, "daemon_bps": dmn, "cli_wall_bps": cli_wall, "daemon_wall_bps": dmn_wall,
           "single_job_wall_bps": single, "four_jobs_wall_bps": four,
           "daemon_vs_cli": r1, "daemon_vs_cli_wall": r1w, "four_vs_one": r2,
           "daemon_vs_cli_ratio_of_medians": r1m, "four_vs_one_ratio_of_medians": r2m,
           "git": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                                 capture_output=True, text=True).stdout.strip()}
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(res, f, indent=2)
    verdict = lambda ok: "PASS" if ok else "FAIL"
    md = f"""# Daemon benchmark ({stamp})

`scripts/bench-daemon.py --size {a.size} --reps {a.reps} --dir {a.dir} --io {a.io} --threads {a.threads}`
(git {res['git']}); in-place encrypt, key file, resilience journal; medians of {a.reps} reps.
Ratios are the median of the per-rep ratios (both sides measured back to back in each rep);
the ratio of the medians is in brackets.

| measure | MB/s | ratio | target | verdict |
|---|---|---|---|---|
| CLI `volcrypt encrypt` (data pass) | {med(cli) / 1e6:.0f} | | | |
| daemon job (data pass) | {med(dmn) / 1e6:.0f} | {100 * r1:.1f} % of CLI ({100 * r1m:.1f} %) | >= 95 % | {verdict(r1 >= 0.95)} |
| CLI wall (process) | {med(cli_wall) / 1e6:.0f} | | | |
| daemon wall (submit to succeeded) | {med(dmn_wall) / 1e6:.0f} | {100 * r1w:.1f} % of CLI wall | | |
| one daemon job (wall) | {med(single) / 1e6:.0f} | | | |
| four concurrent jobs, aggregate (wall) | {med(four) / 1e6:.0f} | {100 * r2:.1f} % of one ({100 * r2m:.1f} %) | >= 90 % | {verdict(r2 >= 0.90)} |
"""
    with open(os.path.join(out_dir, "summary.md"), "w") as f:
        f.write(md)
    print(md)
    print(f"written to {out_dir}")


if __name__ == "__main__":
    main()
