//! Fixtures for the cryptographic handler tests: a real [`Kms`] on a temp dir, keys of every
//! spec put straight into the registry (asymmetric material from the crypto layer's cached
//! test keys, since RSA generation is slow), and JSON call helpers.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::crypto::{cached_asym_test_key, AsymKeySpec};
use crate::kms::server::audit::AuditEvent;
use crate::kms::server::blob::MaterialId;
use crate::kms::server::model::{
    KeyManager, KeyMaterial, KeyRecord, KeySpec, KeyUsage, NewKey, SpecKind,
};
use crate::kms::server::registry::Alias;
use crate::kms::server::sigv4::Principal;
use crate::kms::server::{Caller, Kms, ServerConfig};
use crate::kms::wire::{ErrorCode, KmsError, Operation};

/// The account of the test server and caller.
pub(super) const ACCOUNT: &str = "111122223333";
/// The caller's ARN.
pub(super) const ME: &str = "arn:aws:iam::111122223333:user/admin";

/// A service on a temp dir and a caller in its account.
pub(super) struct Fx {
    /// Keeps the data dir alive.
    pub _dir: tempfile::TempDir,
    /// The service.
    pub kms: Kms,
    /// The caller.
    pub caller: Caller,
}

/// Base64 of `bytes`, as a JSON string.
pub(super) fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

/// The bytes of base64 member `name` of `v`.
#[track_caller]
pub(super) fn unb64(v: &Value, name: &str) -> Vec<u8> {
    let text = v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"));
    STANDARD.decode(text).unwrap()
}

/// Asserts `r` failed with `code`; returns the error.
#[track_caller]
pub(super) fn assert_code(r: Result<Value, KmsError>, code: ErrorCode) -> KmsError {
    match r {
        Ok(v) => panic!("expected {}, got {v}", code.name()),
        Err(e) => {
            assert_eq!(e.code, code, "{}: {}", e.code.name(), e.message);
            e
        }
    }
}

impl Fx {
    /// A fresh service.
    pub(super) fn new() -> Fx {
        let dir = tempfile::tempdir().unwrap();
        let (kms, _) = Kms::open(ServerConfig::new(dir.path())).unwrap();
        let caller = Caller {
            principal: Principal {
                arn: ME.to_owned(),
                account_id: ACCOUNT.to_owned(),
                access_key_id: "AKIATESTTESTTESTTEST".to_owned(),
                region: "us-east-1".to_owned(),
            },
            source: "127.0.0.1".to_owned(),
            request_id: "test-request".to_owned(),
        };
        Fx {
            _dir: dir,
            kms,
            caller,
        }
    }

    /// Adds an Enabled customer managed key of `spec` and `usage`; returns its id.
    pub(super) fn key(&self, spec: KeySpec, usage: KeyUsage) -> String {
        let mut rec = KeyRecord::create(
            NewKey {
                account: ACCOUNT.to_owned(),
                region: "us-east-1".to_owned(),
                spec: KeySpec::SymmetricDefault,
                usage: None,
                description: "test".to_owned(),
                manager: KeyManager::Customer,
                policy: super::managed::default_policy(ACCOUNT),
                tags: BTreeMap::new(),
            },
            0,
        )
        .unwrap();
        rec.spec = spec;
        rec.usage = usage;
        rec.materials = vec![match spec.kind() {
            SpecKind::Asymmetric(a) => KeyMaterial::import(
                spec,
                MaterialId::generate().unwrap(),
                0,
                None,
                cached_asym_test_key(a).pkcs8_der(),
            )
            .unwrap(),
            _ => KeyMaterial::generate(spec, 0, None).unwrap(),
        }];
        let id = rec.key_id();
        self.kms
            .registry
            .write(|s, ch| {
                s.keys.insert(id.clone(), rec);
                ch.key(&id);
                Ok(())
            })
            .unwrap();
        id
    }

    /// A symmetric encryption key.
    pub(super) fn sym(&self) -> String {
        self.key(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt)
    }

    /// Points alias `name` at key `id`.
    pub(super) fn alias(&self, name: &str, id: &str) {
        self.kms
            .registry
            .write(|s, ch| {
                let a = Alias {
                    name: name.to_owned(),
                    target_key_id: id.to_owned(),
                    created: 0,
                    updated: 0,
                };
                s.aliases.insert(name.to_owned(), a);
                ch.alias(name);
                Ok(())
            })
            .unwrap();
    }

    /// Changes key `id` with `f` (as the admin handlers would).
    pub(super) fn update<R>(&self, id: &str, f: impl FnOnce(&mut KeyRecord) -> R) -> R {
        self.kms
            .registry
            .write(|s, ch| {
                let r = f(s.keys.get_mut(id).unwrap());
                ch.key(id);
                Ok(r)
            })
            .unwrap()
    }

    /// Reads key `id` with `f`.
    pub(super) fn with<R>(&self, id: &str, f: impl FnOnce(&KeyRecord) -> R) -> R {
        self.kms.registry.read(|s| f(&s.keys[id]))
    }

    /// The ARN of key `id`.
    pub(super) fn arn(&self, id: &str) -> String {
        self.with(id, |r| r.arn.clone())
    }

    /// The current material id of key `id`, as KMS prints it.
    pub(super) fn material(&self, id: &str) -> String {
        self.with(id, |r| r.current_material().unwrap().id.to_hex())
    }

    /// Calls `op` through [`Kms::handle`] with JSON `body`.
    pub(super) fn call(&self, op: Operation, body: Value) -> Result<Value, KmsError> {
        let out = self
            .kms
            .handle(&self.caller, op, body.to_string().as_bytes())?;
        Ok(serde_json::from_slice(&out).unwrap())
    }

    /// Calls `op` and returns the audit event the handler filled in.
    pub(super) fn call_audited(
        &self,
        op: Operation,
        body: Value,
    ) -> (Result<Vec<u8>, KmsError>, AuditEvent) {
        let mut event = AuditEvent::new(&self.caller, op, 0);
        let body = body.to_string();
        let r = super::dispatch(&self.kms, &self.caller, op, body.as_bytes(), &mut event);
        (r, event)
    }
}

/// Encrypts `pt` under `key` and `ctx`; returns the blob.
pub(super) fn encrypt(fx: &Fx, key: &str, pt: &[u8], ctx: Value) -> Vec<u8> {
    let r = fx
        .call(
            Operation::Encrypt,
            json!({"KeyId": key, "Plaintext": b64(pt), "EncryptionContext": ctx}),
        )
        .unwrap();
    unb64(&r, "CiphertextBlob")
}

/// Decrypts `blob` under `ctx` (no KeyId).
pub(super) fn decrypt(fx: &Fx, blob: &[u8], ctx: Value) -> Result<Value, KmsError> {
    fx.call(
        Operation::Decrypt,
        json!({"CiphertextBlob": b64(blob), "EncryptionContext": ctx}),
    )
}

/// The cached test key of an asymmetric spec.
pub(super) fn test_key(spec: AsymKeySpec) -> &'static crate::crypto::AsymPrivateKey {
    cached_asym_test_key(spec)
}
