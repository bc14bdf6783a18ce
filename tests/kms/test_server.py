"""The process contract of `volcrypt kms serve`: the listening line, the generated admin
credential (`DIR/credentials.json`, mode 0600), SIGTERM, and a restart keeping the credential."""

from __future__ import annotations

import json
import os
import stat

from kms_helpers import ACCOUNT_ID, ADMIN_PRINCIPAL, ENDPOINT_RE, REGION


def test_listening_line_is_exactly_the_contract(server_factory):
    server = server_factory()
    info = server.info
    assert set(info) == {"event", "endpoint", "credentials_file", "region", "account_id"}, info
    assert info["event"] == "listening"
    m = ENDPOINT_RE.match(info["endpoint"])
    assert m and 0 < int(m.group(1)) < 65536
    assert os.path.realpath(info["credentials_file"]) == os.path.realpath(server.data_dir / "credentials.json")
    assert info["region"] == REGION
    assert info["account_id"] == ACCOUNT_ID


def test_first_start_generates_admin_credential_0600(server_factory):
    server = server_factory()
    path = server.data_dir / "credentials.json"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    creds = json.loads(path.read_text(encoding="utf-8"))
    assert set(creds) >= {"access_key_id", "secret_access_key", "principal_arn", "account_id"}
    assert creds["principal_arn"] == ADMIN_PRINCIPAL
    assert creds["account_id"] == ACCOUNT_ID
    assert isinstance(creds["access_key_id"], str) and len(creds["access_key_id"]) >= 16
    assert isinstance(creds["secret_access_key"], str) and len(creds["secret_access_key"]) >= 30
    # The credential works.
    assert "Keys" in server.client().list_keys()


def test_restart_keeps_the_credential(server_factory):
    server = server_factory()
    before = (server.data_dir / "credentials.json").read_bytes()
    server.restart()
    assert (server.data_dir / "credentials.json").read_bytes() == before
    assert "Keys" in server.client().list_keys()


def test_two_data_dirs_get_distinct_credentials(server_factory):
    a = server_factory().credentials()
    b = server_factory().credentials()
    assert a["access_key_id"] != b["access_key_id"]
    assert a["secret_access_key"] != b["secret_access_key"]


def test_sigterm_stops_the_server(server_factory):
    server = server_factory()
    proc = server.proc
    server.stop(timeout=10)  # raises if it is still running 10 s after SIGTERM
    assert proc.returncode is not None
