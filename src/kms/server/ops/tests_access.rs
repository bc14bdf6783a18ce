//! Tests of key policies and grants through a real [`Kms`] on a temp dir with a second
//! credential (bob, a user of the same account).

use serde_json::{json, Value};

use crate::kms::server::sigv4::Principal;
use crate::kms::server::{Caller, Kms, ServerConfig};
use crate::kms::wire::{ErrorCode, KmsError, Operation};

const ADMIN: &str = "arn:aws:iam::111122223333:user/admin";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";

/// A service with the admin and bob credentials.
pub(super) struct Ax {
    pub dir: tempfile::TempDir,
    pub kms: Kms,
}

pub(super) fn caller(arn: &str) -> Caller {
    Caller {
        principal: Principal {
            arn: arn.to_owned(),
            account_id: arn.split(':').nth(4).unwrap().to_owned(),
            access_key_id: "AKIATESTTESTTESTTEST".to_owned(),
            region: "us-east-1".to_owned(),
        },
        source: "127.0.0.1".to_owned(),
        request_id: "test".to_owned(),
    }
}

fn config(dir: &std::path::Path) -> ServerConfig {
    let creds = dir.join("extra-credentials.json");
    let list = json!([{
        "access_key_id": "AKIABOBBOBBOBBOBBOB1",
        "secret_access_key": "bob-secret",
        "principal_arn": BOB,
        "account_id": "111122223333"
    }]);
    std::fs::write(&creds, list.to_string()).unwrap();
    let mut c = ServerConfig::new(dir);
    c.credentials_file = Some(creds);
    c
}

impl Ax {
    pub fn new() -> Ax {
        let dir = tempfile::tempdir().unwrap();
        let (kms, _) = Kms::open(config(dir.path())).unwrap();
        assert!(kms.credential("AKIABOBBOBBOBBOBBOB1").is_some());
        Ax { dir, kms }
    }

    /// Drops the service and opens the data dir again, as a new process would.
    pub fn restart(self) -> Ax {
        let Ax { dir, kms } = self;
        drop(kms);
        let (kms, _) = Kms::open(config(dir.path())).unwrap();
        Ax { dir, kms }
    }

    pub fn call(&self, who: &str, op: Operation, body: &Value) -> Result<Value, KmsError> {
        let out = self
            .kms
            .handle(&caller(who), op, body.to_string().as_bytes())?;
        Ok(serde_json::from_slice(&out).unwrap())
    }

    #[track_caller]
    pub fn ok(&self, who: &str, op: Operation, body: Value) -> Value {
        self.call(who, op, &body)
            .unwrap_or_else(|e| panic!("{op:?} {body}: {}: {}", e.code.name(), e.message))
    }

    #[track_caller]
    pub fn err(&self, who: &str, op: Operation, body: Value, code: ErrorCode) -> KmsError {
        match self.call(who, op, &body) {
            Ok(v) => panic!("{op:?} {body} succeeded: {v}"),
            Err(e) => {
                assert_eq!(e.code, code, "{op:?} {body}: {}", e.message);
                e
            }
        }
    }

    /// A new symmetric key (id, ARN).
    pub fn key(&self) -> (String, String) {
        let m = self.ok(ADMIN, Operation::CreateKey, json!({}))["KeyMetadata"].clone();
        (
            m["KeyId"].as_str().unwrap().to_owned(),
            m["Arn"].as_str().unwrap().to_owned(),
        )
    }

    /// Lets only the admin use the key.
    pub fn admin_only(&self, key: &str) {
        let policy = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": ADMIN}, "Action": "kms:*", "Resource": "*"
        }]});
        self.ok(
            ADMIN,
            Operation::PutKeyPolicy,
            json!({"KeyId": key, "Policy": policy.to_string()}),
        );
    }

    pub fn encrypt(&self, who: &str, key: &str, ctx: Value) -> Result<Value, KmsError> {
        self.call(
            who,
            Operation::Encrypt,
            &json!({"KeyId": key, "Plaintext": "aGVsbG8=", "EncryptionContext": ctx}),
        )
    }

    pub fn decrypt(&self, who: &str, blob: &Value, ctx: Value) -> Result<Value, KmsError> {
        self.call(
            who,
            Operation::Decrypt,
            &json!({"CiphertextBlob": blob, "EncryptionContext": ctx}),
        )
    }

    pub fn grant(&self, who: &str, body: Value) -> Result<(String, String), KmsError> {
        let r = self.call(who, Operation::CreateGrant, &body)?;
        Ok((
            r["GrantId"].as_str().unwrap().to_owned(),
            r["GrantToken"].as_str().unwrap().to_owned(),
        ))
    }
}

fn code(r: Result<Value, KmsError>) -> ErrorCode {
    match r {
        Ok(v) => panic!("succeeded: {v}"),
        Err(e) => e.code,
    }
}

