"""Key rotation: EnableKeyRotation (RotationPeriodInDays 90-2560, default 365),
GetKeyRotationStatus, DisableKeyRotation, RotateKeyOnDemand, ListKeyRotations, old material
kept for Decrypt (Developer Guide, "Rotating AWS KMS keys": "AWS KMS saves all previous
versions of the cryptographic material in perpetuity"), KeyMaterialId / CurrentKeyMaterialId,
UnsupportedOperationException for HMAC and asymmetric keys, and automatic rotation driven by
the server's background task with a scaled day."""

from __future__ import annotations

import datetime as dt

import pytest

from kms_helpers import raises_kms, to_utc, utcnow, wait_until


def _key_ref_ok(value, md):
    # Rotation responses identify the key; the API reference does not pin id vs ARN.
    return value in (md["KeyId"], md["Arn"])


def _rotations(kms, key_id, **kw):
    out = []
    for page in kms.get_paginator("list_key_rotations").paginate(KeyId=key_id, **kw):
        out += page["Rotations"]
    return out


def _current_material(kms, key_id):
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]["CurrentKeyMaterialId"]


def test_enable_rotation_status_and_disable(kms):
    md = kms.create_key()["KeyMetadata"]
    key_id = md["KeyId"]
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is False
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    now = utcnow()
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True
    assert status["RotationPeriodInDays"] == 90
    assert _key_ref_ok(status["KeyId"], md)
    nxt = to_utc(status["NextRotationDate"])
    assert abs((nxt - (now + dt.timedelta(days=90))).total_seconds()) < 2 * 86400, nxt
    kms.disable_key_rotation(KeyId=key_id)
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


def test_enable_rotation_default_period_is_365(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 365


@pytest.mark.parametrize("days", [89, 2561])
def test_rotation_period_out_of_range(kms_nv, days):
    key_id = kms_nv.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("ValidationException"):
        kms_nv.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=days)
    assert kms_nv.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is False


