"""The daemon's metrics endpoint, read by the Prometheus project's own Python parser.

A `target/debug/volcrypt daemon` (built by the cargo tests that scripts/test.sh runs first) is
started with a scratch config; one encrypt and one verify job run through the control socket;
then `GET /metrics` is parsed with `prometheus_client`'s strict OpenMetrics parser (which
rejects malformed exposition) and the families, types and values are checked.
"""

import http.client
import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = ROOT / "target" / "debug" / "volcrypt"
MIB = 1 << 20


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("volcrypt")
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(self.unix_path))


def call(sock, method, path, body=None):
    c = UnixHTTP(sock)
    c.request(method, path, body=None if body is None else json.dumps(body))
    r = c.getresponse()
    data = json.loads(r.read() or b"null")
    c.close()
    return r.status, data


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def daemon(tmp_path):
    assert BINARY.exists(), f"{BINARY} is missing: run cargo test (scripts/test.sh does) first"
    sock = tmp_path / "run" / "volcrypt.sock"
    port = free_port()
    conf = tmp_path / "volcrypt.toml"
    conf.write_text(
        f'[daemon]\nsocket = "{sock}"\nmetrics = "127.0.0.1:{port}"\ndata_dir = "{tmp_path}/data"\n'
        '[engine]\nio = "pread"\nthreads = 2\n'
    )
    log = open(tmp_path / "daemon.log", "w")
    p = subprocess.Popen([str(BINARY), "daemon", "--config", str(conf)], stderr=log)
    for _ in range(600):
        if sock.exists():
            try:
                if call(sock, "GET", "/v1/health")[0] == 200:
                    break
            except OSError:
                pass
        time.sleep(0.05)
    else:
        p.kill()
        pytest.fail("the daemon did not come up: " + (tmp_path / "daemon.log").read_text())
    yield sock, port, tmp_path
    p.terminate()
    assert p.wait(timeout=60) == 0, "SIGTERM exits 0"


def wait(sock, job_id):
    for _ in range(1200):
        status, j = call(sock, "GET", f"/v1/jobs/{job_id}")
        assert status == 200, j
        if j["state"] in ("succeeded", "failed", "cancelled"):
            return j
        time.sleep(0.05)
    pytest.fail(f"job {job_id} did not finish")


def test_metrics_parse_with_the_prometheus_parser(daemon):
    sock, port, tmp = daemon
    key = tmp / "key"
    key.write_bytes(os.urandom(32))
    vol = tmp / "vol"
    vol.write_bytes(os.urandom(3 * MIB))
    for op in ("encrypt", "verify"):
        status, j = call(sock, "POST", "/v1/jobs", {"op": op, "volume": str(vol), "key_file": str(key)})
        assert status == 201, j
        assert wait(sock, j["id"])["state"] == "succeeded"

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        ctype = r.headers["Content-Type"]
        text = r.read().decode()
    assert ctype.startswith("application/openmetrics-text"), ctype
    families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(family, sample_name, **labels):
        return sum(
            s.value
            for s in families[family].samples
            if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    assert families["volcrypt_bytes_processed"].type == "counter"
    assert value("volcrypt_bytes_processed", "volcrypt_bytes_processed_total", op="encrypt") == 3 * MIB
    assert value("volcrypt_bytes_processed", "volcrypt_bytes_processed_total", op="verify") == 3 * MIB
    assert families["volcrypt_stage_duration_seconds"].type == "histogram"
    chunks = value("volcrypt_stage_duration_seconds", "volcrypt_stage_duration_seconds_count",
                   op="encrypt", stage="chunk")
    assert chunks == 3 * MIB // (64 * 1024), "one latency per 64 KiB chunk"
    inf = value("volcrypt_stage_duration_seconds", "volcrypt_stage_duration_seconds_bucket",
                op="encrypt", stage="chunk", le="+Inf")
    assert inf == chunks
    assert families["volcrypt_jobs"].type == "gauge"
    assert value("volcrypt_jobs", "volcrypt_jobs", state="succeeded") == 2
    assert value("volcrypt_jobs", "volcrypt_jobs", state="running") == 0
    started = value("volcrypt_jobs_started", "volcrypt_jobs_started_total", op="encrypt")
    assert started == 1
