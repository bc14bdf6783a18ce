//! Tests of the rotation operations through `Kms::handle` on a scratch data dir (keys are put
//! into the registry directly), and the helpers `tests_due.rs` shares.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::kms::server::model::{KeyManager, KeyRecord, KeySpec, KeyState, KeyUsage, NewKey};
use crate::kms::server::ops::managed::default_policy;
use crate::kms::server::service::{Caller, Kms};
use crate::kms::server::sigv4::Principal;
use crate::kms::server::ServerConfig;
use crate::kms::wire::{ErrorCode, KmsError, Operation};

pub(super) const ME: &str = "arn:aws:iam::111122223333:user/admin";

pub(super) fn open(dir: &std::path::Path) -> Kms {
    Kms::open(ServerConfig::new(dir)).unwrap().0
}

pub(super) fn caller() -> Caller {
    Caller {
        principal: Principal {
            arn: ME.to_owned(),
            account_id: "111122223333".to_owned(),
            access_key_id: "AKIATEST".to_owned(),
            region: "us-east-1".to_owned(),
        },
        source: "127.0.0.1".to_owned(),
        request_id: "rid".to_owned(),
    }
}

pub(super) fn call(kms: &Kms, op: Operation, req: &Value) -> Result<Value, KmsError> {
    let out = kms.handle(&caller(), op, req.to_string().as_bytes())?;
    Ok(serde_json::from_slice(&out).unwrap())
}

pub(super) fn code(r: Result<Value, KmsError>) -> ErrorCode {
    r.unwrap_err().code
}

pub(super) fn add_key(
    kms: &Kms,
    spec: KeySpec,
    usage: Option<KeyUsage>,
    manager: KeyManager,
) -> String {
    kms.registry
        .write(|s, c| {
            let rec = KeyRecord::create(
                NewKey {
                    account: "111122223333".into(),
                    region: "us-east-1".into(),
                    spec,
                    usage,
                    description: String::new(),
                    manager,
                    policy: default_policy("111122223333"),
                    tags: BTreeMap::new(),
                },
                kms.clock.now(),
            )?;
            let id = rec.key_id();
            s.keys.insert(id.clone(), rec);
            c.key(&id);
            Ok(id)
        })
        .unwrap()
}

pub(super) fn symmetric(kms: &Kms) -> String {
    add_key(kms, KeySpec::SymmetricDefault, None, KeyManager::Customer)
}

pub(super) fn set_state(kms: &Kms, id: &str, state: KeyState) {
    kms.registry
        .write(|s, c| {
            s.keys.get_mut(id).unwrap().state = state;
            c.key(id);
            Ok(())
        })
        .unwrap();
}

#[test]
fn enable_status_disable() {
    let dir = tempfile::tempdir().unwrap();
    let kms = open(dir.path());
    let id = symmetric(&kms);
    let st = call(&kms, Operation::GetKeyRotationStatus, &json!({"KeyId": id})).unwrap();
    assert_eq!(st["KeyRotationEnabled"], false);
    assert!(st.get("NextRotationDate").is_none());
    call(&kms, Operation::EnableKeyRotation, &json!({"KeyId": id})).unwrap();
    let st = call(&kms, Operation::GetKeyRotationStatus, &json!({"KeyId": id})).unwrap();
    assert_eq!(st["KeyRotationEnabled"], true);
    assert_eq!(st["RotationPeriodInDays"], 365);
    assert!(st["KeyId"].as_str().unwrap().ends_with(&id));
    let next = st["NextRotationDate"].as_f64().unwrap();
    let now = kms.clock.now() as f64;
    assert!((next - now - 365.0 * 86_400.0).abs() < 10.0);
    call(
        &kms,
        Operation::EnableKeyRotation,
        &json!({"KeyId": id, "RotationPeriodInDays": 90}),
    )
    .unwrap();
    let st = call(&kms, Operation::GetKeyRotationStatus, &json!({"KeyId": id})).unwrap();
    assert_eq!(st["RotationPeriodInDays"], 90);
    call(&kms, Operation::DisableKeyRotation, &json!({"KeyId": id})).unwrap();
    let st = call(&kms, Operation::GetKeyRotationStatus, &json!({"KeyId": id})).unwrap();
    assert_eq!(st["KeyRotationEnabled"], false);
    assert!(st.get("RotationPeriodInDays").is_none());
}

