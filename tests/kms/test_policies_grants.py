"""Key policies (GetKeyPolicy, PutKeyPolicy, ListKeyPolicies, policy evaluation) and grants
(CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant).

Grant tests that need a second principal run only when the server takes extra credentials
(`volcrypt kms serve --credentials FILE`); otherwise they are skipped with the reason. The
bookkeeping tests use the admin principal as grantee and retiring principal.
"""

from __future__ import annotations

import json
import secrets
import uuid

import pytest

from kms_helpers import (
    ACCOUNT_ID,
    ROOT_PRINCIPAL,
    make_client,
    raises_kms,
    raises_kms_any,
    to_utc,
)


@pytest.fixture(scope="module")
def admin_arn(kms_server):
    return kms_server.credentials()["principal_arn"]


def _policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Id": "test", "Statement": list(statements)})


def _allow_root():
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": ROOT_PRINCIPAL},
            "Action": "kms:*", "Resource": "*"}


# --- key policies --------------------------------------------------------------------------------


def test_default_key_policy(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    resp = kms.get_key_policy(KeyId=key_id, PolicyName="default")
    assert resp.get("PolicyName", "default") == "default"
    policy = json.loads(resp["Policy"])
    assert policy["Version"] == "2012-10-17"
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]

    def is_root_admin(st):
        principal = st.get("Principal", {})
        aws = principal.get("AWS") if isinstance(principal, dict) else principal
        aws = aws if isinstance(aws, list) else [aws]
        actions = st.get("Action")
        actions = actions if isinstance(actions, list) else [actions]
        return st.get("Effect") == "Allow" and ROOT_PRINCIPAL in aws and "kms:*" in actions and st.get("Resource") == "*"

    assert any(is_root_admin(st) for st in statements), resp["Policy"]
    # PolicyName is optional in current API versions (defaults to "default").
    assert kms.get_key_policy(KeyId=key_id)["Policy"] == resp["Policy"]


def test_put_key_policy_is_stored_byte_for_byte(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    # Odd spacing, key order and an escaped character: returned exactly as given.
    policy = (
        '{\n  "Version" :"2012-10-17",\n\t"Id": "custom-\\u00e9",\n  "Statement":[ {"Sid":"Enable IAM User Permissions",'
        f'"Effect":"Allow","Principal":{{"AWS":"{ROOT_PRINCIPAL}"}},"Action":"kms:*","Resource":"*"}}]\n}}\n'
    )
    json.loads(policy)
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=policy)
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == policy


def test_create_key_with_policy_is_stored_byte_for_byte(kms):
    policy = _policy(_allow_root()) + "  "
    key_id = kms.create_key(Policy=policy)["KeyMetadata"]["KeyId"]
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == policy


def test_list_key_policies(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    resp = kms.list_key_policies(KeyId=key_id)
    assert resp["PolicyNames"] == ["default"]
    assert resp["Truncated"] is False


def test_malformed_policy(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("MalformedPolicyDocumentException"):
        kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy="{ this is not json")
    with raises_kms("MalformedPolicyDocumentException"):
        kms.create_key(Policy="[]")


def test_policy_denying_encrypt_to_the_caller(kms, admin_arn):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"made before")["CiphertextBlob"]
    deny = {"Sid": "NoEncrypt", "Effect": "Deny", "Principal": {"AWS": admin_arn}, "Action": "kms:Encrypt", "Resource": "*"}
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=_policy(_allow_root(), deny))
    with raises_kms("AccessDeniedException"):
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    # Only Encrypt is denied.
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"made before"
    kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    kms.describe_key(KeyId=key_id)
    # The caller may still change the policy back.
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=_policy(_allow_root()))
    kms.encrypt(KeyId=key_id, Plaintext=b"x")


