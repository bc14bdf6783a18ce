"""Restarting `volcrypt kms serve` on the same data dir keeps everything: keys of every kind
with their metadata and states, aliases, tags, policies, rotation settings and history,
grants, the AWS managed key, and the material to decrypt, verify and check MACs made before."""

from __future__ import annotations

import datetime as dt
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from kms_helpers import ROOT_PRINCIPAL, raises_kms, wait_until

MSG = b"persist me"
POLICY = (
    '{"Version":"2012-10-17","Id":"persisted","Statement":[{"Sid":"root","Effect":"Allow",'
    f'"Principal":{{"AWS":"{ROOT_PRINCIPAL}"}},"Action":"kms:*","Resource":"*"}}]}}'
)

# KeyMetadata members that must survive a restart unchanged (CreationDate compared separately).
STABLE = ["KeyId", "Arn", "AWSAccountId", "Description", "KeyUsage", "KeySpec", "KeyState", "Enabled",
          "KeyManager", "Origin", "EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms",
          "CurrentKeyMaterialId", "DeletionDate", "PendingDeletionWindowInDays"]


def _norm(value):
    """Timestamps to epoch seconds rounded to the millisecond, recursively: a restart may
    re-serialize a stored time with a different number of fractional digits."""
    if isinstance(value, dt.datetime):
        return round(value.timestamp(), 3)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _snapshot_md(md):
    return _norm({k: md.get(k) for k in STABLE} | {"CreationDate": md["CreationDate"]})


