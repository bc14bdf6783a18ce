"""No plaintext key material on disk: after GenerateDataKey, Encrypt and GenerateDataKeyPair,
no file under the data dir (SQLite WAL and SHM files included) contains the plaintexts the
server handed out, raw or in base64 or hex; and only `credentials.json` contains the admin
secret. Checked while the server runs (the WAL holds recent writes) and after it stopped."""

from __future__ import annotations

import base64
import os

from kms_helpers import all_files


def _needles(name: str, secret: bytes) -> dict[str, bytes]:
    return {
        f"{name} (raw)": secret,
        f"{name} (base64)": base64.b64encode(secret),
        f"{name} (base64url)": base64.urlsafe_b64encode(secret).rstrip(b"="),
        f"{name} (hex)": secret.hex().encode(),
        f"{name} (HEX)": secret.hex().upper().encode(),
    }


def _scan(root, needles: dict[str, bytes], allowed: dict[str, set[str]] | None = None) -> list[str]:
    hits = []
    files = all_files(root)
    assert files, f"no files under {root}"
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a transient file (journal) vanished between walk and read
            continue
        for what, needle in needles.items():
            if needle in data and path.name not in (allowed or {}).get(what, set()):
                hits.append(f"{what} found in {path.relative_to(root)}")
    return hits


def test_no_plaintext_key_material_or_secret_on_disk(server_factory):
    server = server_factory()
    kms = server.client()
    creds = server.credentials()
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/disk", TargetKeyId=key_id)

    data_key = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"v": "1"})["Plaintext"]
    data_key2 = kms.generate_data_key(KeyId="alias/disk", NumberOfBytes=64)["Plaintext"]
    managed_key = kms.generate_data_key(KeyId="alias/aws/volcrypt", KeySpec="AES_256")["Plaintext"]
    secret = os.urandom(48)
    kms.encrypt(KeyId=key_id, Plaintext=secret)
    pair = kms.generate_data_key_pair(KeyId=key_id, KeyPairSpec="ECC_NIST_P256")["PrivateKeyPlaintext"]
    kms.rotate_key_on_demand(KeyId=key_id)
    kms.encrypt(KeyId=key_id, Plaintext=secret[::-1])
    kms.generate_random(NumberOfBytes=32)

    needles = {}
    for name, value in (("data key", data_key), ("64-byte data key", data_key2), ("managed-key data key", managed_key),
                        ("Encrypt plaintext", secret), ("Encrypt plaintext 2", secret[::-1]),
                        ("data key pair private key", pair)):
        needles |= _needles(name, value)
    needles["admin secret"] = creds["secret_access_key"].encode()
    allowed = {"admin secret": {"credentials.json"}}

    running = _scan(server.data_dir, needles, allowed)
    assert not running, "while running:\n" + "\n".join(running)
    names = {p.name for p in all_files(server.data_dir)}
    assert "credentials.json" in names

    server.stop()
    stopped = _scan(server.data_dir, needles, allowed)
    assert not stopped, "after stop:\n" + "\n".join(stopped)
    # The secret really is in credentials.json (so the scan can find it when it is elsewhere).
    assert creds["secret_access_key"].encode() in (server.data_dir / "credentials.json").read_bytes()