def test_policy_deny_with_wildcard_action(kms, admin_arn):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    deny = {"Effect": "Deny", "Principal": {"AWS": admin_arn}, "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=_policy(_allow_root(), deny))
    with raises_kms("AccessDeniedException"):
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    with raises_kms("AccessDeniedException"):
        kms.generate_data_key_without_plaintext(KeyId=key_id, KeySpec="AES_256")
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    with raises_kms("AccessDeniedException"):
        kms.decrypt(CiphertextBlob=blob)


# --- grants: bookkeeping with the admin principal ------------------------------------------------


def _grants(kms, key_id, **kw):
    out = []
    for page in kms.get_paginator("list_grants").paginate(KeyId=key_id, **kw):
        out += page["Grants"]
    return out


def test_create_list_revoke_grant(kms, admin_arn):
    md = kms.create_key()["KeyMetadata"]
    key_id = md["KeyId"]
    ops = ["Encrypt", "Decrypt", "GenerateDataKey"]
    constraints = {"EncryptionContextSubset": {"dept": "it"}}
    resp = kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, RetiringPrincipal=admin_arn,
                            Operations=ops, Constraints=constraints, Name="g1")
    grant_id, token = resp["GrantId"], resp["GrantToken"]
    assert isinstance(grant_id, str) and grant_id
    assert isinstance(token, str) and token

    grants = _grants(kms, key_id)
    assert [g["GrantId"] for g in grants] == [grant_id]
    g = grants[0]
    assert g["KeyId"] == md["Arn"]
    assert g["Name"] == "g1"
    assert g["GranteePrincipal"] == admin_arn
    assert g["RetiringPrincipal"] == admin_arn
    assert g["IssuingAccount"] == ROOT_PRINCIPAL
    assert sorted(g["Operations"]) == sorted(ops)
    assert g["Constraints"] == constraints
    to_utc(g["CreationDate"])

    # Filters.
    assert [x["GrantId"] for x in kms.list_grants(KeyId=key_id, GrantId=grant_id)["Grants"]] == [grant_id]
    assert [x["GrantId"] for x in kms.list_grants(KeyId=key_id, GranteePrincipal=admin_arn)["Grants"]] == [grant_id]

    # The token is accepted in GrantTokens.
    kms.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"dept": "it"}, GrantTokens=[token])

    kms.revoke_grant(KeyId=key_id, GrantId=grant_id)
    assert _grants(kms, key_id) == []


def test_list_retirable_grants(kms, admin_arn):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    g = kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, RetiringPrincipal=admin_arn, Operations=["Decrypt"])
    other = kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["Decrypt"])  # no retiring principal
    retirable = {x["GrantId"]: x for x in kms.list_retirable_grants(RetiringPrincipal=admin_arn)["Grants"]}
    assert g["GrantId"] in retirable and other["GrantId"] not in retirable
    assert retirable[g["GrantId"]]["RetiringPrincipal"] == admin_arn
    kms.revoke_grant(KeyId=key_id, GrantId=g["GrantId"])
    assert g["GrantId"] not in {x["GrantId"] for x in kms.list_retirable_grants(RetiringPrincipal=admin_arn)["Grants"]}


def test_revoke_unknown_grant(kms):
    # RevokeGrant documents both NotFoundException ("the specified entity or resource could not
    # be found") and InvalidGrantIdException ("the specified GrantId is not valid"); an unknown
    # but well-formed id fits both, so either is accepted.
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms_any(("NotFoundException", "InvalidGrantIdException")):
        kms.revoke_grant(KeyId=key_id, GrantId=secrets.token_hex(32))


def test_retire_grant_by_token_and_by_id(kms, admin_arn):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    g1 = kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, RetiringPrincipal=admin_arn, Operations=["Decrypt"])
    g2 = kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, RetiringPrincipal=admin_arn, Operations=["Encrypt"])
    assert g1["GrantId"] != g2["GrantId"]
    assert {g["GrantId"] for g in _grants(kms, key_id)} == {g1["GrantId"], g2["GrantId"]}
    kms.retire_grant(GrantToken=g1["GrantToken"])
    assert {g["GrantId"] for g in _grants(kms, key_id)} == {g2["GrantId"]}
    kms.retire_grant(KeyId=key_id, GrantId=g2["GrantId"])
    assert _grants(kms, key_id) == []


def test_grant_name_makes_create_grant_idempotent(kms, admin_arn):
    # CreateGrant, Name: retrying with identical parameters returns the same GrantId.
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kw = dict(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["Encrypt"], Name="same-name")
    a = kms.create_grant(**kw)
    b = kms.create_grant(**kw)
    assert a["GrantId"] == b["GrantId"]
    assert len(_grants(kms, key_id)) == 1


def test_list_grants_pagination(kms, admin_arn):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    ids = {kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["Decrypt"])["GrantId"] for _ in range(3)}
    page = kms.list_grants(KeyId=key_id, Limit=1)
    assert len(page["Grants"]) == 1 and page["Truncated"] is True and page["NextMarker"]
    assert {g["GrantId"] for g in _grants(kms, key_id, PaginationConfig={"PageSize": 1})} == ids


def test_create_grant_with_unknown_operation(kms_nv, admin_arn):
    key_id = kms_nv.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("ValidationException"):
        kms_nv.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["Encrypt", "FlyToTheMoon"])


