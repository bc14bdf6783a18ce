//! Test fixtures for the model's tests: key records of every spec, with asymmetric material
//! taken from the crypto layer's once-per-run keys (RSA generation is slow).

use std::collections::BTreeMap;

use crate::crypto::cached_asym_test_key;
use crate::kms::server::blob::{EncryptionContext, MaterialId};

use super::*;

/// The principal used in tests.
pub(super) const ME: &str = "arn:aws:iam::111122223333:user/tester";

/// A customer managed, Enabled key of `spec` and `usage` created at time 0.
pub(super) fn record(spec: KeySpec, usage: KeyUsage) -> KeyRecord {
    let mut rec = KeyRecord::create(new_key(KeySpec::SymmetricDefault, None), 0).unwrap();
    rec.spec = spec;
    rec.usage = usage;
    rec.materials = vec![material(spec)];
    rec
}

/// Fresh material for `spec` (asymmetric: a copy of the cached key).
pub(super) fn material(spec: KeySpec) -> KeyMaterial {
    match spec.kind() {
        SpecKind::Asymmetric(a) => KeyMaterial::import(
            spec,
            MaterialId::generate().unwrap(),
            0,
            None,
            cached_asym_test_key(a).pkcs8_der(),
        )
        .unwrap(),
        _ => KeyMaterial::generate(spec, 0, None).unwrap(),
    }
}

/// A symmetric encryption key.
pub(super) fn symmetric() -> KeyRecord {
    record(KeySpec::SymmetricDefault, KeyUsage::EncryptDecrypt)
}

/// CreateKey parameters for a customer managed key.
pub(super) fn new_key(spec: KeySpec, usage: Option<KeyUsage>) -> NewKey {
    NewKey {
        account: "111122223333".to_owned(),
        region: "us-east-1".to_owned(),
        spec,
        usage,
        description: "test key".to_owned(),
        manager: KeyManager::Customer,
        policy: "{}".to_owned(),
        tags: BTreeMap::new(),
    }
}

/// An encryption context from pairs.
pub(super) fn ctx(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Asserts `r` failed with AWS code `code` and message `message`.
#[track_caller]
pub(super) fn assert_err<T: std::fmt::Debug>(r: Result<T, ModelError>, code: &str, message: &str) {
    let e = r.unwrap_err();
    assert_eq!(e.aws_code(), code, "{e}");
    assert_eq!(e.message(), message, "{e}");
}

/// Asserts `r` failed with AWS code `code`.
#[track_caller]
pub(super) fn assert_code<T: std::fmt::Debug>(r: Result<T, ModelError>, code: &str) {
    let e = r.unwrap_err();
    assert_eq!(e.aws_code(), code, "{e}");
}
