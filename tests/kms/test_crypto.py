"""Symmetric cryptography: Encrypt / Decrypt with encryption context, ReEncrypt, data keys,
data key pairs and GenerateRandom, with AWS's limits (Plaintext 1-4096 bytes, NumberOfBytes
1-1024, KeySpec xor NumberOfBytes, at most 10 GrantTokens) and errors (InvalidCiphertext-
Exception without detail, IncorrectKeyException for a KeyId that did not encrypt the blob)."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_private_key,
    load_der_public_key,
)

from kms_helpers import raises_kms


@pytest.fixture(scope="module")
def key(kms):
    return kms.create_key(Description="crypto tests")["KeyMetadata"]


@pytest.fixture(scope="module")
def other_key(kms):
    return kms.create_key(Description="crypto tests, second key")["KeyMetadata"]


CTX = {"volume": "vol-0123", "purpose": "test"}


def test_encrypt_decrypt_round_trip_with_context(kms, key):
    plaintext = os.urandom(100)
    enc = kms.encrypt(KeyId=key["KeyId"], Plaintext=plaintext, EncryptionContext=CTX)
    assert enc["KeyId"] == key["Arn"]
    assert enc["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = enc["CiphertextBlob"]
    assert isinstance(blob, bytes) and len(blob) > len(plaintext)
    assert plaintext not in blob
    # Decrypt needs no KeyId for symmetric blobs; pair order does not matter.
    dec = kms.decrypt(CiphertextBlob=blob, EncryptionContext=dict(reversed(list(CTX.items()))))
    assert dec["Plaintext"] == plaintext
    assert dec["KeyId"] == key["Arn"]
    assert dec["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    # The right KeyId in any form is accepted.
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CTX, KeyId=key["KeyId"])["Plaintext"] == plaintext
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=CTX, KeyId=key["Arn"])["Plaintext"] == plaintext


def test_encryption_is_randomized(kms, key):
    a = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    b = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"same")["CiphertextBlob"]
    assert a != b


def test_decrypt_with_wrong_or_missing_context(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret", EncryptionContext=CTX)["CiphertextBlob"]
    for ctx in ({}, {"volume": "vol-0124", "purpose": "test"}, {"volume": "vol-0123"},
                {**CTX, "extra": "x"}, {"Volume": "vol-0123", "purpose": "test"}):
        with raises_kms("InvalidCiphertextException"):
            if ctx:
                kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
            else:
                kms.decrypt(CiphertextBlob=blob)
    # A blob made without context does not decrypt with one.
    bare = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    with raises_kms("InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=bare, EncryptionContext={"a": "b"})


def test_context_encoding_is_unambiguous(kms, key):
    # {"ab": "c"} and {"a": "bc"} concatenate to the same "abc": they must not be confused.
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret", EncryptionContext={"ab": "c"})["CiphertextBlob"]
    with raises_kms("InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=blob, EncryptionContext={"a": "bc"})
    blob2 = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret", EncryptionContext={"a": "b", "c": "d"})["CiphertextBlob"]
    with raises_kms("InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=blob2, EncryptionContext={"ab": "cd"})
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"ab": "c"})["Plaintext"] == b"secret"


def test_decrypt_with_another_key_id_is_incorrect_key(kms, key, other_key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    with raises_kms("IncorrectKeyException"):
        kms.decrypt(CiphertextBlob=blob, KeyId=other_key["KeyId"])
    with raises_kms("IncorrectKeyException"):
        kms.decrypt(CiphertextBlob=blob, KeyId=other_key["Arn"])


def test_tampered_blob_is_invalid_ciphertext(kms, key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"secret" * 10)["CiphertextBlob"]
    flipped_last = blob[:-1] + bytes([blob[-1] ^ 0x01])
    truncated = blob[:-1]
    for bad in (flipped_last, truncated):
        with raises_kms("InvalidCiphertextException"):
            kms.decrypt(CiphertextBlob=bad)


def test_garbage_blob_is_invalid_ciphertext(kms):
    for bad in (os.urandom(100), b"\x00", b"not a kms ciphertext blob at all, just text" * 3):
        with raises_kms("InvalidCiphertextException"):
            kms.decrypt(CiphertextBlob=bad)


@pytest.mark.parametrize("size", [0, 4097])
def test_plaintext_size_limits(kms_nv, key, size):
    with raises_kms("ValidationException"):
        kms_nv.encrypt(KeyId=key["KeyId"], Plaintext=b"a" * size)


def test_plaintext_size_bounds_accepted(kms, key):
    for size in (1, 4096):
        pt = os.urandom(size)
        blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=pt)["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == pt


def test_ciphertext_size_limit(kms_nv):
    # CiphertextBlob: 1-6144 bytes.
    with raises_kms("ValidationException"):
        kms_nv.decrypt(CiphertextBlob=b"\x01" * 6145)


def test_generate_data_key_aes_256(kms, key):
    resp = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", EncryptionContext=CTX)
    assert len(resp["Plaintext"]) == 32
    assert resp["KeyId"] == key["Arn"]
    assert resp.get("KeyMaterialId") == kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    dec = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CTX)
    assert dec["Plaintext"] == resp["Plaintext"]
    with raises_kms("InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])


def test_generate_data_key_aes_128(kms, key):
    resp = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_128")
    assert len(resp["Plaintext"]) == 16
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == resp["Plaintext"]


@pytest.mark.parametrize("n", [1, 1024])
def test_generate_data_key_number_of_bytes(kms, key, n):
    resp = kms.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=n)
    assert len(resp["Plaintext"]) == n
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == resp["Plaintext"]


def test_generate_data_key_keys_differ(kms, key):
    a = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    b = kms.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256")["Plaintext"]
    assert a != b


def test_generate_data_key_spec_xor_number_of_bytes(kms_nv, key):
    with raises_kms("ValidationException"):
        kms_nv.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", NumberOfBytes=32)
    with raises_kms("ValidationException"):
        kms_nv.generate_data_key(KeyId=key["KeyId"])
    for n in (0, 1025):
        with raises_kms("ValidationException"):
            kms_nv.generate_data_key(KeyId=key["KeyId"], NumberOfBytes=n)


def test_generate_data_key_without_plaintext(kms, key):
    resp = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], KeySpec="AES_256", EncryptionContext=CTX)
    assert "Plaintext" not in resp
    assert resp["KeyId"] == key["Arn"]
    dec = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CTX)
    assert len(dec["Plaintext"]) == 32
    resp = kms.generate_data_key_without_plaintext(KeyId=key["KeyId"], NumberOfBytes=7)
    assert len(kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"]) == 7


def test_re_encrypt_to_another_key(kms, key, other_key):
    pt = b"rewrap me"
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=pt, EncryptionContext={"a": "1"})["CiphertextBlob"]
    resp = kms.re_encrypt(
        CiphertextBlob=blob,
        SourceEncryptionContext={"a": "1"},
        DestinationKeyId=other_key["KeyId"],
        DestinationEncryptionContext={"b": "2"},
    )
    assert resp["SourceKeyId"] == key["Arn"]
    assert resp["KeyId"] == other_key["Arn"]
    assert resp["SourceEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    assert resp["DestinationEncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    new_blob = resp["CiphertextBlob"]
    dec = kms.decrypt(CiphertextBlob=new_blob, EncryptionContext={"b": "2"})
    assert dec["Plaintext"] == pt and dec["KeyId"] == other_key["Arn"]
    with raises_kms("IncorrectKeyException"):
        kms.decrypt(CiphertextBlob=new_blob, EncryptionContext={"b": "2"}, KeyId=key["KeyId"])
    with raises_kms("InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=new_blob, EncryptionContext={"a": "1"})


def test_re_encrypt_errors(kms, key, other_key):
    blob = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x", EncryptionContext={"a": "1"})["CiphertextBlob"]
    with raises_kms("InvalidCiphertextException"):
        kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=other_key["KeyId"])
    with raises_kms("IncorrectKeyException"):
        kms.re_encrypt(CiphertextBlob=blob, SourceEncryptionContext={"a": "1"},
                       SourceKeyId=other_key["KeyId"], DestinationKeyId=other_key["KeyId"])


@pytest.mark.parametrize("n", [1, 1024])
def test_generate_random(kms, n):
    resp = kms.generate_random(NumberOfBytes=n)
    assert len(resp["Plaintext"]) == n
    if n == 1024:
        assert resp["Plaintext"] != kms.generate_random(NumberOfBytes=n)["Plaintext"]


@pytest.mark.parametrize("n", [0, 1025])
def test_generate_random_out_of_range(kms_nv, n):
    with raises_kms("ValidationException"):
        kms_nv.generate_random(NumberOfBytes=n)


def test_eleven_grant_tokens_is_validation_error(kms_nv, key):
    tokens = [f"token-{i}" for i in range(11)]
    with raises_kms("ValidationException"):
        kms_nv.encrypt(KeyId=key["KeyId"], Plaintext=b"x", GrantTokens=tokens)
    with raises_kms("ValidationException"):
        kms_nv.generate_data_key(KeyId=key["KeyId"], KeySpec="AES_256", GrantTokens=tokens)


# --- data key pairs ----------------------------------------------------------------------------


def _spki(public_key) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256"])
def test_generate_data_key_pair(kms, key, spec):
    resp = kms.generate_data_key_pair(KeyId=key["KeyId"], KeyPairSpec=spec, EncryptionContext=CTX)
    assert resp["KeyId"] == key["Arn"]
    assert resp["KeyPairSpec"] == spec
    private = load_der_private_key(resp["PrivateKeyPlaintext"], password=None)  # PKCS#8 DER
    public = load_der_public_key(resp["PublicKey"])  # X.509 SubjectPublicKeyInfo DER
    if spec == "RSA_2048":
        assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
        assert isinstance(public, rsa.RSAPublicKey)
    else:
        assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1"
        assert isinstance(public, ec.EllipticCurvePublicKey)
    assert _spki(private.public_key()) == resp["PublicKey"]
    dec = kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"], EncryptionContext=CTX)
    assert dec["Plaintext"] == resp["PrivateKeyPlaintext"]


@pytest.mark.parametrize("spec", ["RSA_2048", "ECC_NIST_P256"])
def test_generate_data_key_pair_without_plaintext(kms, key, spec):
    resp = kms.generate_data_key_pair_without_plaintext(KeyId=key["KeyId"], KeyPairSpec=spec)
    assert "PrivateKeyPlaintext" not in resp
    assert resp["KeyPairSpec"] == spec and resp["KeyId"] == key["Arn"]
    private_der = kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"])["Plaintext"]
    private = load_der_private_key(private_der, password=None)
    assert _spki(private.public_key()) == resp["PublicKey"]


def test_data_key_ops_need_a_symmetric_encryption_key(kms):
    hmac_key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    with raises_kms("InvalidKeyUsageException"):
        kms.generate_data_key(KeyId=hmac_key, KeySpec="AES_256")
    with raises_kms("InvalidKeyUsageException"):
        kms.generate_data_key_pair(KeyId=hmac_key, KeyPairSpec="ECC_NIST_P256")
