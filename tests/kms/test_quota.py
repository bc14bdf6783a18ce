"""The optional request quota of `volcrypt kms serve --request-quota N` (AWS's shared quota for
cryptographic operations): N requests per second per account with a one-second burst; over it,
`ThrottlingException` (HTTP 400) with AWS's message and a request id, which botocore treats as
throttling and retries. Management operations are not counted. `--request-quota 0` throttles
every cryptographic request. Without the flag there is no quota.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from kms_helpers import REGION, raises_kms

THROTTLED = "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."


@pytest.fixture(autouse=True)
def _needs_flag(volcrypt_bin):
    if not volcrypt_bin.supports("--request-quota"):
        pytest.skip("`volcrypt kms serve --help` has no --request-quota option")


def _client(server, access_key=None, secret_key=None, total_max_attempts=1):
    """A client that makes exactly `total_max_attempts` attempts (botocore's
    `retries={"max_attempts": n}` would mean n *retries*); quota tests need every answer."""
    creds = server.credentials()
    session = boto3.session.Session(
        aws_access_key_id=access_key or creds["access_key_id"],
        aws_secret_access_key=secret_key or creds["secret_access_key"],
        region_name=REGION,
    )
    return session.client(
        "kms",
        endpoint_url=server.endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": total_max_attempts}, proxies={}),
    )


def _throttled(e: ClientError) -> bool:
    return e.response["Error"]["Code"] == "ThrottlingException"


def test_over_quota_is_throttling_exception_with_aws_wording(server_factory):
    server = server_factory(extra_args=["--request-quota", "2"])
    kms = _client(server)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]  # not counted: the bucket stays full
    results = []
    for _ in range(20):
        try:
            kms.encrypt(KeyId=key_id, Plaintext=b"x")
            results.append("ok")
        except ClientError as e:
            assert _throttled(e), e.response["Error"]
            results.append("throttled")
            break
    # The burst (2) passes, then the quota bites long before 20 requests.
    assert results[:2] == ["ok", "ok"], results
    assert results[-1] == "throttled", results
    with raises_kms("ThrottlingException", 400, message=THROTTLED) as caught:
        for _ in range(20):
            kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    err = caught.value.response["Error"]
    assert err["Message"] == THROTTLED
    # Management operations are not counted while the bucket is empty.
    for _ in range(10):
        kms.describe_key(KeyId=key_id)
    kms.list_keys()
    # The bucket refills at the rate.
    time.sleep(1.1)
    kms.encrypt(KeyId=key_id, Plaintext=b"x")


def test_quota_zero_throttles_every_cryptographic_operation(server_factory):
    server = server_factory(extra_args=["--request-quota", "0"])
    kms = _client(server)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    mac_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    for call in (
        lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"),
        lambda: kms.decrypt(CiphertextBlob=b"\x01" * 64),
        lambda: kms.generate_data_key(KeyId=key_id, KeySpec="AES_256"),
        lambda: kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256"),
        lambda: kms.re_encrypt(CiphertextBlob=b"\x01" * 64, DestinationKeyId=key_id),
        lambda: kms.generate_random(NumberOfBytes=16),
        lambda: kms.generate_mac(KeyId=mac_id, Message=b"m", MacAlgorithm="HMAC_SHA_256"),
    ):
        with raises_kms("ThrottlingException", 400, message=THROTTLED):
            call()
    # Administration still works.
    kms.describe_key(KeyId=key_id)
    kms.disable_key(KeyId=key_id)
    kms.enable_key(KeyId=key_id)
    # Throttled requests are audited with their error code (read once the server has stopped
    # and flushed its log).
    server.stop()
    out = subprocess.run(
        [str(server.binary), "kms", "audit", "--data-dir", str(server.data_dir), "--json"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout
    events = [e for e in map(json.loads, out.splitlines()) if e["outcome"] == "ThrottlingException"]
    assert {e["operation"] for e in events} >= {"Encrypt", "Decrypt", "GenerateDataKey", "GenerateRandom"}, events


def test_botocore_retries_throttling_then_gives_up(server_factory):
    server = server_factory(extra_args=["--request-quota", "0"])
    key_id = _client(server).create_key()["KeyMetadata"]["KeyId"]
    retrying = _client(server, total_max_attempts=3)
    with pytest.raises(ClientError) as caught:
        retrying.encrypt(KeyId=key_id, Plaintext=b"x")
    assert _throttled(caught.value)
    # botocore classified it as throttling and retried twice before giving up.
    assert caught.value.response["ResponseMetadata"]["RetryAttempts"] == 2


def test_quota_is_per_account(server_factory, tmp_path):
    other = {
        "access_key_id": "AKIA" + secrets.token_hex(8).upper(),
        "secret_access_key": secrets.token_urlsafe(30),
        "principal_arn": "arn:aws:iam::444455556666:user/other",
        "account_id": "444455556666",
    }
    path = tmp_path / "extra-credentials.json"
    path.write_text(json.dumps([other]))
    path.chmod(0o600)
    server = server_factory(extra_args=["--request-quota", "1", "--credentials", str(path)])
    admin = _client(server)
    them = _client(server, other["access_key_id"], other["secret_access_key"])
    admin.generate_random(NumberOfBytes=8)
    with raises_kms("ThrottlingException", 400, message=THROTTLED):
        for _ in range(10):
            admin.generate_random(NumberOfBytes=8)
    # The other account's bucket is untouched by the admin's requests.
    them.generate_random(NumberOfBytes=8)


def test_no_quota_by_default(server_factory):
    kms = _client(server_factory())
    for _ in range(200):
        kms.generate_random(NumberOfBytes=8)
