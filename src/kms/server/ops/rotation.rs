//! Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
//! RotateKeyOnDemand, ListKeyRotations, and the background runner of due deletions and
//! automatic rotations ([`run_due_tasks`]).
//!
//! Rotation only ever appends a key material (the model keeps every earlier one), so any
//! ciphertext made before a rotation still decrypts. On-demand rotation completes at once here,
//! so `OnDemandRotationStartDate` (the start of a rotation *in progress*) is never returned;
//! `ListKeyRotations` shows the finished rotation straight away.

use super::authz::authorize;
use super::keys::delete_key;
use super::meta::{check_i32, check_key_id};
use super::page::paginate;
use super::Ctx;
use crate::kms::server::model::{KeyRecord, KeySpec, KeyState, ROTATION_PERIOD_DAYS};
use crate::kms::server::registry::{Changes, State};
use crate::kms::server::service::Kms;
use crate::kms::wire::{
    decode_request, encode_response, DisableKeyRotationRequest, EmptyResponse,
    EnableKeyRotationRequest, ErrorCode, GetKeyRotationStatusRequest, GetKeyRotationStatusResponse,
    IncludeKeyMaterial, KmsError, ListKeyRotationsRequest, ListKeyRotationsResponse,
    RotateKeyOnDemandRequest, RotateKeyOnDemandResponse, RotationsListEntry,
};

/// `ListKeyRotations` page size when `Limit` is not given.
const DEFAULT_LIMIT: u32 = 100;
/// `Limit` of `ListKeyRotations`.
const LIMIT_RANGE: std::ops::RangeInclusive<u32> = 1..=1000;

/// Resolves `key_id` under the write lock, authorizes `action`, applies `f` to the key and
/// records the change. The key's ARN goes into the audit event whatever the outcome.
fn update_key<R>(
    cx: &mut Ctx<'_>,
    key_id: &str,
    action: &str,
    f: impl FnOnce(&mut KeyRecord, &str, u64) -> Result<R, KmsError>,
) -> Result<R, KmsError> {
    let mut arn = None;
    let result = {
        let shared: &Ctx<'_> = cx;
        let principal = shared.caller.principal.arn.as_str();
        shared
            .kms
            .registry
            .write(|state: &mut State, changes: &mut Changes| {
                let id = state.resolve(key_id)?;
                let rec = state
                    .keys
                    .get_mut(&id)
                    .ok_or_else(|| KmsError::not_found_key(key_id))?;
                arn = Some(rec.arn.clone());
                authorize(shared, &state.grants, rec, action, None, &[])?;
                let now = shared.kms.clock.now();
                let out = f(rec, principal, now)?;
                changes.key(&id);
                Ok(out)
            })
    };
    cx.event.key_arn = arn;
    result
}

/// Resolves `key_id` under the read lock, authorizes `action` and applies `f` to the key.
fn read_key<R>(
    cx: &mut Ctx<'_>,
    key_id: &str,
    action: &str,
    f: impl FnOnce(&KeyRecord) -> Result<R, KmsError>,
) -> Result<R, KmsError> {
    let mut arn = None;
    let result = {
        let shared: &Ctx<'_> = cx;
        shared.kms.registry.read(|state| {
            let rec = state.key(key_id)?;
            arn = Some(rec.arn.clone());
            authorize(shared, &state.grants, rec, action, None, &[])?;
            f(rec)
        })
    };
    cx.event.key_arn = arn;
    result
}

/// GetKeyRotationStatus and ListKeyRotations are for symmetric encryption keys only.
fn check_symmetric(rec: &KeyRecord) -> Result<(), KmsError> {
    if rec.spec == KeySpec::SymmetricDefault {
        Ok(())
    } else {
        Err(KmsError::new(
            ErrorCode::UnsupportedOperation,
            format!(
                "{} key spec is {}. You cannot perform this operation on a non-symmetric key \
                 or a key with non-ENCRYPT_DECRYPT key usage.",
                rec.arn, rec.spec
            ),
        ))
    }
}

/// `EnableKeyRotation`.
pub(crate) fn enable_key_rotation(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: EnableKeyRotationRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    let period = req
        .rotation_period_in_days
        .map(|p| check_i32("rotationPeriodInDays", p, &ROTATION_PERIOD_DAYS))
        .transpose()?;
    update_key(
        &mut cx,
        &req.key_id,
        "kms:EnableKeyRotation",
        |rec, who, now| Ok(rec.enable_rotation(who, period, now)?),
    )?;
    encode_response(&EmptyResponse {})
}

/// `DisableKeyRotation`.
pub(crate) fn disable_key_rotation(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: DisableKeyRotationRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    update_key(
        &mut cx,
        &req.key_id,
        "kms:DisableKeyRotation",
        |rec, who, _| Ok(rec.disable_rotation(who)?),
    )?;
    encode_response(&EmptyResponse {})
}