#[test]
fn request_validation() {
    let dir = tempfile::tempdir().unwrap();
    let kms = open(dir.path());
    let id = symmetric(&kms);
    for p in [89, 2561, -1, 0] {
        let r = call(
            &kms,
            Operation::EnableKeyRotation,
            &json!({"KeyId": id, "RotationPeriodInDays": p}),
        );
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation, "{p}");
        assert!(e.message.contains("rotationPeriodInDays"), "{}", e.message);
    }
    for (p, ok) in [(90, true), (2560, true)] {
        let r = call(
            &kms,
            Operation::EnableKeyRotation,
            &json!({"KeyId": id, "RotationPeriodInDays": p}),
        );
        assert_eq!(r.is_ok(), ok);
    }
    assert_eq!(
        code(call(
            &kms,
            Operation::EnableKeyRotation,
            &json!({"KeyId": ""})
        )),
        ErrorCode::Validation
    );
    assert_eq!(
        code(call(&kms, Operation::EnableKeyRotation, &json!({}))),
        ErrorCode::Validation
    );
    let missing = "1234abcd-12ab-34cd-56ef-1234567890ab";
    for op in [
        Operation::EnableKeyRotation,
        Operation::DisableKeyRotation,
        Operation::GetKeyRotationStatus,
        Operation::RotateKeyOnDemand,
        Operation::ListKeyRotations,
    ] {
        assert_eq!(
            code(call(&kms, op, &json!({"KeyId": missing}))),
            ErrorCode::NotFound
        );
    }
    for l in [0, 1001] {
        let r = call(
            &kms,
            Operation::ListKeyRotations,
            &json!({"KeyId": id, "Limit": l}),
        );
        assert_eq!(code(r), ErrorCode::Validation);
    }
    let r = call(
        &kms,
        Operation::ListKeyRotations,
        &json!({"KeyId": id, "IncludeKeyMaterial": "SOME"}),
    );
    assert_eq!(code(r), ErrorCode::Validation);
}

#[test]
fn only_symmetric_customer_keys_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let kms = open(dir.path());
    let hmac = add_key(
        &kms,
        KeySpec::Hmac256,
        Some(KeyUsage::GenerateVerifyMac),
        KeyManager::Customer,
    );
    let ecc = add_key(
        &kms,
        KeySpec::EccNistP256,
        Some(KeyUsage::SignVerify),
        KeyManager::Customer,
    );
    for id in [&hmac, &ecc] {
        for op in [
            Operation::EnableKeyRotation,
            Operation::DisableKeyRotation,
            Operation::GetKeyRotationStatus,
            Operation::RotateKeyOnDemand,
            Operation::ListKeyRotations,
        ] {
            let r = call(&kms, op, &json!({"KeyId": id}));
            assert_eq!(code(r), ErrorCode::UnsupportedOperation, "{op:?}");
        }
    }
    let managed = add_key(&kms, KeySpec::SymmetricDefault, None, KeyManager::Aws);
    for op in [
        Operation::EnableKeyRotation,
        Operation::DisableKeyRotation,
        Operation::RotateKeyOnDemand,
    ] {
        let r = call(&kms, op, &json!({"KeyId": managed}));
        assert_eq!(code(r), ErrorCode::AccessDenied, "{op:?}");
    }
    let st = call(
        &kms,
        Operation::GetKeyRotationStatus,
        &json!({"KeyId": managed}),
    )
    .unwrap();
    assert_eq!(st["KeyRotationEnabled"], true);
    assert_eq!(st["RotationPeriodInDays"], 365);
}

#[test]
fn key_states() {
    let dir = tempfile::tempdir().unwrap();
    let kms = open(dir.path());
    let id = symmetric(&kms);
    call(&kms, Operation::EnableKeyRotation, &json!({"KeyId": id})).unwrap();
    set_state(&kms, &id, KeyState::Disabled);
    for op in [
        Operation::EnableKeyRotation,
        Operation::DisableKeyRotation,
        Operation::RotateKeyOnDemand,
    ] {
        assert_eq!(
            code(call(&kms, op, &json!({"KeyId": id}))),
            ErrorCode::Disabled
        );
    }
    let st = call(&kms, Operation::GetKeyRotationStatus, &json!({"KeyId": id})).unwrap();
    assert_eq!(st["KeyRotationEnabled"], true);
    set_state(&kms, &id, KeyState::PendingDeletion);
    for op in [
        Operation::EnableKeyRotation,
        Operation::DisableKeyRotation,
        Operation::RotateKeyOnDemand,
    ] {
        assert_eq!(
            code(call(&kms, op, &json!({"KeyId": id}))),
            ErrorCode::KmsInvalidState
        );
    }
    let st = call(&kms, Operation::GetKeyRotationStatus, &json!({"KeyId": id})).unwrap();
    assert_eq!(st["KeyRotationEnabled"], false);
    let l = call(&kms, Operation::ListKeyRotations, &json!({"KeyId": id})).unwrap();
    assert_eq!(l["Rotations"].as_array().unwrap().len(), 0);
}