def test_everything_survives_a_restart(server_factory):
    server = server_factory()
    kms = server.client()
    admin = server.credentials()["principal_arn"]

    sym = kms.create_key(Description="persisted symmetric", Tags=[{"TagKey": "env", "TagValue": "test"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/persisted", TargetKeyId=sym["KeyId"])
    kms.tag_resource(KeyId=sym["KeyId"], Tags=[{"TagKey": "team", "TagValue": "storage"}])
    kms.put_key_policy(KeyId=sym["KeyId"], PolicyName="default", Policy=POLICY)
    blob_v1 = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"v1", EncryptionContext={"gen": "1"})["CiphertextBlob"]
    dk = kms.generate_data_key(KeyId="alias/persisted", KeySpec="AES_256")
    kms.rotate_key_on_demand(KeyId=sym["KeyId"])
    wait_until(lambda: kms.list_key_rotations(KeyId=sym["KeyId"])["Rotations"], timeout=10, what="rotation")
    kms.enable_key_rotation(KeyId=sym["KeyId"], RotationPeriodInDays=180)
    blob_v2 = kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"v2")["CiphertextBlob"]
    grant = kms.create_grant(KeyId=sym["KeyId"], GranteePrincipal=admin, RetiringPrincipal=admin,
                             Operations=["Encrypt", "Decrypt"], Name="persisted-grant",
                             Constraints={"EncryptionContextEquals": {"gen": "1"}})

    hmac_key = kms.create_key(KeySpec="HMAC_384", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    mac = kms.generate_mac(KeyId=hmac_key["KeyId"], Message=MSG, MacAlgorithm="HMAC_SHA_384")["Mac"]

    ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    sig = kms.sign(KeyId=ecc["KeyId"], Message=MSG, SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    ecc_pub = kms.get_public_key(KeyId=ecc["KeyId"])["PublicKey"]

    rsa_enc = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    rsa_ct = kms.encrypt(KeyId=rsa_enc["KeyId"], Plaintext=b"rsa", EncryptionAlgorithm="RSAES_OAEP_SHA_256")["CiphertextBlob"]

    disabled = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    pending = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=30)

    managed = kms.generate_data_key(KeyId="alias/aws/volcrypt", KeySpec="AES_256")

    key_ids = [sym["KeyId"], hmac_key["KeyId"], ecc["KeyId"], rsa_enc["KeyId"], disabled["KeyId"], pending["KeyId"]]
    before = {k: _snapshot_md(kms.describe_key(KeyId=k)["KeyMetadata"]) for k in key_ids}
    aliases_before = sorted((a["AliasName"], a.get("TargetKeyId")) for a in kms.list_aliases()["Aliases"])
    rotations_before = _norm(kms.list_key_rotations(KeyId=sym["KeyId"])["Rotations"])
    grants_before = _norm(kms.list_grants(KeyId=sym["KeyId"])["Grants"])
    tags_before = sorted((t["TagKey"], t["TagValue"]) for t in kms.list_resource_tags(KeyId=sym["KeyId"])["Tags"])
    status_before = kms.get_key_rotation_status(KeyId=sym["KeyId"])
    all_keys_before = {k["KeyId"] for k in kms.list_keys()["Keys"]}

    server.restart()
    kms = server.client()

    assert {k["KeyId"] for k in kms.list_keys()["Keys"]} == all_keys_before
    for k in key_ids:
        assert _snapshot_md(kms.describe_key(KeyId=k)["KeyMetadata"]) == before[k], k
    assert sorted((a["AliasName"], a.get("TargetKeyId")) for a in kms.list_aliases()["Aliases"]) == aliases_before
    assert _norm(kms.list_key_rotations(KeyId=sym["KeyId"])["Rotations"]) == rotations_before
    assert _norm(kms.list_grants(KeyId=sym["KeyId"])["Grants"]) == grants_before
    assert sorted((t["TagKey"], t["TagValue"]) for t in kms.list_resource_tags(KeyId=sym["KeyId"])["Tags"]) == tags_before
    assert kms.get_key_policy(KeyId=sym["KeyId"], PolicyName="default")["Policy"] == POLICY
    status = kms.get_key_rotation_status(KeyId=sym["KeyId"])
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 180
    assert _norm(status["NextRotationDate"]) == _norm(status_before["NextRotationDate"])

    # Old material: blobs from before and after the rotation, the data key, MAC, signature.
    assert kms.decrypt(CiphertextBlob=blob_v1, EncryptionContext={"gen": "1"})["Plaintext"] == b"v1"
    assert kms.decrypt(CiphertextBlob=blob_v2)["Plaintext"] == b"v2"
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"])["Plaintext"] == dk["Plaintext"]
    assert kms.decrypt(CiphertextBlob=managed["CiphertextBlob"])["Plaintext"] == managed["Plaintext"]
    assert kms.verify_mac(KeyId=hmac_key["KeyId"], Message=MSG, Mac=mac, MacAlgorithm="HMAC_SHA_384")["MacValid"] is True
    assert kms.verify(KeyId=ecc["KeyId"], Message=MSG, Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    assert kms.get_public_key(KeyId=ecc["KeyId"])["PublicKey"] == ecc_pub
    load_der_public_key(ecc_pub).verify(
        kms.sign(KeyId=ecc["KeyId"], Message=hashlib.sha256(MSG).digest(), MessageType="DIGEST",
                 SigningAlgorithm="ECDSA_SHA_256")["Signature"],
        MSG, ec.ECDSA(hashes.SHA256()))
    assert kms.decrypt(CiphertextBlob=rsa_ct, KeyId=rsa_enc["KeyId"], EncryptionAlgorithm="RSAES_OAEP_SHA_256")["Plaintext"] == b"rsa"

    # States still enforced; the grant still works and can still be revoked; the AWS managed
    # key is the same key.
    with raises_kms("DisabledException"):
        kms.encrypt(KeyId=disabled["KeyId"], Plaintext=b"x")
    with raises_kms("KMSInvalidStateException"):
        kms.encrypt(KeyId=pending["KeyId"], Plaintext=b"x")
    kms.encrypt(KeyId=sym["KeyId"], Plaintext=b"x", EncryptionContext={"gen": "1"}, GrantTokens=[grant["GrantToken"]])
    kms.revoke_grant(KeyId=sym["KeyId"], GrantId=grant["GrantId"])
    assert kms.list_grants(KeyId=sym["KeyId"])["Grants"] == []
    assert kms.generate_data_key(KeyId="alias/aws/volcrypt", KeySpec="AES_256")["KeyId"] == managed["KeyId"]
    kms.cancel_key_deletion(KeyId=pending["KeyId"])

    # A second restart keeps what was changed after the first.
    server.restart()
    kms = server.client()
    assert kms.list_grants(KeyId=sym["KeyId"])["Grants"] == []
    assert kms.describe_key(KeyId=pending["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"


def test_restart_during_pending_deletion_still_deletes(server_factory):
    server = server_factory(day_seconds=0.2, task_interval_ms=50)
    kms = server.client()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)  # 1.4 s
    server.restart()
    kms = server.client()

    def gone():
        try:
            kms.describe_key(KeyId=key_id)
        except kms.exceptions.NotFoundException:
            return True
        return False

    wait_until(gone, timeout=15, what="deletion after a restart")
