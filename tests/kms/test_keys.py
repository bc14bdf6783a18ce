"""Key lifecycle: CreateKey defaults, DescribeKey by every identifier form, ListKeys paging,
UpdateKeyDescription, Enable/DisableKey, Schedule/CancelKeyDeletion and the key-state errors
(AWS KMS Developer Guide, "Key states of AWS KMS keys"; API reference of each operation)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from kms_helpers import (
    ACCOUNT_ID,
    KEY_ARN_RE,
    KEY_ID_RE,
    alias_arn,
    key_arn,
    raises_kms,
    to_utc,
    utcnow,
    wait_until,
)


def test_create_key_defaults(kms):
    before = utcnow() - dt.timedelta(minutes=5)
    md = kms.create_key()["KeyMetadata"]
    assert KEY_ID_RE.match(md["KeyId"]), md["KeyId"]
    m = KEY_ARN_RE.match(md["Arn"])
    assert m and m.group(1) == md["KeyId"], md["Arn"]
    assert md["AWSAccountId"] == ACCOUNT_ID
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert md["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert md["KeyState"] == "Enabled"
    assert md["Enabled"] is True
    assert md["KeyManager"] == "CUSTOMER"
    assert md["Origin"] == "AWS_KMS"
    assert md["Description"] == ""
    assert md["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert md.get("MultiRegion") is False
    assert "DeletionDate" not in md
    assert before <= to_utc(md["CreationDate"]) <= utcnow() + dt.timedelta(minutes=5)
    assert md.get("CurrentKeyMaterialId"), "symmetric keys report CurrentKeyMaterialId"


def test_create_key_with_description_and_tags(kms):
    md = kms.create_key(Description="volume keys", Tags=[{"TagKey": "team", "TagValue": "storage"}])["KeyMetadata"]
    assert md["Description"] == "volume keys"
    tags = kms.list_resource_tags(KeyId=md["KeyId"])["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "storage"}]


def test_describe_key_by_id_arn_alias_and_alias_arn(kms):
    md = kms.create_key()["KeyMetadata"]
    name = f"alias/describe-{uuid.uuid4().hex[:8]}"
    kms.create_alias(AliasName=name, TargetKeyId=md["KeyId"])
    for ref in (md["KeyId"], md["Arn"], name, alias_arn(name)):
        got = kms.describe_key(KeyId=ref)["KeyMetadata"]
        assert got["KeyId"] == md["KeyId"], ref
        assert got["Arn"] == md["Arn"], ref


def test_describe_unknown_key_is_not_found(kms):
    missing = str(uuid.uuid4())
    with raises_kms("NotFoundException"):
        kms.describe_key(KeyId=missing)
    with raises_kms("NotFoundException"):
        kms.describe_key(KeyId=key_arn(missing))
    with raises_kms("NotFoundException"):
        kms.describe_key(KeyId="alias/no-such-alias")
    with raises_kms("NotFoundException"):
        kms.encrypt(KeyId=missing, Plaintext=b"x")


def test_list_keys_pagination(kms):
    created = {kms.create_key()["KeyMetadata"]["KeyId"] for _ in range(3)}
    first = kms.list_keys(Limit=1)
    assert len(first["Keys"]) == 1
    assert first["Truncated"] is True
    assert first["NextMarker"]
    seen = [first["Keys"][0]]
    marker = first["NextMarker"]
    for _ in range(1000):
        page = kms.list_keys(Limit=1, Marker=marker)
        assert len(page["Keys"]) <= 1
        seen += page["Keys"]
        if not page["Truncated"]:
            assert "NextMarker" not in page
            break
        marker = page["NextMarker"]
    ids = [k["KeyId"] for k in seen]
    assert len(ids) == len(set(ids)), "a key was listed twice across pages"
    assert created <= set(ids)
    for entry in seen:
        assert entry["KeyArn"] == key_arn(entry["KeyId"])
    # The paginator collects the same set.
    paged = [k["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1}) for k in p["Keys"]]
    assert set(paged) == set(ids)
    # No Limit: everything on one page (default 100).
    whole = kms.list_keys()
    assert whole["Truncated"] is False
    assert {k["KeyId"] for k in whole["Keys"]} == set(ids)


def test_list_keys_bad_marker(kms):
    with raises_kms("InvalidMarkerException"):
        kms.list_keys(Marker="not-a-marker-this-server-issued")


def test_update_key_description(kms):
    key_id = kms.create_key(Description="old")["KeyMetadata"]["KeyId"]
    kms.update_key_description(KeyId=key_id, Description="new description")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "new description"


def test_disable_and_enable_key(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and md["Enabled"] is False
    with raises_kms("DisabledException"):
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    with raises_kms("DisabledException"):
        kms.decrypt(CiphertextBlob=blob)
    with raises_kms("DisabledException"):
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    kms.disable_key(KeyId=key_id)  # disabling a disabled key is allowed (key-state table)
    kms.enable_key(KeyId=key_id)
    md = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert md["KeyState"] == "Enabled" and md["Enabled"] is True
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


def test_schedule_and_cancel_key_deletion(kms):
    md = kms.create_key()["KeyMetadata"]
    key_id = md["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    now = utcnow()
    resp = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    assert resp["KeyId"] == md["Arn"]
    assert resp["KeyState"] == "PendingDeletion"
    assert resp["PendingWindowInDays"] == 7
    deletion = to_utc(resp["DeletionDate"])
    assert abs((deletion - (now + dt.timedelta(days=7))).total_seconds()) < 3600, deletion

    got = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert got["KeyState"] == "PendingDeletion"
    assert got["Enabled"] is False
    assert to_utc(got["DeletionDate"]) == deletion
    assert got["PendingDeletionWindowInDays"] == 7

    # Cryptographic operations on a key pending deletion: the key-state table allows
    # "DisabledException: <arn> is pending deletion" or "KMSInvalidStateException: <arn> is
    # pending deletion" ([2] or [3]); this server's contract is KMSInvalidStateException.
    with raises_kms("KMSInvalidStateException"):
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    with raises_kms("KMSInvalidStateException"):
        kms.decrypt(CiphertextBlob=blob)
    with raises_kms("KMSInvalidStateException"):
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    # So are EnableKey, UpdateKeyDescription and a second ScheduleKeyDeletion ([3]).
    with raises_kms("KMSInvalidStateException"):
        kms.enable_key(KeyId=key_id)
    with raises_kms("KMSInvalidStateException"):
        kms.update_key_description(KeyId=key_id, Description="too late")
    with raises_kms("KMSInvalidStateException"):
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    cancel = kms.cancel_key_deletion(KeyId=key_id)
    assert cancel["KeyId"] == md["Arn"]
    got = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert got["KeyState"] == "Disabled"  # CancelKeyDeletion leaves the key Disabled
    assert got["Enabled"] is False
    assert "DeletionDate" not in got
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"


def test_schedule_key_deletion_default_window_is_30_days(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    resp = kms.schedule_key_deletion(KeyId=key_id)
    assert resp["PendingWindowInDays"] == 30
    kms.cancel_key_deletion(KeyId=key_id)


def test_cancel_deletion_of_key_not_pending(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("KMSInvalidStateException"):
        kms.cancel_key_deletion(KeyId=key_id)


@pytest.mark.parametrize("days", [6, 31])
def test_pending_window_out_of_range(kms, days):
    # Documented range 7-30 (ScheduleKeyDeletion, PendingWindowInDays).
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("ValidationException"):
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"


def test_unknown_enum_value_is_validation_error(kms_nv):
    with raises_kms("ValidationException"):
        kms_nv.create_key(KeySpec="AES_512_NOPE")


def test_create_key_usage_incompatible_with_spec(kms):
    # SYMMETRIC_DEFAULT keys are ENCRYPT_DECRYPT only.
    with raises_kms("ValidationException"):
        kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="SIGN_VERIFY")


def test_scheduled_key_is_really_deleted(server_factory):
    # One "day" is 0.05 s here, so a 7-day window ends after 0.35 s; the background task runs
    # every 50 ms.
    server = server_factory(day_seconds=0.05, task_interval_ms=50)
    kms = server.client()
    doomed = kms.create_key()["KeyMetadata"]["KeyId"]
    keeper = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=doomed, Plaintext=b"bye")["CiphertextBlob"]
    kms.schedule_key_deletion(KeyId=doomed, PendingWindowInDays=7)

    def gone():
        try:
            kms.describe_key(KeyId=doomed)
        except kms.exceptions.NotFoundException:
            return True
        return False

    wait_until(gone, timeout=15, what="the key scheduled for deletion to disappear")
    assert doomed not in {k["KeyId"] for k in kms.list_keys()["Keys"]}
    with raises_kms("NotFoundException"):
        kms.cancel_key_deletion(KeyId=doomed)
    # A blob under a deleted key can never be decrypted again (the material is gone). AWS
    # documents no specific error for this; either "the key does not exist" or "this
    # ciphertext cannot be decrypted" is a faithful answer.
    with pytest.raises(kms.exceptions.ClientError) as e:
        kms.decrypt(CiphertextBlob=blob)
    assert e.value.response["Error"]["Code"] in ("NotFoundException", "InvalidCiphertextException")
    # Other keys are untouched.
    assert kms.describe_key(KeyId=keeper)["KeyMetadata"]["KeyState"] == "Enabled"
