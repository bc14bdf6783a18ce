"""HMAC keys (GenerateMac / VerifyMac) and asymmetric keys (Sign / Verify, RSA Encrypt /
Decrypt, GetPublicKey). Signatures and ciphertexts are cross-checked with the `cryptography`
package against the DER SubjectPublicKeyInfo that GetPublicKey returns.

Errors (API reference of each operation):
- an operation the key's KeyUsage does not allow, or an algorithm that does not fit the key's
  KeySpec → `InvalidKeyUsageException` (Sign: "The encryption algorithm or signing algorithm
  specified for the operation is incompatible with the type of key material in the KMS key
  (KeySpec)"), so ECDSA_SHA_384 on an ECC_NIST_P256 key is InvalidKeyUsageException;
- Verify with a signature that does not verify → `KMSInvalidSignatureException` (KMS never
  answers SignatureValid=false); VerifyMac likewise → `KMSInvalidMacException`.
"""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.serialization import load_der_public_key

from kms_helpers import raises_kms, raises_kms_any

MESSAGE = b"volcrypt signs this message"


@pytest.fixture(scope="module")
def sym_key(kms):
    return kms.create_key()["KeyMetadata"]


@pytest.fixture(scope="module")
def hmac_key(kms):
    return kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]


@pytest.fixture(scope="module")
def ecc_key(kms):
    return kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]


@pytest.fixture(scope="module")
def rsa_sign_key(kms):
    return kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]


@pytest.fixture(scope="module")
def rsa_enc_key(kms):
    return kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]


# --- HMAC ----------------------------------------------------------------------------------------


def test_hmac_key_metadata(hmac_key):
    assert hmac_key["KeySpec"] == "HMAC_256"
    assert hmac_key["KeyUsage"] == "GENERATE_VERIFY_MAC"
    assert hmac_key["MacAlgorithms"] == ["HMAC_SHA_256"]
    assert hmac_key["KeyState"] == "Enabled"
    assert "EncryptionAlgorithms" not in hmac_key


def test_generate_and_verify_mac(kms, hmac_key):
    resp = kms.generate_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")
    assert resp["KeyId"] == hmac_key["Arn"]
    assert resp["MacAlgorithm"] == "HMAC_SHA_256"
    mac = resp["Mac"]
    assert len(mac) == 32
    # HMAC is deterministic.
    assert kms.generate_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"] == mac
    assert kms.generate_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE + b"!", MacAlgorithm="HMAC_SHA_256")["Mac"] != mac
    v = kms.verify_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE, Mac=mac, MacAlgorithm="HMAC_SHA_256")
    assert v["MacValid"] is True
    assert v["KeyId"] == hmac_key["Arn"]
    assert v["MacAlgorithm"] == "HMAC_SHA_256"


def test_wrong_mac_is_invalid_mac(kms, hmac_key):
    mac = kms.generate_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"]
    bad = mac[:-1] + bytes([mac[-1] ^ 1])
    with raises_kms("KMSInvalidMacException"):
        kms.verify_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE, Mac=bad, MacAlgorithm="HMAC_SHA_256")
    with raises_kms("KMSInvalidMacException"):
        kms.verify_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE + b"x", Mac=mac, MacAlgorithm="HMAC_SHA_256")