#[test]
fn policies_are_stored_verbatim_and_listed() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    let got = ax.ok(ADMIN, Operation::GetKeyPolicy, json!({"KeyId": id}));
    assert_eq!(got["PolicyName"], "default");
    assert!(got["Policy"].as_str().unwrap().contains(":root"));
    let text = "{ \"Statement\" : [ {\"Effect\":\"Allow\",\n\t\"Principal\":{\"AWS\":\"111122223333\"},\"Action\":\"kms:*\",\"Resource\":\"*\", \"Sid\": \"caf\u{e9}\"} ] }  ";
    let put = json!({"KeyId": id, "Policy": text, "PolicyName": "default"});
    ax.ok(ADMIN, Operation::PutKeyPolicy, put);
    let got = ax.ok(
        ADMIN,
        Operation::GetKeyPolicy,
        json!({"KeyId": id, "PolicyName": "default"}),
    );
    assert_eq!(got["Policy"].as_str().unwrap(), text);
    let list = ax.ok(ADMIN, Operation::ListKeyPolicies, json!({"KeyId": id}));
    assert_eq!(
        list,
        json!({"PolicyNames": ["default"], "Truncated": false})
    );
    let ax = ax.restart();
    let got = ax.ok(ADMIN, Operation::GetKeyPolicy, json!({"KeyId": id}));
    assert_eq!(got["Policy"].as_str().unwrap(), text);
}

#[test]
fn policy_errors() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    let get = json!({"KeyId": id, "PolicyName": "other"});
    ax.err(ADMIN, Operation::GetKeyPolicy, get, ErrorCode::NotFound);
    let bad_name = json!({"KeyId": id, "PolicyName": "no-dashes"});
    ax.err(
        ADMIN,
        Operation::GetKeyPolicy,
        bad_name,
        ErrorCode::Validation,
    );
    let put = |p: &str| json!({"KeyId": id, "Policy": p});
    ax.err(
        ADMIN,
        Operation::PutKeyPolicy,
        put("{nope"),
        ErrorCode::MalformedPolicyDocument,
    );
    ax.err(
        ADMIN,
        Operation::PutKeyPolicy,
        put("{}"),
        ErrorCode::MalformedPolicyDocument,
    );
    let big = format!("{}{}", " ".repeat(40_000), managed_default());
    ax.err(
        ADMIN,
        Operation::PutKeyPolicy,
        put(&big),
        ErrorCode::LimitExceeded,
    );
    let missing =
        json!({"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "Policy": managed_default()});
    ax.err(ADMIN, Operation::PutKeyPolicy, missing, ErrorCode::NotFound);
    // Lockout safety check, and its bypass.
    let bob_only = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": BOB}, "Action": "kms:*", "Resource": "*"}]}).to_string();
    let e = ax.err(
        ADMIN,
        Operation::PutKeyPolicy,
        put(&bob_only),
        ErrorCode::MalformedPolicyDocument,
    );
    assert_eq!(
        e.message,
        "The new key policy will not allow you to update the key policy in the future."
    );
    let bypass = json!({"KeyId": id, "Policy": bob_only, "BypassPolicyLockoutSafetyCheck": true});
    ax.ok(ADMIN, Operation::PutKeyPolicy, bypass);
    let e = ax.err(
        ADMIN,
        Operation::GetKeyPolicy,
        json!({"KeyId": id}),
        ErrorCode::AccessDenied,
    );
    assert!(e.message.starts_with(&format!(
        "User: {ADMIN} is not authorized to perform: kms:GetKeyPolicy"
    )));
    ax.ok(BOB, Operation::GetKeyPolicy, json!({"KeyId": id}));
}

fn managed_default() -> String {
    super::managed::default_policy("111122223333")
}

#[test]
fn aws_managed_keys_refuse_put_key_policy() {
    let ax = Ax::new();
    let r = ax.encrypt(ADMIN, "alias/aws/volcrypt", json!({}));
    assert!(r.is_ok(), "{r:?}");
    let body = json!({"KeyId": "alias/aws/volcrypt", "Policy": managed_default()});
    let e = ax.err(
        ADMIN,
        Operation::PutKeyPolicy,
        body,
        ErrorCode::AccessDenied,
    );
    assert!(e.message.contains("kms:PutKeyPolicy"), "{}", e.message);
}

#[test]
fn access_denied_messages_and_explicit_deny() {
    let ax = Ax::new();
    let (id, arn) = ax.key();
    assert!(
        ax.encrypt(BOB, &id, json!({})).is_ok(),
        "account principals may use the key"
    );
    ax.admin_only(&id);
    let e = ax.encrypt(BOB, &id, json!({})).unwrap_err();
    assert_eq!(e.code, ErrorCode::AccessDenied);
    assert_eq!(
        e.message,
        format!("User: {BOB} is not authorized to perform: kms:Encrypt on resource: {arn} because no resource-based policy allows the kms:Encrypt action")
    );
    let deny = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": BOB}, "Action": "kms:Decrypt", "Resource": "*"}
    ]});
    ax.ok(
        ADMIN,
        Operation::PutKeyPolicy,
        json!({"KeyId": id, "Policy": deny.to_string()}),
    );
    let blob = ax.encrypt(BOB, &id, json!({"v": "1"})).unwrap()["CiphertextBlob"].clone();
    let e = ax.decrypt(BOB, &blob, json!({"v": "1"})).unwrap_err();
    assert_eq!(
        e.message,
        format!("User: {BOB} is not authorized to perform: kms:Decrypt on resource: {arn} with an explicit deny in a resource-based policy")
    );
    // An explicit deny beats a grant.
    let body = json!({"KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt"]});
    ax.grant(ADMIN, body).unwrap();
    assert_eq!(
        code(ax.decrypt(BOB, &blob, json!({"v": "1"}))),
        ErrorCode::AccessDenied
    );
    assert!(ax.decrypt(ADMIN, &blob, json!({"v": "1"})).is_ok());
}

