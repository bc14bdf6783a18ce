"""Helpers for the boto3 conformance suite of `volcrypt kms serve`.

Everything here talks to 127.0.0.1 only: the server is started on a loopback port, boto3
clients get its `endpoint_url` and no proxies, and the raw-HTTP helpers refuse any other host.

Contents:
- constants of the server contract (account, region, ARN shapes);
- `KmsServer`: start / stop / restart one `volcrypt kms serve` process on a data dir;
- `make_client`: a boto3 `kms` client with retries off (one attempt) that checks every
  response carries `x-amzn-RequestId`;
- `raises_kms`: assert an AWS error code and HTTP status;
- SigV4 helpers for the raw-HTTP auth tests: `sign_headers` (botocore's SigV4Auth, optionally
  at a chosen clock time), `send_raw` (urllib), and `sigv4_verify`, an independent
  verifier written from the SigV4 spec, used by `test_sigv4_helpers.py` to check the signing
  helpers against botocore itself without a server.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import boto3
import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

# --- the server contract ---------------------------------------------------------------------

ACCOUNT_ID = "111122223333"
REGION = "us-east-1"
ADMIN_PRINCIPAL = f"arn:aws:iam::{ACCOUNT_ID}:user/admin"
ROOT_PRINCIPAL = f"arn:aws:iam::{ACCOUNT_ID}:root"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY_ARN_RE = re.compile(rf"^arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/({UUID_RE})$")
KEY_ID_RE = re.compile(rf"^{UUID_RE}$")
ENDPOINT_RE = re.compile(r"^http://127\.0\.0\.1:(\d+)$")
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def key_arn(key_id: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"


def alias_arn(alias_name: str) -> str:
    return f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:{alias_name}"


# --- errors ----------------------------------------------------------------------------------


@contextmanager
def raises_kms(code: str, status: int | tuple[int, ...] = 400, message: str | None = None):
    """Expect a botocore `ClientError` with exactly `code`, an HTTP status in `status`, a
    non-empty request id, and (optionally) `message` as a substring of the error message.
    Yields pytest's ExceptionInfo-like holder: `.value` is the ClientError once the block ends."""
    holder = _Caught()
    try:
        yield holder
    except ClientError as e:  # noqa: PERF203 - one exception per block
        holder.value = e
    else:
        raise AssertionError(f"expected {code}, but the call succeeded")
    err = holder.value.response.get("Error", {})
    meta = holder.value.response.get("ResponseMetadata", {})
    got = err.get("Code")
    assert got == code, f"expected {code}, got {got}: {err.get('Message')!r}"
    statuses = (status,) if isinstance(status, int) else status
    assert meta.get("HTTPStatusCode") in statuses, (
        f"{code}: expected HTTP {status}, got {meta.get('HTTPStatusCode')}"
    )
    assert meta.get("RequestId"), f"{code}: error response without x-amzn-RequestId"
    if message is not None:
        assert message in (err.get("Message") or ""), (
            f"{code}: message {err.get('Message')!r} lacks {message!r}"
        )


@contextmanager
def raises_kms_any(codes: tuple[str, ...], status: int = 400):
    """Expect one of `codes`. Only for cases where AWS's documentation names more than one
    error for the same situation; each use says why in a comment."""
    holder = _Caught()
    try:
        yield holder
    except ClientError as e:
        holder.value = e
    else:
        raise AssertionError(f"expected one of {codes}, but the call succeeded")
    err = holder.value.response.get("Error", {})
    assert err.get("Code") in codes, f"expected one of {codes}, got {err.get('Code')}: {err.get('Message')!r}"
    assert holder.value.response["ResponseMetadata"].get("HTTPStatusCode") == status


class _Caught:
    value: ClientError | None = None


