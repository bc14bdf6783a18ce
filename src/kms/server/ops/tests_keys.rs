//! Tests of the key operations through a real [`Kms`] on a temporary data dir, and the
//! harness the alias and tag tests share.

use serde_json::{json, Value};

use super::keys::delete_key;
use crate::kms::server::registry::{Alias, Grant};
use crate::kms::server::sigv4::Principal;
use crate::kms::server::{Caller, Kms, ServerConfig};
use crate::kms::wire::{ErrorCode, KmsError, Operation};

/// A service on a temporary data dir and an admin caller.
pub(super) struct Harness {
    pub kms: Kms,
    pub caller: Caller,
    _dir: Option<tempfile::TempDir>,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Harness::with_config(ServerConfig::new(dir.path()));
        h._dir = Some(dir);
        h
    }

    /// A service on `config`'s data dir (which the caller keeps).
    pub fn with_config(config: ServerConfig) -> Self {
        let (kms, _) = Kms::open(config).unwrap();
        let caller = Caller {
            principal: Principal {
                arn: "arn:aws:iam::111122223333:user/admin".into(),
                account_id: "111122223333".into(),
                access_key_id: "AKIATEST".into(),
                region: "us-east-1".into(),
            },
            source: "127.0.0.1".into(),
            request_id: "test".into(),
        };
        Harness {
            kms,
            caller,
            _dir: None,
        }
    }

    pub fn call(&self, op: Operation, body: Value) -> Result<Value, KmsError> {
        let raw = self
            .kms
            .handle(&self.caller, op, body.to_string().as_bytes())?;
        Ok(serde_json::from_slice(&raw).unwrap())
    }

    pub fn ok(&self, op: Operation, body: Value) -> Value {
        self.call(op, body.clone())
            .unwrap_or_else(|e| panic!("{op:?} {body}: {e:?}"))
    }

    pub fn err(&self, op: Operation, body: Value) -> KmsError {
        match self.call(op, body.clone()) {
            Ok(v) => panic!("{op:?} {body} succeeded: {v}"),
            Err(e) => e,
        }
    }

    pub fn code(&self, op: Operation, body: Value) -> ErrorCode {
        self.err(op, body).code
    }

    /// Creates a key; returns its metadata.
    pub fn create(&self, body: Value) -> Value {
        self.ok(Operation::CreateKey, body)["KeyMetadata"].clone()
    }

    /// Creates a symmetric key; returns its id.
    pub fn key(&self) -> String {
        self.create(json!({}))["KeyId"].as_str().unwrap().to_owned()
    }

    pub fn describe(&self, key: &str) -> Value {
        self.ok(Operation::DescribeKey, json!({"KeyId": key}))["KeyMetadata"].clone()
    }
}