@pytest.mark.parametrize("spec,alg,length", [
    ("HMAC_224", "HMAC_SHA_224", 28),
    ("HMAC_384", "HMAC_SHA_384", 48),
    ("HMAC_512", "HMAC_SHA_512", 64),
])
def test_other_hmac_specs(kms, spec, alg, length):
    key_id = kms.create_key(KeySpec=spec, KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    mac = kms.generate_mac(KeyId=key_id, Message=MESSAGE, MacAlgorithm=alg)["Mac"]
    assert len(mac) == length
    assert kms.verify_mac(KeyId=key_id, Message=MESSAGE, Mac=mac, MacAlgorithm=alg)["MacValid"] is True


def test_hmac_key_usage_errors(kms, hmac_key, sym_key):
    with raises_kms("InvalidKeyUsageException"):
        kms.encrypt(KeyId=hmac_key["KeyId"], Plaintext=b"x")
    with raises_kms("InvalidKeyUsageException"):
        kms.generate_mac(KeyId=hmac_key["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_384")
    with raises_kms("InvalidKeyUsageException"):
        kms.generate_mac(KeyId=sym_key["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")
    with raises_kms("InvalidKeyUsageException"):
        kms.sign(KeyId=hmac_key["KeyId"], Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")


def test_hmac_on_disabled_key(kms):
    key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    with raises_kms("DisabledException"):
        kms.generate_mac(KeyId=key_id, Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")


# --- ECDSA -----------------------------------------------------------------------------------------


def _public_key(kms, key_id):
    return load_der_public_key(kms.get_public_key(KeyId=key_id)["PublicKey"])


def test_ecc_key_metadata(ecc_key):
    assert ecc_key["KeySpec"] == "ECC_NIST_P256"
    assert ecc_key["KeyUsage"] == "SIGN_VERIFY"
    assert ecc_key["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    assert "EncryptionAlgorithms" not in ecc_key


def test_ecdsa_sign_verify_raw(kms, ecc_key):
    resp = kms.sign(KeyId=ecc_key["KeyId"], Message=MESSAGE, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    assert resp["KeyId"] == ecc_key["Arn"]
    assert resp["SigningAlgorithm"] == "ECDSA_SHA_256"
    sig = resp["Signature"]
    v = kms.verify(KeyId=ecc_key["KeyId"], Message=MESSAGE, MessageType="RAW", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")
    assert v["SignatureValid"] is True and v["KeyId"] == ecc_key["Arn"] and v["SigningAlgorithm"] == "ECDSA_SHA_256"
    # DER-encoded ECDSA signature (RFC 3279), verifiable with the public key.
    _public_key(kms, ecc_key["KeyId"]).verify(sig, MESSAGE, ec.ECDSA(hashes.SHA256()))


def test_ecdsa_sign_verify_digest(kms, ecc_key):
    digest = hashlib.sha256(MESSAGE).digest()
    sig = kms.sign(KeyId=ecc_key["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    pub = _public_key(kms, ecc_key["KeyId"])
    pub.verify(sig, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    pub.verify(sig, MESSAGE, ec.ECDSA(hashes.SHA256()))
    # A DIGEST signature verifies as RAW over the original message, and vice versa.
    assert kms.verify(KeyId=ecc_key["KeyId"], Message=MESSAGE, MessageType="RAW", Signature=sig,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    assert kms.verify(KeyId=ecc_key["KeyId"], Message=digest, MessageType="DIGEST", Signature=sig,
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True


def test_digest_of_wrong_length_is_validation_error(kms, ecc_key):
    with raises_kms("ValidationException"):
        kms.sign(KeyId=ecc_key["KeyId"], Message=b"\x01" * 31, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")


def test_bad_signature_is_invalid_signature(kms, ecc_key):
    sig = kms.sign(KeyId=ecc_key["KeyId"], Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    with raises_kms("KMSInvalidSignatureException"):
        kms.verify(KeyId=ecc_key["KeyId"], Message=MESSAGE + b"x", Signature=sig, SigningAlgorithm="ECDSA_SHA_256")
    # A locally made signature under another key.
    foreign = ec.generate_private_key(ec.SECP256R1()).sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    with raises_kms("KMSInvalidSignatureException"):
        kms.verify(KeyId=ecc_key["KeyId"], Message=MESSAGE, Signature=foreign, SigningAlgorithm="ECDSA_SHA_256")


def test_signing_algorithm_incompatible_with_key_spec(kms, ecc_key):
    # Documented as InvalidKeyUsageException (see the module docstring).
    with raises_kms("InvalidKeyUsageException"):
        kms.sign(KeyId=ecc_key["KeyId"], Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_384")
    with raises_kms("InvalidKeyUsageException"):
        kms.sign(KeyId=ecc_key["KeyId"], Message=MESSAGE, SigningAlgorithm="RSASSA_PSS_SHA_256")


def test_sign_and_encrypt_need_the_right_usage(kms, ecc_key, sym_key):
    with raises_kms("InvalidKeyUsageException"):
        kms.sign(KeyId=sym_key["KeyId"], Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")
    with raises_kms("InvalidKeyUsageException"):
        kms.encrypt(KeyId=ecc_key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="SYMMETRIC_DEFAULT")


# --- RSA -----------------------------------------------------------------------------------------


def test_rsa_sign_key_metadata(rsa_sign_key):
    assert rsa_sign_key["KeySpec"] == "RSA_2048"
    assert rsa_sign_key["KeyUsage"] == "SIGN_VERIFY"
    assert set(rsa_sign_key["SigningAlgorithms"]) == {
        "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
        "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
    }


@pytest.mark.parametrize("alg", ["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"])
def test_rsa_sign_verify(kms, rsa_sign_key, alg):
    resp = kms.sign(KeyId=rsa_sign_key["KeyId"], Message=MESSAGE, MessageType="RAW", SigningAlgorithm=alg)
    sig = resp["Signature"]
    assert len(sig) == 256
    assert resp["SigningAlgorithm"] == alg
    assert kms.verify(KeyId=rsa_sign_key["KeyId"], Message=MESSAGE, Signature=sig, SigningAlgorithm=alg)["SignatureValid"] is True
    pub = _public_key(kms, rsa_sign_key["KeyId"])
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048
    if alg.startswith("RSASSA_PSS"):
        # KMS: PSS with MGF1 over the same hash and a salt as long as the digest.
        pad = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    else:
        pad = padding.PKCS1v15()
    pub.verify(sig, MESSAGE, pad, hashes.SHA256())
    with raises_kms("KMSInvalidSignatureException"):
        kms.verify(KeyId=rsa_sign_key["KeyId"], Message=MESSAGE + b"!", Signature=sig, SigningAlgorithm=alg)


def test_rsa_encrypt_key_metadata(rsa_enc_key):
    assert rsa_enc_key["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert set(rsa_enc_key["EncryptionAlgorithms"]) == {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}
    assert "SigningAlgorithms" not in rsa_enc_key


def test_rsa_oaep_sha256_encrypt_decrypt(kms, rsa_enc_key):
    pt = os.urandom(190)  # the documented maximum for RSA_2048 with OAEP-SHA-256
    enc = kms.encrypt(KeyId=rsa_enc_key["KeyId"], Plaintext=pt, EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert enc["KeyId"] == rsa_enc_key["Arn"]
    assert enc["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"
    assert len(enc["CiphertextBlob"]) == 256
    dec = kms.decrypt(CiphertextBlob=enc["CiphertextBlob"], KeyId=rsa_enc_key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert dec["Plaintext"] == pt
    assert dec["KeyId"] == rsa_enc_key["Arn"]
    assert dec["EncryptionAlgorithm"] == "RSAES_OAEP_SHA_256"


def test_rsa_oaep_interop_with_local_encryption(kms, rsa_enc_key):
    # Anyone holding the public key can encrypt; KMS decrypts.
    pub = _public_key(kms, rsa_enc_key["KeyId"])
    for alg, h in (("RSAES_OAEP_SHA_256", hashes.SHA256()), ("RSAES_OAEP_SHA_1", hashes.SHA1())):
        ct = pub.encrypt(b"from outside", padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
        dec = kms.decrypt(CiphertextBlob=ct, KeyId=rsa_enc_key["KeyId"], EncryptionAlgorithm=alg)
        assert dec["Plaintext"] == b"from outside"


def test_rsa_encrypt_with_symmetric_algorithm_is_invalid_key_usage(kms, rsa_enc_key):
    # EncryptionAlgorithm defaults to SYMMETRIC_DEFAULT, which an RSA key does not support.
    with raises_kms("InvalidKeyUsageException"):
        kms.encrypt(KeyId=rsa_enc_key["KeyId"], Plaintext=b"x")
    with raises_kms("InvalidKeyUsageException"):
        kms.encrypt(KeyId=rsa_enc_key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="SYMMETRIC_DEFAULT")


def test_rsa_decrypt_with_the_wrong_algorithm(kms, rsa_enc_key):
    ct = kms.encrypt(KeyId=rsa_enc_key["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]
    with raises_kms("InvalidCiphertextException"):
        kms.decrypt(CiphertextBlob=ct, KeyId=rsa_enc_key["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_1")


# --- GetPublicKey --------------------------------------------------------------------------------


def test_get_public_key_ecc(kms, ecc_key):
    resp = kms.get_public_key(KeyId=ecc_key["KeyId"])
    assert resp["KeyId"] == ecc_key["Arn"]
    assert resp["KeySpec"] == "ECC_NIST_P256"
    assert resp["KeyUsage"] == "SIGN_VERIFY"
    assert resp["SigningAlgorithms"] == ["ECDSA_SHA_256"]
    pub = load_der_public_key(resp["PublicKey"])
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1"


def test_get_public_key_rsa(kms, rsa_enc_key):
    resp = kms.get_public_key(KeyId=rsa_enc_key["Arn"])
    assert resp["KeyId"] == rsa_enc_key["Arn"]
    assert resp["KeySpec"] == "RSA_2048"
    assert resp["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert set(resp["EncryptionAlgorithms"]) == {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}
    pub = load_der_public_key(resp["PublicKey"])
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048


def test_get_public_key_of_symmetric_key(kms, sym_key):
    # GetPublicKey lists both UnsupportedOperationException ("a specified resource is not
    # valid for this operation") and InvalidKeyUsageException ("The KeyUsage value of the KMS
    # key is incompatible with the API operation"); a symmetric key fits both descriptions.
    with raises_kms_any(("UnsupportedOperationException", "InvalidKeyUsageException")):
        kms.get_public_key(KeyId=sym_key["KeyId"])


def test_sign_on_disabled_key(kms):
    key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    with raises_kms("DisabledException"):
        kms.sign(KeyId=key_id, Message=MESSAGE, SigningAlgorithm="ECDSA_SHA_256")