def error_code(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate()` until it returns a truthy value (returned) or `timeout` passes."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ClientError as e:  # keep polling through transient API errors, report the last
            last_exc = e
        if time.monotonic() >= deadline:
            extra = f" (last error: {last_exc})" if last_exc else ""
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what}{extra}")
        time.sleep(interval)


# --- boto3 clients ---------------------------------------------------------------------------


def _check_request_id(http_response, parsed, **_kwargs):
    """after-call hook: every response (success or error) carries `x-amzn-RequestId`, and
    botocore copied it into ResponseMetadata.RequestId."""
    header = http_response.headers.get("x-amzn-RequestId")
    assert header, f"response without x-amzn-RequestId header (HTTP {http_response.status_code})"
    assert parsed.get("ResponseMetadata", {}).get("RequestId") == header


def make_client(
    endpoint: str,
    access_key: str | None,
    secret_key: str | None,
    *,
    region: str = REGION,
    validate: bool = True,
    unsigned: bool = False,
):
    """A boto3 KMS client for the local server: one attempt (no retries), no proxies,
    explicit credentials (never the environment's), loopback endpoint only.

    `validate=False` turns off botocore's client-side parameter checks (it checks `min`
    constraints), so that the server's own validation is what the test sees."""
    assert ENDPOINT_RE.match(endpoint), f"refusing a non-loopback endpoint {endpoint!r}"
    cfg = Config(
        retries={"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=60,
        parameter_validation=validate,
        proxies={},
        signature_version=botocore.UNSIGNED if unsigned else None,
    )
    session = boto3.session.Session(
        aws_access_key_id=None if unsigned else access_key,
        aws_secret_access_key=None if unsigned else secret_key,
        region_name=region,
    )
    client = session.client("kms", endpoint_url=endpoint, config=cfg)
    client.meta.events.register("after-call.kms", _check_request_id)
    return client


# --- the server process ----------------------------------------------------------------------


@dataclass
class KmsServer:
    """One `volcrypt kms serve` process on `data_dir`. `start()` waits for the listening line;
    `restart()` stops it (SIGTERM) and starts it again on the same data dir (a new port)."""

    binary: Path
    data_dir: Path
    log_dir: Path
    day_seconds: float | None = None
    task_interval_ms: int | None = None
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    info: dict | None = None
    starts: int = 0
    _lines: queue.Queue | None = None
    _log_path: Path | None = None

    # -- lifecycle --

    def argv(self) -> list[str]:
        argv = [str(self.binary), "kms", "serve", "--addr", "127.0.0.1:0", "--data-dir", str(self.data_dir)]
        if self.day_seconds is not None:
            argv += ["--day-seconds", repr(float(self.day_seconds))]
        if self.task_interval_ms is not None:
            argv += ["--task-interval-ms", str(int(self.task_interval_ms))]
        return argv + list(self.extra_args)

    def start(self) -> "KmsServer":
        assert self.proc is None, "server already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self._log_path = self.log_dir / f"server-{self.starts}.stderr.log"
        log = open(self._log_path, "wb")  # noqa: SIM115 - kept open by the child
        try:
            self.proc = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()
        self._lines = queue.Queue()
        threading.Thread(target=self._pump_stdout, args=(self.proc, self._lines), daemon=True).start()
        try:
            line = self._lines.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            self.kill()
            raise AssertionError(
                f"`{' '.join(self.argv())}` printed no listening line within {START_TIMEOUT_S:.0f}s\n"
                f"{self.log_tail()}"
            ) from None
        if line is None:
            rc = self.proc.wait(timeout=5)
            self.proc = None
            raise AssertionError(
                f"`{' '.join(self.argv())}` exited with status {rc} before printing its listening line\n"
                f"{self.log_tail()}"
            )
        try:
            info = json.loads(line)
        except ValueError:
            self.kill()
            raise AssertionError(f"the first stdout line is not JSON: {line!r}\n{self.log_tail()}") from None
        self.info = info
        self._check_listening_line(info)
        return self

    @staticmethod
    def _pump_stdout(proc: subprocess.Popen, lines: queue.Queue):
        # Drains stdout for the whole life of the process so a chatty server never blocks on a
        # full pipe; the first line is the listening line, EOF is reported as None.
        for raw in proc.stdout:
            lines.put(raw.decode("utf-8", "replace").rstrip("\r\n"))
        lines.put(None)

    def _check_listening_line(self, info: dict):
        assert info.get("event") == "listening", f"unexpected first line {info!r}"
        for member in ("endpoint", "credentials_file", "region", "account_id"):
            assert member in info, f"listening line lacks {member!r}: {info!r}"
        assert ENDPOINT_RE.match(info["endpoint"]), f"endpoint is not loopback http: {info['endpoint']!r}"

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then wait; SIGKILL if it does not exit in `timeout`. Returns the exit status."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
                raise AssertionError(f"server did not exit within {timeout:.0f}s of SIGTERM\n{self.log_tail()}")
        if proc.stdout:
            proc.stdout.close()
        return proc.returncode

    def kill(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if proc.stdout:
            proc.stdout.close()

    def restart(self) -> "KmsServer":
        self.stop()
        return self.start()

    # -- what it said --

    @property
    def endpoint(self) -> str:
        assert self.info, "server not started"
        return self.info["endpoint"]

    @property
    def credentials_file(self) -> Path:
        return Path(self.info["credentials_file"])

    def credentials(self) -> dict:
        with open(self.credentials_file, encoding="utf-8") as f:
            return json.load(f)

    def client(self, *, validate: bool = True, access_key: str | None = None, secret_key: str | None = None):
        creds = self.credentials()
        return make_client(
            self.endpoint,
            access_key if access_key is not None else creds["access_key_id"],
            secret_key if secret_key is not None else creds["secret_access_key"],
            validate=validate,
        )

    def unsigned_client(self):
        return make_client(self.endpoint, None, None, unsigned=True)

    def log_tail(self, n_bytes: int = 4000) -> str:
        if not self._log_path or not self._log_path.exists():
            return "(no server log)"
        data = self._log_path.read_bytes()[-n_bytes:]
        return f"--- server stderr ({self._log_path}) ---\n" + data.decode("utf-8", "replace")


# --- SigV4 and raw HTTP ----------------------------------------------------------------------


def sign_headers(
    endpoint: str,
    target: str,
    body: bytes,
    access_key: str,
    secret_key: str,
    *,
    region: str = REGION,
    when: _dt.datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, str]:
    """Headers of a KMS JSON request signed with botocore's own SigV4Auth (service `kms`).

    `when` (UTC) freezes the signer's clock: botocore's SigV4Auth.add_auth reads the time
    through `botocore.auth.get_current_datetime`, which is patched for the call, so the
    request carries `X-Amz-Date` = `when` and a signature that is valid for that date."""
    headers = {"Content-Type": JSON_CONTENT_TYPE, "X-Amz-Target": target}
    headers.update(extra_headers or {})
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    signer = botocore.auth.SigV4Auth(Credentials(access_key, secret_key), "kms", region)
    if when is None:
        signer.add_auth(req)
    else:
        naive = when.astimezone(_dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when
        with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
            signer.add_auth(req)
    return {k: v for k, v in req.headers.items()}


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def error_type(self) -> str | None:
        """`__type` as botocore reads it: text after the last `#`, before any `:`."""
        t = self.json().get("__type")
        if t is None:
            return None
        return t.rsplit("#", 1)[-1].split(":", 1)[0]

    @property
    def message(self) -> str:
        j = self.json()
        return j.get("message") or j.get("Message") or ""


def send_raw(endpoint: str, headers: dict[str, str], body: bytes, timeout: float = 30.0) -> RawResponse:
    """POST `body` to `endpoint`/ with exactly `headers` (urllib adds Host, Content-Length,
    Connection and Accept-Encoding, none of them signed by botocore except Host, which urllib
    writes as botocore computed it: `127.0.0.1:PORT`). Loopback only, proxies bypassed."""
    assert ENDPOINT_RE.match(endpoint), f"refusing a non-loopback endpoint {endpoint!r}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with opener.open(req, timeout=timeout) as resp:
            return RawResponse(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as e:
        with e:
            return RawResponse(e.code, dict(e.headers.items()), e.read())


def tamper_body(body: bytes) -> bytes:
    """The same JSON with one digit changed: same length, still valid JSON, different hash."""
    for i, c in enumerate(body):
        if 0x30 <= c <= 0x39:
            return body[:i] + bytes([0x30 + (c - 0x30 + 1) % 10]) + body[i + 1 :]
    raise ValueError("body has no digit to tamper with")


_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<ak>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<sig>[0-9a-f]{64})$"
)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sigv4_verify(method: str, url: str, headers: dict[str, str], body: bytes, secret_key: str) -> tuple[bool, str]:
    """An independent SigV4 verifier, written from the AWS spec (not from botocore), for
    requests with path `/` and no query string, as KMS's JSON protocol sends them. Returns
    (valid, reason). Checks the signature only, not clock skew."""
    lower = {
        k.lower(): (v.decode("utf-8") if isinstance(v, bytes) else v) for k, v in headers.items()
    }
    m = _AUTH_RE.match(lower.get("authorization", ""))
    if not m:
        return False, "no or malformed Authorization header"
    amz_date = lower.get("x-amz-date", "")
    if amz_date[:8] != m["date"]:
        return False, "credential scope date differs from X-Amz-Date"
    parsed = urllib.parse.urlsplit(url)
    if "host" not in lower:
        lower["host"] = parsed.netloc
    signed = m["signed"].split(";")
    if "host" not in signed:
        return False, "host is not signed"
    try:
        canonical_headers = "".join(f"{h}:{' '.join(lower[h].strip().split())}\n" for h in signed)
    except KeyError as e:
        return False, f"signed header {e} missing"
    canonical = "\n".join(
        [method, parsed.path or "/", parsed.query, canonical_headers, m["signed"], hashlib.sha256(body).hexdigest()]
    )
    scope = f"{m['date']}/{m['region']}/{m['service']}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()]
    )
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), m["date"])
    k = _hmac(k, m["region"])
    k = _hmac(k, m["service"])
    k = _hmac(k, "aws4_request")
    expected = hmac.new(k, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, m["sig"]):
        return False, "signature mismatch"
    return True, "ok"


def amz_date_of(headers: dict[str, str]) -> _dt.datetime:
    for k, v in headers.items():
        if k.lower() == "x-amz-date":
            return _dt.datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.timezone.utc)
    raise KeyError("X-Amz-Date")


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


# --- misc ------------------------------------------------------------------------------------


def to_utc(ts) -> _dt.datetime:
    """botocore parses timestamps to aware datetimes (tzlocal/tzutc); normalise to UTC."""
    assert isinstance(ts, _dt.datetime), f"not a timestamp: {ts!r}"
    return ts.astimezone(_dt.timezone.utc)


def all_files(root: Path) -> list[Path]:
    out = []
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            out.append(Path(dirpath) / name)
    return out