#[test]
fn on_demand_limit_and_listing() {
    let dir = tempfile::tempdir().unwrap();
    let kms = open(dir.path());
    let id = symmetric(&kms);
    let l = call(&kms, Operation::ListKeyRotations, &json!({"KeyId": id})).unwrap();
    assert_eq!(l, json!({"Rotations": [], "Truncated": false}));
    let arn = kms.registry.read(|s| s.keys[&id].arn.clone());
    for _ in 0..25 {
        let r = call(&kms, Operation::RotateKeyOnDemand, &json!({"KeyId": arn})).unwrap();
        assert_eq!(r["KeyId"], arn.as_str());
    }
    let r = call(&kms, Operation::RotateKeyOnDemand, &json!({"KeyId": id}));
    assert_eq!(code(r), ErrorCode::LimitExceeded);
    // Pages of 10: 10, 10, 5.
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut req = json!({"KeyId": id, "Limit": 10});
        if let Some(m) = &marker {
            req["Marker"] = json!(m);
        }
        let page = call(&kms, Operation::ListKeyRotations, &req).unwrap();
        seen.extend(page["Rotations"].as_array().unwrap().iter().cloned());
        if page["Truncated"] == true {
            marker = Some(page["NextMarker"].as_str().unwrap().to_owned());
        } else {
            assert!(page.get("NextMarker").is_none());
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    let current = kms
        .registry
        .read(|s| s.keys[&id].current_material().unwrap().id.to_string());
    for (i, e) in seen.iter().enumerate() {
        assert_eq!(e["KeyId"], id.as_str());
        assert_eq!(e["RotationType"], "ON_DEMAND");
        assert!(e["RotationDate"].is_number());
        let want = if i == 24 { "CURRENT" } else { "NON_CURRENT" };
        assert_eq!(e["KeyMaterialState"], want);
    }
    assert_eq!(seen[24]["KeyMaterialId"], current.as_str());
    let all = call(
        &kms,
        Operation::ListKeyRotations,
        &json!({"KeyId": id, "IncludeKeyMaterial": "ALL_KEY_MATERIAL"}),
    )
    .unwrap();
    let all = all["Rotations"].as_array().unwrap();
    assert_eq!(all.len(), 26);
    assert!(all[0].get("RotationType").is_none());
    assert_eq!(all[0]["KeyMaterialState"], "NON_CURRENT");
    for bad in ["0", "26", "x", "-1"] {
        let r = call(
            &kms,
            Operation::ListKeyRotations,
            &json!({"KeyId": id, "Marker": bad}),
        );
        assert_eq!(code(r), ErrorCode::InvalidMarker, "{bad}");
    }
    // A marker of another key's listing, or an empty one.
    let other = symmetric(&kms);
    call(&kms, Operation::RotateKeyOnDemand, &json!({"KeyId": other})).unwrap();
    call(&kms, Operation::RotateKeyOnDemand, &json!({"KeyId": other})).unwrap();
    let page = call(
        &kms,
        Operation::ListKeyRotations,
        &json!({"KeyId": other, "Limit": 1}),
    )
    .unwrap();
    let foreign = page["NextMarker"].as_str().unwrap();
    let r = call(
        &kms,
        Operation::ListKeyRotations,
        &json!({"KeyId": id, "Marker": foreign}),
    );
    assert_eq!(code(r), ErrorCode::InvalidMarker);
    let r = call(
        &kms,
        Operation::ListKeyRotations,
        &json!({"KeyId": id, "Marker": ""}),
    );
    assert_eq!(code(r), ErrorCode::Validation);
    // On-demand rotations persist.
    drop(kms);
    let kms = open(dir.path());
    assert_eq!(kms.registry.read(|s| s.keys[&id].materials.len()), 26);
    let r = call(&kms, Operation::RotateKeyOnDemand, &json!({"KeyId": id}));
    assert_eq!(code(r), ErrorCode::LimitExceeded);
}
