//! Tests of key state transitions and rotation: enable/disable, scheduled deletion and its
//! cancellation, automatic and on-demand rotation keeping every old material, limits, and
//! AWS managed keys.

use super::test_util::*;
use super::*;

const NOW: u64 = 1_700_000_000;

fn enc(rec: &KeyRecord, pt: &[u8]) -> Result<Vec<u8>, ModelError> {
    encrypt(
        rec,
        EncryptionAlgorithm::SymmetricDefault,
        &ctx(&[("k", "v")]),
        pt,
    )
}

fn dec(rec: &KeyRecord, blob: &[u8]) -> Result<Vec<u8>, ModelError> {
    let d = decrypt(
        |_| Some(rec),
        None,
        EncryptionAlgorithm::SymmetricDefault,
        blob,
        &ctx(&[("k", "v")]),
    )?;
    Ok(d.plaintext.expose().to_vec())
}

#[test]
fn enable_and_disable() {
    let mut rec = symmetric();
    let blob = enc(&rec, b"x").unwrap();
    rec.disable(ME).unwrap();
    rec.disable(ME).unwrap();
    assert_eq!(rec.state, KeyState::Disabled);
    assert!(!rec.enabled());
    let disabled = format!("{} is disabled.", rec.arn);
    assert_err(enc(&rec, b"x"), "DisabledException", &disabled);
    assert_err(dec(&rec, &blob), "DisabledException", &disabled);
    rec.enable(ME).unwrap();
    rec.enable(ME).unwrap();
    assert_eq!(dec(&rec, &blob).unwrap(), b"x");
}

#[test]
fn schedule_and_cancel_deletion() {
    let mut rec = symmetric();
    let blob = enc(&rec, b"x").unwrap();
    assert_code(
        rec.schedule_deletion(ME, Some(6), NOW),
        "ValidationException",
    );
    assert_code(
        rec.schedule_deletion(ME, Some(31), NOW),
        "ValidationException",
    );
    assert_eq!(rec.state, KeyState::Enabled);
    let date = rec.schedule_deletion(ME, None, NOW).unwrap();
    assert_eq!(date, NOW + 30 * DAY);
    assert_eq!(rec.state, KeyState::PendingDeletion);
    assert_eq!(rec.deletion_date, Some(date));
    assert_eq!(rec.pending_window_days, Some(30));
    let pending = format!("{} is pending deletion.", rec.arn);
    assert_err(enc(&rec, b"x"), "KMSInvalidStateException", &pending);
    assert_err(dec(&rec, &blob), "KMSInvalidStateException", &pending);
    assert_err(
        rec.schedule_deletion(ME, Some(7), NOW),
        "KMSInvalidStateException",
        &pending,
    );
    assert_err(rec.enable(ME), "KMSInvalidStateException", &pending);
    assert_err(rec.disable(ME), "KMSInvalidStateException", &pending);
    assert!(!rec.deletion_due(date - 1));
    assert!(rec.deletion_due(date));
    rec.cancel_deletion(ME).unwrap();
    assert_eq!(
        rec.state,
        KeyState::Disabled,
        "AWS leaves a cancelled key Disabled"
    );
    assert_eq!(rec.deletion_date, None);
    assert_eq!(rec.pending_window_days, None);
    assert!(!rec.deletion_due(date));
    assert_err(
        rec.cancel_deletion(ME),
        "KMSInvalidStateException",
        &format!("{} is not pending deletion.", rec.arn),
    );
    rec.enable(ME).unwrap();
    assert_eq!(dec(&rec, &blob).unwrap(), b"x");
    // Deleting a disabled key works too, with a 7-day window.
    rec.disable(ME).unwrap();
    assert_eq!(
        rec.schedule_deletion(ME, Some(7), NOW).unwrap(),
        NOW + 7 * DAY
    );
}

#[test]
fn on_demand_rotation_keeps_every_material() {
    let mut rec = symmetric();
    let mut blobs = vec![(enc(&rec, b"gen 0").unwrap(), b"gen 0".to_vec())];
    for i in 1..=MAX_ON_DEMAND_ROTATIONS {
        let before = rec.current_material().unwrap().id;
        let new_id = rec.rotate_on_demand(ME, NOW + u64::from(i)).unwrap().id;
        assert_ne!(new_id, before);
        assert_eq!(rec.current_material().unwrap().id, new_id);
        let pt = format!("gen {i}").into_bytes();
        let blob = enc(&rec, &pt).unwrap();
        let header = crate::kms::server::blob::parse_header(&blob).unwrap();
        assert_eq!(header.material, new_id, "Encrypt uses the current material");
        blobs.push((blob, pt));
    }
    assert_eq!(rec.materials.len(), 26);
    assert_eq!(rec.rotation.on_demand_count, 25);
    assert_eq!(rec.rotation.on_demand_started, Some(NOW + 25));
    assert!(rec.materials[1..]
        .iter()
        .all(|m| m.rotation == Some(RotationType::OnDemand)));
    for (blob, pt) in &blobs {
        assert_eq!(&dec(&rec, blob).unwrap(), pt);
    }
    let e = rec.rotate_on_demand(ME, NOW).unwrap_err();
    assert_eq!(e.aws_code(), "LimitExceededException");
    assert_eq!(rec.materials.len(), 26);
    // On-demand rotation does not touch the automatic schedule.
    assert!(!rec.rotation.enabled && rec.rotation.next_rotation.is_none());
}