def test_rotate_on_demand_keeps_old_material(kms):
    md = kms.create_key()["KeyMetadata"]
    key_id = md["KeyId"]
    old_material = md["CurrentKeyMaterialId"]
    assert old_material
    old_blob = kms.encrypt(KeyId=key_id, Plaintext=b"before", EncryptionContext={"v": "1"})["CiphertextBlob"]
    old_dk = kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert old_dk["KeyMaterialId"] == old_material
    assert _rotations(kms, key_id) == []

    resp = kms.rotate_key_on_demand(KeyId=key_id)
    assert _key_ref_ok(resp["KeyId"], md)
    # AWS completes on-demand rotation in the background; wait for it.
    rotations = wait_until(lambda: _rotations(kms, key_id), timeout=10, what="the on-demand rotation to be listed")
    assert len(rotations) == 1
    rot = rotations[0]
    assert rot["RotationType"] == "ON_DEMAND"
    assert _key_ref_ok(rot["KeyId"], md)
    assert abs((to_utc(rot["RotationDate"]) - utcnow()).total_seconds()) < 300
    new_material = _current_material(kms, key_id)
    assert new_material != old_material
    assert rot["KeyMaterialId"] == new_material
    assert rot.get("KeyMaterialState", "CURRENT") == "CURRENT"

    # Old blobs still decrypt, and report the material they were made with.
    dec = kms.decrypt(CiphertextBlob=old_blob, EncryptionContext={"v": "1"})
    assert dec["Plaintext"] == b"before"
    assert dec["KeyMaterialId"] == old_material
    assert kms.decrypt(CiphertextBlob=old_dk["CiphertextBlob"])["Plaintext"] == old_dk["Plaintext"]
    # New blobs use the new material.
    new_blob = kms.encrypt(KeyId=key_id, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=new_blob)["KeyMaterialId"] == new_material
    assert kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")["KeyMaterialId"] == new_material

    # ALL_KEY_MATERIAL adds the first material (without rotation date or type).
    everything = _rotations(kms, key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    by_id = {r["KeyMaterialId"]: r for r in everything}
    assert set(by_id) == {old_material, new_material}
    assert "RotationType" not in by_id[old_material]
    assert by_id[old_material].get("KeyMaterialState", "NON_CURRENT") == "NON_CURRENT"


def test_rotation_history_and_reencrypt_across_materials(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blobs = []
    materials = []
    for i in range(3):
        materials.append(_current_material(kms, key_id))
        blobs.append(kms.encrypt(KeyId=key_id, Plaintext=f"gen {i}".encode())["CiphertextBlob"])
        kms.rotate_key_on_demand(KeyId=key_id)
        wait_until(lambda n=i + 1: len(_rotations(kms, key_id)) == n, timeout=10, what=f"rotation {i + 1}")
    assert len(set(materials + [_current_material(kms, key_id)])) == 4
    for i, blob in enumerate(blobs):
        dec = kms.decrypt(CiphertextBlob=blob)
        assert dec["Plaintext"] == f"gen {i}".encode() and dec["KeyMaterialId"] == materials[i]
        # ReEncrypt to the same key moves a blob to the current material.
        re = kms.re_encrypt(CiphertextBlob=blob, DestinationKeyId=key_id)
        assert re.get("SourceKeyMaterialId", materials[i]) == materials[i]
        assert kms.decrypt(CiphertextBlob=re["CiphertextBlob"])["KeyMaterialId"] == _current_material(kms, key_id)
    # Paging over ListKeyRotations.
    page = kms.list_key_rotations(KeyId=key_id, Limit=1)
    assert len(page["Rotations"]) == 1 and page["Truncated"] is True and page["NextMarker"]


@pytest.mark.parametrize("spec,usage", [
    ("HMAC_256", "GENERATE_VERIFY_MAC"),
    ("ECC_NIST_P256", "SIGN_VERIFY"),
    ("RSA_2048", "ENCRYPT_DECRYPT"),
])
def test_rotation_of_hmac_and_asymmetric_keys_is_unsupported(kms, spec, usage):
    key_id = kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]
    with raises_kms("UnsupportedOperationException"):
        kms.enable_key_rotation(KeyId=key_id)
    with raises_kms("UnsupportedOperationException"):
        kms.rotate_key_on_demand(KeyId=key_id)


def test_rotation_on_unknown_key(kms):
    import uuid

    with raises_kms("NotFoundException"):
        kms.rotate_key_on_demand(KeyId=str(uuid.uuid4()))
    with raises_kms("NotFoundException"):
        kms.enable_key_rotation(KeyId=str(uuid.uuid4()))


def test_automatic_rotation_with_scaled_days(server_factory):
    # One "day" is 0.05 s: a 90-day period is 4.5 s.
    server = server_factory(day_seconds=0.05, task_interval_ms=50)
    kms = server.client()
    md = kms.create_key()["KeyMetadata"]
    key_id = md["KeyId"]
    first = md["CurrentKeyMaterialId"]
    still = kms.create_key()["KeyMetadata"]  # rotation never enabled
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"before auto rotation")["CiphertextBlob"]
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    # No assertion on NextRotationDate here: under --day-seconds the contract does not say
    # whether reported dates are wall-clock or the server's scaled clock.
    assert status.get("NextRotationDate")

    rotations = wait_until(
        lambda: [r for r in _rotations(kms, key_id) if r.get("RotationType") == "AUTOMATIC"],
        timeout=30, interval=0.25, what="an automatic rotation (90 days × 0.05 s)",
    )
    assert rotations[0]["KeyMaterialId"] != first
    assert _current_material(kms, key_id) != first
    dec = kms.decrypt(CiphertextBlob=blob)
    assert dec["Plaintext"] == b"before auto rotation" and dec["KeyMaterialId"] == first
    # A key without rotation enabled did not rotate in the same > 4.5 s of background runs.
    assert _rotations(kms, still["KeyId"]) == []
    assert _current_material(kms, still["KeyId"]) == still["CurrentKeyMaterialId"]