def test_create_grant_for_an_operation_the_key_does_not_support(kms, admin_arn):
    # CreateGrant: "if the grant allows an operation that the KMS key does not support,
    # CreateGrant fails with a ValidationException".
    key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    with raises_kms("ValidationException"):
        kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["Encrypt"])
    kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["GenerateMac", "VerifyMac"])


def test_create_grant_on_unknown_and_disabled_keys(kms, admin_arn):
    with raises_kms("NotFoundException"):
        kms.create_grant(KeyId=str(uuid.uuid4()), GranteePrincipal=admin_arn, Operations=["Encrypt"])
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    # Key-state table: CreateGrant on a Disabled key → [1] "DisabledException: <arn> is
    # disabled." (CreateGrant also lists DisabledException: "the specified KMS key is not
    # enabled").
    with raises_kms("DisabledException"):
        kms.create_grant(KeyId=key_id, GranteePrincipal=admin_arn, Operations=["Encrypt"])


def test_invalid_grant_token(kms):
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    with raises_kms("InvalidGrantTokenException"):
        kms.encrypt(KeyId=key_id, Plaintext=b"x", GrantTokens=["not-a-grant-token"])


# --- grants with a second principal (needs `--credentials FILE`) ---------------------------------

ALICE = f"arn:aws:iam::{ACCOUNT_ID}:user/alice"


@pytest.fixture
def two_principals(volcrypt_bin, server_factory, tmp_path):
    if not volcrypt_bin.supports("--credentials"):
        pytest.skip("`volcrypt kms serve --help` has no --credentials option: second-principal grant tests skipped")
    # Assumed format (not yet defined by the contract): a JSON list of objects shaped like
    # credentials.json.
    alice = {"access_key_id": "AKIA" + secrets.token_hex(8).upper(), "secret_access_key": secrets.token_urlsafe(30),
             "principal_arn": ALICE, "account_id": ACCOUNT_ID}
    path = tmp_path / "extra-credentials.json"
    path.write_text(json.dumps([alice]))
    path.chmod(0o600)
    server = server_factory(extra_args=["--credentials", str(path)])
    admin = server.client()
    alice_client = make_client(server.endpoint, alice["access_key_id"], alice["secret_access_key"])
    return server, admin, alice_client


def test_grant_gives_and_revoke_takes_access(two_principals):
    server, admin, alice = two_principals
    admin_arn = server.credentials()["principal_arn"]
    only_admin = {"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "kms:*", "Resource": "*"}
    key_id = admin.create_key(Policy=_policy(only_admin))["KeyMetadata"]["KeyId"]
    with raises_kms("AccessDeniedException"):
        alice.encrypt(KeyId=key_id, Plaintext=b"x")
    g = admin.create_grant(KeyId=key_id, GranteePrincipal=ALICE, Operations=["Encrypt", "Decrypt"],
                           Constraints={"EncryptionContextSubset": {"team": "a"}})
    blob = alice.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"team": "a"}, GrantTokens=[g["GrantToken"]])["CiphertextBlob"]
    assert alice.decrypt(CiphertextBlob=blob, EncryptionContext={"team": "a"}, GrantTokens=[g["GrantToken"]])["Plaintext"] == b"x"
    # Outside the grant: another operation, or a context that breaks the constraint.
    with raises_kms("AccessDeniedException"):
        alice.generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext={"team": "a"}, GrantTokens=[g["GrantToken"]])
    with raises_kms("AccessDeniedException"):
        alice.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"team": "b"}, GrantTokens=[g["GrantToken"]])
    # The grantee cannot manage the key.
    with raises_kms("AccessDeniedException"):
        alice.disable_key(KeyId=key_id)
    admin.revoke_grant(KeyId=key_id, GrantId=g["GrantId"])
    with raises_kms("AccessDeniedException"):
        alice.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"team": "a"})


def test_retiring_principal_may_retire(two_principals):
    server, admin, alice = two_principals
    admin_arn = server.credentials()["principal_arn"]
    only_admin = {"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "kms:*", "Resource": "*"}
    key_id = admin.create_key(Policy=_policy(only_admin))["KeyMetadata"]["KeyId"]
    g = admin.create_grant(KeyId=key_id, GranteePrincipal=ALICE, RetiringPrincipal=ALICE, Operations=["Encrypt"])
    assert [x["GrantId"] for x in admin.list_grants(KeyId=key_id)["Grants"]] == [g["GrantId"]]
    alice.retire_grant(GrantToken=g["GrantToken"])
    assert admin.list_grants(KeyId=key_id)["Grants"] == []
