"""Offline checks of the suite's own SigV4 helpers against botocore (no server needed).

The auth tests send hand-signed, tampered and back-dated requests. These tests make sure the
helpers produce what they claim before any server is blamed:
- an independent verifier written from the SigV4 spec (`sigv4_verify`) accepts the exact
  request a real boto3 KMS client sends (captured by a `before-send` hook that answers
  locally, so nothing leaves the process), and rejects it with another secret;
- `sign_headers` (botocore's SigV4Auth) produces signatures the verifier accepts, at the real
  time and at a frozen time 10 minutes in the past, with X-Amz-Date set to that time;
- `tamper_body` keeps the length and JSON validity and breaks the signature.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.awsrequest import AWSResponse

from kms_helpers import (
    JSON_CONTENT_TYPE,
    amz_date_of,
    make_client,
    sign_headers,
    sigv4_verify,
    tamper_body,
    utcnow,
)

ENDPOINT = "http://127.0.0.1:9"  # discard port; never contacted, the hook answers first
AK, SK = "AKIDEXAMPLEVOLCRYPT0", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_kw):
        yield self._body


def _capture_one_request(call):
    """Run `call(client)` on a boto3 KMS client whose requests are answered locally with `{}`;
    return the captured AWSPreparedRequest."""
    client = make_client(ENDPOINT, AK, SK)
    captured = []

    def answer(request, **_kw):
        captured.append(request)
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "local-test"}, _Raw(b"{}"))

    client.meta.events.register("before-send.kms", answer)
    call(client)
    assert len(captured) == 1
    return captured[0]


def _headers(req) -> dict[str, str]:
    # Prepared requests hold header values as bytes.
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()}


def _body(req) -> bytes:
    return req.body if isinstance(req.body, bytes) else (req.body or "").encode()


def test_independent_verifier_accepts_what_boto3_sends():
    req = _capture_one_request(lambda c: c.list_keys(Limit=5))
    headers = _headers(req)
    assert headers["X-Amz-Target"] == "TrentService.ListKeys"
    assert headers["Content-Type"] == JSON_CONTENT_TYPE
    ok, why = sigv4_verify("POST", req.url, headers, _body(req), SK)
    assert ok, why
    ok, why = sigv4_verify("POST", req.url, headers, _body(req), SK + "x")
    assert not ok and why == "signature mismatch"


def test_independent_verifier_rejects_tampered_boto3_request():
    req = _capture_one_request(lambda c: c.generate_random(NumberOfBytes=16))
    body = _body(req)
    tampered = tamper_body(body)
    assert len(tampered) == len(body) and tampered != body
    json.loads(tampered)
    ok, why = sigv4_verify("POST", req.url, _headers(req), tampered, SK)
    assert not ok and why == "signature mismatch"


def test_sign_headers_now_verifies_and_tamper_breaks_it():
    body = b'{"Limit": 1}'
    headers = sign_headers(ENDPOINT, "TrentService.ListKeys", body, AK, SK)
    assert abs((amz_date_of(headers) - utcnow()).total_seconds()) < 60
    auth = headers["Authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={AK}/")
    assert "/us-east-1/kms/aws4_request" in auth
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target" in auth
    url = ENDPOINT + "/"
    assert sigv4_verify("POST", url, headers, body, SK) == (True, "ok")
    assert sigv4_verify("POST", url, headers, tamper_body(body), SK) == (False, "signature mismatch")


@pytest.mark.parametrize("minutes", [-10, 10])
def test_sign_headers_at_a_frozen_time(minutes):
    when = utcnow().replace(microsecond=0) + dt.timedelta(minutes=minutes)
    body = b"{}"
    headers = sign_headers(ENDPOINT, "TrentService.ListKeys", body, AK, SK, when=when)
    assert amz_date_of(headers) == when
    # The signature is valid for its own date: a server that rejects it can only do so for
    # the clock skew, which is what the auth test asserts.
    assert sigv4_verify("POST", ENDPOINT + "/", headers, body, SK) == (True, "ok")
    # And botocore's clock is not left patched.
    assert abs((amz_date_of(sign_headers(ENDPOINT, "TrentService.ListKeys", body, AK, SK)) - utcnow()).total_seconds()) < 60


def test_tamper_body_needs_a_digit():
    with pytest.raises(ValueError):
        tamper_body(b"{}")