/// `GetKeyRotationStatus`: works in every key state; a key pending deletion reports rotation
/// off (AWS restores the setting if the deletion is cancelled).
pub(crate) fn get_key_rotation_status(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: GetKeyRotationStatusRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    let resp = read_key(&mut cx, &req.key_id, "kms:GetKeyRotationStatus", |rec| {
        check_symmetric(rec)?;
        let on = rec.rotation.enabled && rec.state != KeyState::PendingDeletion;
        Ok(GetKeyRotationStatusResponse {
            key_rotation_enabled: Some(on),
            key_id: Some(rec.arn.clone()),
            rotation_period_in_days: on
                .then(|| i32::try_from(rec.rotation.period_days).unwrap_or(i32::MAX)),
            next_rotation_date: if on {
                rec.rotation.next_rotation.map(|t| t as f64)
            } else {
                None
            },
            on_demand_rotation_start_date: None,
        })
    })?;
    encode_response(&resp)
}

/// `RotateKeyOnDemand`: at most 25 per key; answers the key ARN.
pub(crate) fn rotate_key_on_demand(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: RotateKeyOnDemandRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    let arn = update_key(
        &mut cx,
        &req.key_id,
        "kms:RotateKeyOnDemand",
        |rec, who, now| {
            rec.rotate_on_demand(who, now)?;
            Ok(rec.arn.clone())
        },
    )?;
    encode_response(&RotateKeyOnDemandResponse { key_id: Some(arn) })
}

/// `ListKeyRotations`: the key's materials made by rotation (or, with `ALL_KEY_MATERIAL`, every
/// material), oldest first, paginated.
pub(crate) fn list_key_rotations(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: ListKeyRotationsRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    let all = req.include_key_material == Some(IncludeKeyMaterial::AllKeyMaterial);
    let resp = read_key(&mut cx, &req.key_id, "kms:ListKeyRotations", |rec| {
        check_symmetric(rec)?;
        let page = paginate(
            &format!("rotations/{}", rec.key_id()),
            rotation_entries(rec, all),
            req.limit,
            &LIMIT_RANGE,
            DEFAULT_LIMIT,
            req.marker.as_deref(),
        )?;
        Ok(ListKeyRotationsResponse {
            rotations: Some(page.items),
            next_marker: page.next_marker,
            truncated: Some(page.truncated),
        })
    })?;
    encode_response(&resp)
}

/// The `RotationsListEntry`s of `rec`, keyed by material index (materials only ever append, so
/// the index is a stable sort key for pagination).
fn rotation_entries(rec: &KeyRecord, all: bool) -> Vec<(String, RotationsListEntry)> {
    let last = rec.materials.len().saturating_sub(1);
    rec.materials
        .iter()
        .enumerate()
        .filter(|(_, m)| all || m.rotation.is_some())
        .map(|(i, m)| {
            let entry = RotationsListEntry {
                key_id: Some(rec.key_id()),
                key_material_id: Some(m.id.to_string()),
                key_material_state: Some(
                    if i == last { "CURRENT" } else { "NON_CURRENT" }.to_owned(),
                ),
                rotation_date: m.rotation.map(|_| m.created as f64),
                rotation_type: m.rotation,
                ..RotationsListEntry::default()
            };
            (format!("{i:05}"), entry)
        })
        .collect()
}

/// Whether automatic rotation of `rec` is due at `now` (what `rotate_if_due` would do).
fn rotation_due(rec: &KeyRecord, now: u64) -> bool {
    rec.rotation.enabled
        && rec.state == KeyState::Enabled
        && rec.rotation.next_rotation.is_some_and(|t| t <= now)
}

/// Applies due deletions (keys whose waiting period has passed are really deleted, with their
/// aliases and grants) and due automatic rotations, at KMS time. Takes the write lock only
/// when something is due.
pub(crate) fn run_due_tasks(kms: &Kms) -> Result<(), KmsError> {
    let now = kms.clock.now();
    let (delete, rotate): (Vec<String>, Vec<String>) = kms.registry.read(|s| {
        let delete = s
            .keys
            .iter()
            .filter(|(_, k)| k.deletion_due(now))
            .map(|(id, _)| id.clone())
            .collect();
        let rotate = s
            .keys
            .iter()
            .filter(|(_, k)| rotation_due(k, now))
            .map(|(id, _)| id.clone())
            .collect();
        (delete, rotate)
    });
    if delete.is_empty() && rotate.is_empty() {
        return Ok(());
    }
    let failed = kms.registry.write(|state, changes| {
        // A failed rotation (its RNG) does not stop the other tasks; it is reported once
        // everything done is persisted, and leaves its key as is.
        let mut failed = None;
        for id in &delete {
            if state.keys.get(id).is_some_and(|k| k.deletion_due(now)) {
                delete_key(state, changes, id);
            }
        }
        for id in &rotate {
            if let Some(k) = state.keys.get_mut(id) {
                match k.rotate_if_due(now) {
                    Ok(true) => changes.key(id),
                    Ok(false) => {}
                    Err(e) => failed = Some(KmsError::from(e)),
                }
            }
        }
        Ok(failed)
    })?;
    failed.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_due;