#[test]
fn grant_gives_access_within_its_constraint() {
    let ax = Ax::new();
    let (id, arn) = ax.key();
    ax.admin_only(&id);
    let v1 = json!({"volume": "v1", "host": "h"});
    let blob1 = ax.encrypt(ADMIN, &id, v1.clone()).unwrap()["CiphertextBlob"].clone();
    let blob2 = ax.encrypt(ADMIN, &id, json!({"volume": "v2"})).unwrap()["CiphertextBlob"].clone();
    assert_eq!(
        code(ax.decrypt(BOB, &blob1, v1.clone())),
        ErrorCode::AccessDenied
    );

    let (gid, token) = ax
        .grant(
            ADMIN,
            json!({
                "KeyId": id, "GranteePrincipal": BOB, "Operations": ["Decrypt"],
                "Constraints": {"EncryptionContextSubset": {"volume": "v1"}}
            }),
        )
        .unwrap();
    assert_eq!(gid.len(), 64);
    assert!(gid.bytes().all(|b| b.is_ascii_hexdigit()));
    let r = ax.decrypt(BOB, &blob1, v1.clone()).unwrap();
    assert_eq!(r["Plaintext"], "aGVsbG8=");
    assert_eq!(r["KeyId"], arn);
    assert_eq!(
        code(ax.decrypt(BOB, &blob2, json!({"volume": "v2"}))),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(ax.encrypt(BOB, &id, v1.clone())),
        ErrorCode::AccessDenied
    );
    // Grant tokens are checked for format and count only.
    let with_token =
        json!({"CiphertextBlob": blob1, "EncryptionContext": v1, "GrantTokens": [token]});
    ax.ok(BOB, Operation::Decrypt, with_token);
    let bad = json!({"CiphertextBlob": blob1, "EncryptionContext": v1, "GrantTokens": ["garbage"]});
    ax.err(BOB, Operation::Decrypt, bad, ErrorCode::InvalidGrantToken);
    let many = json!({"CiphertextBlob": blob1, "EncryptionContext": v1, "GrantTokens": vec![token.clone(); 11]});
    ax.err(BOB, Operation::Decrypt, many, ErrorCode::Validation);

    // The grant survives a restart (the registry reloads it from the keystore).
    let ax = ax.restart();
    assert!(ax.decrypt(BOB, &blob1, v1.clone()).is_ok());
    ax.ok(
        ADMIN,
        Operation::RevokeGrant,
        json!({"KeyId": id, "GrantId": gid}),
    );
    assert_eq!(
        code(ax.decrypt(BOB, &blob1, v1.clone())),
        ErrorCode::AccessDenied
    );
    let ax = ax.restart();
    assert_eq!(code(ax.decrypt(BOB, &blob1, v1)), ErrorCode::AccessDenied);
}

#[test]
fn equals_constraint_and_other_operations() {
    let ax = Ax::new();
    let (id, _) = ax.key();
    ax.admin_only(&id);
    ax.grant(
        ADMIN,
        json!({
            "KeyId": id, "GranteePrincipal": BOB,
            "Operations": ["Encrypt", "GenerateDataKey", "DescribeKey"],
            "Constraints": {"EncryptionContextEquals": {"app": "web"}}
        }),
    )
    .unwrap();
    assert!(ax.encrypt(BOB, &id, json!({"app": "web"})).is_ok());
    assert!(
        ax.encrypt(BOB, &id, json!({"APP": "web"})).is_ok(),
        "constraint keys are case-insensitive"
    );
    assert_eq!(
        code(ax.encrypt(BOB, &id, json!({"app": "WEB"}))),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(ax.encrypt(BOB, &id, json!({"app": "web", "x": "y"}))),
        ErrorCode::AccessDenied
    );
    assert_eq!(
        code(ax.encrypt(BOB, &id, json!({}))),
        ErrorCode::AccessDenied
    );
    let gdk = json!({"KeyId": id, "KeySpec": "AES_256", "EncryptionContext": {"app": "web"}});
    ax.ok(BOB, Operation::GenerateDataKey, gdk);
    let gdk = json!({"KeyId": id, "KeySpec": "AES_256"});
    ax.err(
        BOB,
        Operation::GenerateDataKey,
        gdk,
        ErrorCode::AccessDenied,
    );
    // The constraint does not apply to DescribeKey.
    ax.ok(BOB, Operation::DescribeKey, json!({"KeyId": id}));
    ax.err(
        BOB,
        Operation::ListGrants,
        json!({"KeyId": id}),
        ErrorCode::AccessDenied,
    );
}
