"""Fixtures of the boto3 conformance suite for `volcrypt kms serve`.

- `volcrypt_bin` (session): runs `cargo build --quiet` once (skipped when VOLCRYPT_BIN names a
  binary or VOLCRYPT_SKIP_BUILD=1), then checks that `volcrypt kms serve --help` exits 0; if it
  does not, every server test fails with one clear message instead of a confusing traceback.
- `kms_server` / `kms` / `kms_nv` (module): one fresh server per test module in a temp data dir,
  an admin boto3 client, and the same client with botocore's parameter validation off (so
  out-of-range values reach the server, whose answer is what we test).
- `server_factory` (function): start servers with their own data dir and options
  (`--day-seconds`, `--task-interval-ms`), for tests where state or timing matters. Every server
  is killed at teardown; `server.restart()` restarts on the same data dir.

The environment is scrubbed of AWS_* and proxy variables at import, so a developer's profile,
region or proxy never changes what the suite sends, and all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kms_helpers import KmsServer

REPO = Path(__file__).resolve().parents[2]

# --- environment isolation (before any boto3 session exists) --------------------------------
for _var in list(os.environ):
    if _var.startswith("AWS_") or _var.lower() in ("http_proxy", "https_proxy", "all_proxy"):
        del os.environ[_var]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def _binary_path() -> Path:
    if os.environ.get("VOLCRYPT_BIN"):
        return Path(os.environ["VOLCRYPT_BIN"]).resolve()
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    if not target.is_absolute():
        target = REPO / target
    return target / "debug" / "volcrypt"


class VolcryptBinary:
    def __init__(self, path: Path, serve_help: str):
        self.path = path
        self.serve_help = serve_help

    def supports(self, flag: str) -> bool:
        return flag in self.serve_help


@pytest.fixture(scope="session")
def volcrypt_bin() -> VolcryptBinary:
    path = _binary_path()
    if not os.environ.get("VOLCRYPT_BIN") and os.environ.get("VOLCRYPT_SKIP_BUILD") != "1":
        cargo = shutil.which("cargo")
        if cargo is None:
            pytest.fail("cargo not found on PATH: cannot build target/debug/volcrypt", pytrace=False)
        build = subprocess.run(
            [cargo, "build", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=3600
        )
        if build.returncode != 0:
            pytest.fail(
                f"`cargo build --quiet` failed (status {build.returncode}); the KMS suite needs "
                f"target/debug/volcrypt:\n{build.stderr[-4000:]}",
                pytrace=False,
            )
    if not path.exists():
        pytest.fail(f"{path} does not exist (set VOLCRYPT_BIN or build with `cargo build`)", pytrace=False)
    probe = subprocess.run(
        [str(path), "kms", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0:
        pytest.fail(
            f"`{path} kms serve --help` exited with status {probe.returncode}: this volcrypt has no "
            f"`kms serve` command yet, so the KMS conformance suite cannot run.\n"
            f"{(probe.stderr or probe.stdout).strip()[:2000]}",
            pytrace=False,
        )
    return VolcryptBinary(path, probe.stdout + probe.stderr)


# --- failure reports carry the server log ----------------------------------------------------


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def _failed(request) -> bool:
    node = request.node
    return any(getattr(getattr(node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))


class ServerFactory:
    def __init__(self, binary: VolcryptBinary, base: Path):
        self.binary = binary
        self.base = base
        self.servers: list[KmsServer] = []

    def __call__(
        self,
        *,
        data_dir: Path | None = None,
        day_seconds: float | None = None,
        task_interval_ms: int | None = None,
        extra_args: list[str] | None = None,
        start: bool = True,
    ) -> KmsServer:
        n = len(self.servers)
        server = KmsServer(
            binary=self.binary.path,
            data_dir=data_dir or (self.base / f"data-{n}"),
            log_dir=self.base / f"logs-{n}",
            day_seconds=day_seconds,
            task_interval_ms=task_interval_ms,
            extra_args=list(extra_args or []),
        )
        self.servers.append(server)
        return server.start() if start else server

    def close(self, print_logs: bool):
        for s in self.servers:
            if print_logs:
                print(s.log_tail())
            s.kill()


@pytest.fixture
def server_factory(volcrypt_bin, tmp_path, request):
    factory = ServerFactory(volcrypt_bin, tmp_path)
    yield factory
    factory.close(print_logs=_failed(request))


@pytest.fixture(scope="module")
def kms_server(volcrypt_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("kms")
    server = KmsServer(binary=volcrypt_bin.path, data_dir=base / "data", log_dir=base / "logs")
    server.start()
    yield server
    server.kill()


@pytest.fixture(autouse=True)
def _module_server_log_on_failure(request):
    # Print the module server's log tail into the report of a failing test that used it.
    yield
    if "kms_server" in request.fixturenames and _failed(request):
        print(request.getfixturevalue("kms_server").log_tail())


@pytest.fixture(scope="module")
def kms(kms_server):
    return kms_server.client()


@pytest.fixture(scope="module")
def kms_nv(kms_server):
    """botocore's client-side parameter validation off: the request reaches the server as is."""
    return kms_server.client(validate=False)


@pytest.fixture
def new_key(kms):
    """Create a symmetric key (extra CreateKey arguments allowed); returns its KeyMetadata."""

    def make(**kwargs):
        return kms.create_key(**kwargs)["KeyMetadata"]

    return make