#[test]
fn rotation_is_for_symmetric_keys_only() {
    for (spec, usage) in [
        (KeySpec::Rsa2048, KeyUsage::EncryptDecrypt),
        (KeySpec::EccNistP256, KeyUsage::SignVerify),
        (KeySpec::Hmac256, KeyUsage::GenerateVerifyMac),
    ] {
        let mut rec = record(spec, usage);
        assert_code(
            rec.enable_rotation(ME, None, NOW),
            "UnsupportedOperationException",
        );
        assert_code(rec.disable_rotation(ME), "UnsupportedOperationException");
        assert_code(
            rec.rotate_on_demand(ME, NOW),
            "UnsupportedOperationException",
        );
        assert_eq!(rec.materials.len(), 1);
    }
}

#[test]
fn rotation_needs_an_enabled_key() {
    let mut rec = symmetric();
    rec.disable(ME).unwrap();
    assert_code(rec.rotate_on_demand(ME, NOW), "DisabledException");
    assert_code(rec.enable_rotation(ME, None, NOW), "DisabledException");
    assert_code(rec.disable_rotation(ME), "DisabledException");
    rec.schedule_deletion(ME, None, NOW).unwrap();
    assert_code(rec.rotate_on_demand(ME, NOW), "KMSInvalidStateException");
    assert_code(
        rec.enable_rotation(ME, None, NOW),
        "KMSInvalidStateException",
    );
    assert_eq!(rec.materials.len(), 1);
}

#[test]
fn automatic_rotation_schedule() {
    let mut rec = symmetric();
    assert_code(
        rec.enable_rotation(ME, Some(89), NOW),
        "ValidationException",
    );
    assert_code(
        rec.enable_rotation(ME, Some(2561), NOW),
        "ValidationException",
    );
    assert!(!rec.rotation.enabled);
    rec.enable_rotation(ME, None, NOW).unwrap();
    assert!(rec.rotation.enabled);
    assert_eq!(rec.rotation.period_days, 365);
    let next = NOW + 365 * DAY;
    assert_eq!(rec.rotation.next_rotation, Some(next));
    let blob = enc(&rec, b"old").unwrap();
    assert!(!rec.rotate_if_due(next - 1).unwrap());
    assert!(rec.rotate_if_due(next).unwrap());
    assert_eq!(rec.materials.len(), 2);
    assert_eq!(rec.materials[1].rotation, Some(RotationType::Automatic));
    assert_eq!(rec.materials[1].created, next);
    assert_eq!(rec.rotation.next_rotation, Some(next + 365 * DAY));
    assert!(!rec.rotate_if_due(next + 1).unwrap());
    assert_eq!(dec(&rec, &blob).unwrap(), b"old");
    // A shorter period counts from the last rotation.
    rec.enable_rotation(ME, Some(90), next + DAY).unwrap();
    assert_eq!(rec.rotation.period_days, 90);
    assert_eq!(rec.rotation.next_rotation, Some(next + 90 * DAY));
    // A disabled key is not rotated until it is enabled again.
    rec.disable(ME).unwrap();
    assert!(!rec.rotate_if_due(next + 100 * DAY).unwrap());
    rec.enable(ME).unwrap();
    assert!(rec.rotate_if_due(next + 100 * DAY).unwrap());
    assert_eq!(rec.materials.len(), 3);
    rec.disable_rotation(ME).unwrap();
    assert!(!rec.rotation.enabled);
    assert_eq!(rec.rotation.next_rotation, None);
    assert!(!rec.rotate_if_due(u64::MAX).unwrap());
    rec.enable_rotation(ME, Some(2560), NOW + 1000 * DAY)
        .unwrap();
    assert_eq!(rec.rotation.next_rotation, Some(NOW + 3560 * DAY));
}

#[test]
fn aws_managed_keys() {
    let mut req = new_key(KeySpec::SymmetricDefault, None);
    req.manager = KeyManager::Aws;
    let mut rec = KeyRecord::create(req, NOW).unwrap();
    assert!(rec.rotation.enabled, "AWS managed keys rotate yearly");
    assert_eq!(rec.rotation.next_rotation, Some(NOW + 365 * DAY));
    let blob = enc(&rec, b"x").unwrap();
    assert_code(rec.disable(ME), "AccessDeniedException");
    assert_code(rec.enable(ME), "AccessDeniedException");
    assert_code(
        rec.schedule_deletion(ME, None, NOW),
        "AccessDeniedException",
    );
    assert_code(rec.cancel_deletion(ME), "AccessDeniedException");
    assert_code(rec.put_policy(ME, "{}".into()), "AccessDeniedException");
    assert_code(rec.rotate_on_demand(ME, NOW), "AccessDeniedException");
    assert_code(
        rec.enable_rotation(ME, Some(90), NOW),
        "AccessDeniedException",
    );
    assert_code(rec.disable_rotation(ME), "AccessDeniedException");
    assert_code(
        rec.update_description(ME, "d".into()),
        "AccessDeniedException",
    );
    assert_eq!(rec.state, KeyState::Enabled);
    assert!(rec.rotate_if_due(NOW + 365 * DAY).unwrap());
    assert_eq!(dec(&rec, &blob).unwrap(), b"x");
}

#[test]
fn policy_and_description_updates() {
    let mut rec = symmetric();
    rec.put_policy(ME, "{\"Version\":\"2012-10-17\"}".into())
        .unwrap();
    assert_eq!(rec.policy, "{\"Version\":\"2012-10-17\"}");
    rec.update_description(ME, "new".into()).unwrap();
    assert_eq!(rec.description, "new");
    assert_code(
        rec.update_description(ME, "d".repeat(8193)),
        "ValidationException",
    );
    assert_eq!(rec.description, "new");
}
