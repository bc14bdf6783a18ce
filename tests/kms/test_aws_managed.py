"""The AWS managed key `alias/aws/volcrypt`, created on first use.

Sources for the refusals (AWS KMS Developer Guide, "AWS managed keys" and "Key policies for
AWS managed keys"): customers "cannot change any properties of AWS managed keys, rotate them,
change their key policies, or schedule them for deletion". The refusal comes from the key
policy of every AWS managed key, which allows the account's principals only `kms:Describe*`,
`kms:Get*`, `kms:List*` and `kms:RevokeGrant` (plus use through the owning service), so
DisableKey, ScheduleKeyDeletion, PutKeyPolicy, RotateKeyOnDemand and the like fail
authorization with `AccessDeniedException` (HTTP 400 from the JSON front end), not with a KMS-
specific exception. Aliases under `alias/aws/` are reserved: CreateAlias answers
`InvalidAliasNameException` (CreateAlias API reference). AWS managed keys rotate automatically
every year (Developer Guide, "Rotating AWS KMS keys"), so GetKeyRotationStatus reports
rotation enabled.
"""

from __future__ import annotations

import json

import pytest

from kms_helpers import ACCOUNT_ID, alias_arn, raises_kms

ALIAS = "alias/aws/volcrypt"


@pytest.fixture(scope="module")
def managed(kms):
    resp = kms.generate_data_key(KeyId=ALIAS, KeySpec="AES_256", EncryptionContext={"vol": "1"})
    md = kms.describe_key(KeyId=ALIAS)["KeyMetadata"]
    return resp, md


def test_first_use_creates_the_aws_managed_key(kms, managed):
    resp, md = managed
    assert md["KeyManager"] == "AWS"
    assert md["KeyState"] == "Enabled"
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT" and md["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert md["AWSAccountId"] == ACCOUNT_ID
    assert resp["KeyId"] == md["Arn"]
    assert len(resp["Plaintext"]) == 32
    dec = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext={"vol": "1"})
    assert dec["Plaintext"] == resp["Plaintext"] and dec["KeyId"] == md["Arn"]
    # Second use: the same key.
    again = kms.generate_data_key(KeyId=ALIAS, KeySpec="AES_256")
    assert again["KeyId"] == md["Arn"]
    # By alias ARN too.
    assert kms.describe_key(KeyId=alias_arn(ALIAS))["KeyMetadata"]["KeyId"] == md["KeyId"]


def test_listed_with_its_alias(kms, managed):
    _, md = managed
    entry = next(a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == ALIAS)
    assert entry["TargetKeyId"] == md["KeyId"]
    assert entry["AliasArn"] == alias_arn(ALIAS)
    assert md["KeyId"] in {k["KeyId"] for k in kms.list_keys()["Keys"]}


def test_list_aliases_filtered_by_the_managed_key(kms, managed):
    # kms:ListAliases is authorized by IAM policy only (ListAliases API reference: "Required
    # permissions: kms:ListAliases (IAM policy)"), and the managed key's policy allows kms:List*.
    _, md = managed
    names = [a["AliasName"] for a in kms.list_aliases(KeyId=md["KeyId"])["Aliases"]]
    assert names == [ALIAS]


def test_admin_actions_are_refused(kms, managed):
    _, md = managed
    key_id = md["KeyId"]
    with raises_kms("AccessDeniedException"):
        kms.disable_key(KeyId=key_id)
    with raises_kms("AccessDeniedException"):
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    policy = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*"}],
    })
    with raises_kms("AccessDeniedException"):
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy)
    with raises_kms("AccessDeniedException"):
        kms.rotate_key_on_demand(KeyId=key_id)
    with raises_kms("AccessDeniedException"):
        kms.update_key_description(KeyId=key_id, Description="mine now")
    with raises_kms("AccessDeniedException"):
        kms.disable_key_rotation(KeyId=key_id)
    # Nothing changed.
    after = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert after["KeyState"] == "Enabled" and after["Description"] == md["Description"]


# Reads: the AWS managed key policy's second statement ("Allow direct access to key metadata
# to the account") allows kms:Describe*, kms:Get* and kms:List* to the account root.


def test_get_key_policy_is_allowed(kms, managed):
    _, md = managed
    policy = json.loads(kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"])
    assert "Statement" in policy


def test_list_key_policies_is_allowed(kms, managed):
    _, md = managed
    assert kms.list_key_policies(KeyId=md["KeyId"])["PolicyNames"] == ["default"]


def test_rotation_status_is_enabled(kms, managed):
    _, md = managed
    assert kms.get_key_rotation_status(KeyId=md["KeyId"])["KeyRotationEnabled"] is True


def test_alias_aws_prefix_is_reserved_for_create_alias(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("InvalidAliasNameException"):
        kms.create_alias(AliasName="alias/aws/volcrypt-mine", TargetKeyId=key_id)