#[test]
fn create_key_defaults() {
    let h = Harness::new();
    let m = h.create(json!({}));
    let id = m["KeyId"].as_str().unwrap();
    assert_eq!(
        m["Arn"],
        format!("arn:aws:kms:us-east-1:111122223333:key/{id}")
    );
    assert_eq!(m["AWSAccountId"], "111122223333");
    assert_eq!(m["KeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["CustomerMasterKeySpec"], "SYMMETRIC_DEFAULT");
    assert_eq!(m["KeyUsage"], "ENCRYPT_DECRYPT");
    assert_eq!(m["KeyState"], "Enabled");
    assert_eq!(m["Enabled"], true);
    assert_eq!(m["Origin"], "AWS_KMS");
    assert_eq!(m["KeyManager"], "CUSTOMER");
    assert_eq!(m["MultiRegion"], false);
    assert_eq!(m["Description"], "");
    assert_eq!(m["EncryptionAlgorithms"], json!(["SYMMETRIC_DEFAULT"]));
    assert!(m.get("SigningAlgorithms").is_none());
    assert!(m.get("MacAlgorithms").is_none());
    assert!(m.get("DeletionDate").is_none());
    assert_eq!(m["CurrentKeyMaterialId"].as_str().unwrap().len(), 64);
    assert!(m["CreationDate"].as_f64().unwrap() > 1.6e9);
    let policy = h.kms.registry.read(|s| s.key(id).unwrap().policy.clone());
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(
        policy["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    let given = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}]}"#;
    let m2 = h.create(json!({"Policy": given}));
    let stored = h
        .kms
        .registry
        .read(|s| s.key(m2["KeyId"].as_str().unwrap()).unwrap().policy.clone());
    assert_eq!(stored, given);
    assert_eq!(h.describe(id), m);
}

#[test]
fn create_key_specs_and_usages() {
    let h = Harness::new();
    let m = h.create(json!({"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"}));
    assert_eq!(m["MacAlgorithms"], json!(["HMAC_SHA_256"]));
    assert!(m.get("EncryptionAlgorithms").is_none());
    assert!(m.get("CurrentKeyMaterialId").is_none());
    let m = h.create(json!({"CustomerMasterKeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}));
    assert_eq!(m["KeySpec"], "ECC_NIST_P256");
    assert_eq!(m["SigningAlgorithms"], json!(["ECDSA_SHA_256"]));
    let m = h.create(json!({"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT",
        "Description": "rsa", "Tags": [{"TagKey": "a", "TagValue": ""}]}));
    assert_eq!(
        m["EncryptionAlgorithms"],
        json!(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"])
    );
    assert_eq!(m["Description"], "rsa");
    let id = m["KeyId"].as_str().unwrap();
    let tags = h.ok(Operation::ListResourceTags, json!({"KeyId": id}));
    assert_eq!(tags["Tags"], json!([{"TagKey": "a", "TagValue": ""}]));
}

#[test]
fn create_key_errors() {
    let h = Harness::new();
    let cases = [
        (json!({"KeySpec": "HMAC_256"}), ErrorCode::Validation),
        (
            json!({"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "SIGN_VERIFY"}),
            ErrorCode::Validation,
        ),
        (json!({"KeySpec": "NOPE"}), ErrorCode::Validation),
        (
            json!({"KeySpec": "RSA_2048", "CustomerMasterKeySpec": "RSA_2048",
            "KeyUsage": "SIGN_VERIFY"}),
            ErrorCode::Validation,
        ),
        (
            json!({"Origin": "EXTERNAL"}),
            ErrorCode::UnsupportedOperation,
        ),
        (
            json!({"MultiRegion": true}),
            ErrorCode::UnsupportedOperation,
        ),
        (
            json!({"CustomKeyStoreId": "cks-1"}),
            ErrorCode::UnsupportedOperation,
        ),
        (
            json!({"Policy": "not json"}),
            ErrorCode::MalformedPolicyDocument,
        ),
        (json!({"Policy": "[1]"}), ErrorCode::MalformedPolicyDocument),
        (json!({"Policy": ""}), ErrorCode::Validation),
        (
            json!({"Description": "x".repeat(8193)}),
            ErrorCode::Validation,
        ),
        (
            json!({"Tags": [{"TagKey": "aws:x", "TagValue": "v"}]}),
            ErrorCode::Tag,
        ),
        (
            json!({"Tags": [{"TagKey": "AWS:x", "TagValue": "v"}]}),
            ErrorCode::Tag,
        ),
        (
            json!({"Tags": [{"TagKey": "k", "TagValue": "v"}, {"TagKey": "k", "TagValue": "w"}]}),
            ErrorCode::Tag,
        ),
        (
            json!({"Tags": [{"TagKey": "", "TagValue": "v"}]}),
            ErrorCode::Validation,
        ),
        (
            json!({"Tags": [{"TagKey": "k".repeat(129), "TagValue": "v"}]}),
            ErrorCode::Validation,
        ),
        (
            json!({"Tags": [{"TagKey": "k", "TagValue": "v".repeat(257)}]}),
            ErrorCode::Validation,
        ),
        (json!({"Tags": [{"TagKey": "k"}]}), ErrorCode::Validation),
    ];
    for (body, code) in cases {
        assert_eq!(h.code(Operation::CreateKey, body.clone()), code, "{body}");
    }
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"TagKey": format!("k{i}"), "TagValue": "v"}))
        .collect();
    assert_eq!(
        h.code(Operation::CreateKey, json!({"Tags": many})),
        ErrorCode::Tag
    );
    let e = h.err(
        Operation::CreateKey,
        json!({"Tags": [{"TagKey": "aws:x", "TagValue": ""}]}),
    );
    assert_eq!(e.message, "Tags beginning with aws: are reserved");
    let listed = h.ok(Operation::ListKeys, json!({}));
    assert_eq!(
        listed["Keys"],
        json!([]),
        "no key was created by a failed request"
    );
}

#[test]
fn describe_key_by_every_identifier_and_errors() {
    let h = Harness::new();
    let id = h.key();
    let arn = h.describe(&id)["Arn"].as_str().unwrap().to_owned();
    h.ok(
        Operation::CreateAlias,
        json!({"AliasName": "alias/d", "TargetKeyId": id}),
    );
    for k in [
        id.clone(),
        arn.clone(),
        "alias/d".into(),
        "arn:aws:kms:us-east-1:111122223333:alias/d".into(),
    ] {
        assert_eq!(h.describe(&k)["KeyId"], id.as_str());
    }
    let missing = "11111111-2222-3333-4444-555555555555";
    let e = h.err(Operation::DescribeKey, json!({"KeyId": missing}));
    assert_eq!(e.code, ErrorCode::NotFound);
    assert_eq!(
        h.code(Operation::DescribeKey, json!({"KeyId": "alias/none"})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.code(Operation::DescribeKey, json!({"KeyId": ""})),
        ErrorCode::Validation
    );
    assert_eq!(
        h.code(Operation::DescribeKey, json!({})),
        ErrorCode::Validation
    );
    let tokens: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    assert_eq!(
        h.code(
            Operation::DescribeKey,
            json!({"KeyId": id, "GrantTokens": tokens})
        ),
        ErrorCode::Validation
    );
}

#[test]
fn describe_key_creates_the_managed_key() {
    let h = Harness::new();
    let m = h.describe("alias/aws/volcrypt");
    assert_eq!(m["KeyManager"], "AWS");
    assert_eq!(h.describe("alias/aws/volcrypt")["KeyId"], m["KeyId"]);
    let id = m["KeyId"].as_str().unwrap();
    for op in [
        Operation::DisableKey,
        Operation::EnableKey,
        Operation::ScheduleKeyDeletion,
    ] {
        assert_eq!(
            h.code(op, json!({"KeyId": id})),
            ErrorCode::AccessDenied,
            "{op:?}"
        );
    }
    let body = json!({"KeyId": id, "Description": "x"});
    assert_eq!(
        h.code(Operation::UpdateKeyDescription, body),
        ErrorCode::AccessDenied
    );
}

#[test]
fn list_keys_pages_in_creation_order() {
    let h = Harness::new();
    let ids: Vec<String> = (0..5).map(|_| h.key()).collect();
    let all = h.ok(Operation::ListKeys, json!({}));
    assert_eq!(all["Truncated"], false);
    assert!(all.get("NextMarker").is_none());
    let mut listed: Vec<String> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut body = json!({"Limit": 2});
        if let Some(m) = &marker {
            body["Marker"] = json!(m);
        }
        let page = h.ok(Operation::ListKeys, body);
        let keys = page["Keys"].as_array().unwrap();
        assert!(keys.len() <= 2);
        for k in keys {
            let id = k["KeyId"].as_str().unwrap().to_owned();
            assert_eq!(
                k["KeyArn"],
                format!("arn:aws:kms:us-east-1:111122223333:key/{id}")
            );
            listed.push(id);
        }
        if page["Truncated"] == false {
            break;
        }
        marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
    }
    let mut sorted = ids.clone();
    sorted.sort();
    let mut got = listed.clone();
    got.sort();
    assert_eq!(got, sorted);
    let codes = [
        (json!({"Limit": 0}), ErrorCode::Validation),
        (json!({"Limit": 1001}), ErrorCode::Validation),
        (json!({"Marker": "garbage!"}), ErrorCode::InvalidMarker),
        (json!({"Limit": "5"}), ErrorCode::Serialization),
    ];
    for (body, code) in codes {
        assert_eq!(h.code(Operation::ListKeys, body.clone()), code, "{body}");
    }
}

#[test]
fn enable_disable_and_description() {
    let h = Harness::new();
    let id = h.key();
    h.ok(Operation::DisableKey, json!({"KeyId": id}));
    h.ok(Operation::DisableKey, json!({"KeyId": id}));
    let m = h.describe(&id);
    assert_eq!(
        (m["KeyState"].clone(), m["Enabled"].clone()),
        (json!("Disabled"), json!(false))
    );
    h.ok(Operation::EnableKey, json!({"KeyId": id}));
    assert_eq!(h.describe(&id)["KeyState"], "Enabled");
    h.ok(
        Operation::UpdateKeyDescription,
        json!({"KeyId": id, "Description": "new"}),
    );
    assert_eq!(h.describe(&id)["Description"], "new");
    let long = json!({"KeyId": id, "Description": "x".repeat(8193)});
    assert_eq!(
        h.code(Operation::UpdateKeyDescription, long),
        ErrorCode::Validation
    );
    let missing = json!({"KeyId": "11111111-2222-3333-4444-555555555555"});
    assert_eq!(
        h.code(Operation::EnableKey, missing.clone()),
        ErrorCode::NotFound
    );
    assert_eq!(h.code(Operation::DisableKey, missing), ErrorCode::NotFound);
}

#[test]
fn scheduled_deletion_and_cancel() {
    let h = Harness::new();
    let id = h.key();
    let arn = h.describe(&id)["Arn"].clone();
    let r = h.ok(
        Operation::ScheduleKeyDeletion,
        json!({"KeyId": id, "PendingWindowInDays": 7}),
    );
    assert_eq!(r["KeyId"], arn);
    assert_eq!(r["KeyState"], "PendingDeletion");
    assert_eq!(r["PendingWindowInDays"], 7);
    let m = h.describe(&id);
    assert_eq!(m["KeyState"], "PendingDeletion");
    assert_eq!(m["Enabled"], false);
    assert_eq!(m["DeletionDate"], r["DeletionDate"]);
    let created = m["CreationDate"].as_f64().unwrap();
    let deletion = r["DeletionDate"].as_f64().unwrap();
    assert!(deletion >= created + 7.0 * 86_400.0 - 5.0);
    for op in [
        Operation::EnableKey,
        Operation::DisableKey,
        Operation::ScheduleKeyDeletion,
    ] {
        assert_eq!(
            h.code(op, json!({"KeyId": id})),
            ErrorCode::KmsInvalidState,
            "{op:?}"
        );
    }
    let body = json!({"KeyId": id, "Description": "x"});
    assert_eq!(
        h.code(Operation::UpdateKeyDescription, body),
        ErrorCode::KmsInvalidState
    );
    let c = h.ok(Operation::CancelKeyDeletion, json!({"KeyId": id}));
    assert_eq!(c["KeyId"], arn);
    let m = h.describe(&id);
    assert_eq!(m["KeyState"], "Disabled");
    assert!(m.get("DeletionDate").is_none());
    assert_eq!(
        h.code(Operation::CancelKeyDeletion, json!({"KeyId": id})),
        ErrorCode::KmsInvalidState
    );
    let r = h.ok(Operation::ScheduleKeyDeletion, json!({"KeyId": id}));
    assert_eq!(r["PendingWindowInDays"], 30);
    let other = h.key();
    for days in [6, 31, 0, -1] {
        let body = json!({"KeyId": other, "PendingWindowInDays": days});
        assert_eq!(
            h.code(Operation::ScheduleKeyDeletion, body),
            ErrorCode::Validation,
            "{days}"
        );
    }
    assert_eq!(h.describe(&other)["KeyState"], "Enabled");
}

#[test]
fn delete_key_removes_aliases_and_grants() {
    let h = Harness::new();
    let id = h.key();
    let keep = h.key();
    h.ok(
        Operation::CreateAlias,
        json!({"AliasName": "alias/gone", "TargetKeyId": id}),
    );
    h.ok(
        Operation::CreateAlias,
        json!({"AliasName": "alias/kept", "TargetKeyId": keep}),
    );
    h.kms
        .registry
        .write(|state, changes| {
            let grant = Grant {
                id: "g1".into(),
                token: "t1".into(),
                key_id: id.clone(),
                grantee: "arn:aws:iam::111122223333:user/u".into(),
                retiring: None,
                issuer: "arn:aws:iam::111122223333:user/admin".into(),
                operations: vec!["Decrypt".into()],
                context_subset: None,
                context_equals: None,
                name: None,
                created: 0,
            };
            state.grants.insert("g1".into(), grant);
            changes.grant("g1");
            Ok(())
        })
        .unwrap();
    h.kms
        .registry
        .write(|state, changes| {
            assert_eq!(delete_key(state, changes, &id), ["g1"]);
            assert!(delete_key(state, changes, "not-there").is_empty());
            Ok(())
        })
        .unwrap();
    h.kms.registry.read(|s| {
        assert!(!s.keys.contains_key(&id));
        assert!(s.keys.contains_key(&keep));
        assert!(s.grants.is_empty());
        let names: Vec<&Alias> = s.aliases.values().collect();
        assert_eq!(names.len(), 1);
        assert_eq!(names[0].name, "alias/kept");
    });
    assert_eq!(
        h.code(Operation::DescribeKey, json!({"KeyId": id})),
        ErrorCode::NotFound
    );
    assert_eq!(
        h.code(Operation::DescribeKey, json!({"KeyId": "alias/gone"})),
        ErrorCode::NotFound
    );
}
