//! Keys: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription, EnableKey, DisableKey,
//! ScheduleKeyDeletion, CancelKeyDeletion; and [`delete_key`], the real deletion of a key
//! whose waiting period has passed.
//!
//! Handlers that act on an existing key resolve it and check authorization under the read
//! lock ([`target`]), then change it under the write lock ([`update_key`]); authorization never
//! runs under the write lock. CreateKey generates the key material (slow for RSA) before
//! taking any lock.
//!
//! Key states, as AWS's key-state table has them: DescribeKey and ListKeys work in every
//! state; Enable/DisableKey, UpdateKeyDescription and ScheduleKeyDeletion refuse a key pending
//! deletion (`KMSInvalidStateException`); CancelKeyDeletion needs one (and leaves it Disabled).
//! AWS managed keys refuse every administrative change with AWS's `AccessDeniedException`.

use super::authz::authorize;
use super::meta::{check_i32, check_key_id, check_tags, constraint, key_metadata};
use super::{managed, page, Ctx};
use crate::kms::server::model::{
    self, check_grant_tokens, KeyManager, KeyRecord, KeyState, NewKey, Origin, MAX_DESCRIPTION,
    PENDING_WINDOW_DAYS,
};
use crate::kms::server::registry::{Changes, State};
use crate::kms::wire::{self, decode_request, encode_response, ErrorCode, KmsError};

/// ListKeys `Limit`.
const LIST_KEYS_LIMIT: std::ops::RangeInclusive<u32> = 1..=1000;

fn unsupported(what: &str) -> KmsError {
    KmsError::new(
        ErrorCode::UnsupportedOperation,
        format!("{what} is not supported by this server."),
    )
}

fn check_description(description: &str) -> Result<(), KmsError> {
    if description.chars().count() > MAX_DESCRIPTION {
        let rule = format!("have length less than or equal to {MAX_DESCRIPTION}");
        return Err(constraint(description, "description", &rule));
    }
    Ok(())
}

/// The parameters of the key a CreateKey request asks for.
fn new_key(cx: &Ctx<'_>, req: wire::CreateKeyRequest) -> Result<NewKey, KmsError> {
    let description = req.description.unwrap_or_default();
    check_description(&description)?;
    if let Some(policy) = &req.policy {
        super::policy::validate(policy)?;
    }
    let tags = check_tags(req.tags.as_deref().unwrap_or_default())?;
    let spec = match (req.key_spec, req.customer_master_key_spec) {
        (Some(_), Some(_)) => {
            return Err(KmsError::new(
                ErrorCode::Validation,
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. \
                 CustomerMasterKeySpec is deprecated.",
            ))
        }
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => model::KeySpec::SymmetricDefault,
    };
    if let Some(origin) = req.origin {
        if origin != Origin::AwsKms {
            return Err(unsupported(&format!("Origin {origin}")));
        }
    }
    if req.custom_key_store_id.is_some() || req.xks_key_id.is_some() {
        return Err(unsupported("A custom key store"));
    }
    if req.multi_region == Some(true) {
        return Err(unsupported("A multi-Region key"));
    }
    let config = &cx.kms.config;
    Ok(NewKey {
        account: config.account_id.clone(),
        region: config.region.clone(),
        spec,
        usage: req.key_usage,
        description,
        manager: KeyManager::Customer,
        policy: req
            .policy
            .unwrap_or_else(|| managed::default_policy(&config.account_id)),
        tags,
    })
}

/// `CreateKey`. Creating a key is an IAM action on the account, not on a key policy: allowed.
pub(crate) fn create_key(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::CreateKeyRequest = decode_request(cx.body)?;
    let new = new_key(&cx, req)?;
    let rec = KeyRecord::create(new, cx.kms.clock.now())?;
    let metadata = key_metadata(&rec);
    let id = rec.key_id();
    cx.event.key_arn = Some(rec.arn.clone());
    cx.kms.registry.write(|state, changes| {
        state.keys.insert(id.clone(), rec);
        changes.key(&id);
        Ok(())
    })?;
    encode_response(&wire::CreateKeyResponse {
        key_metadata: Some(metadata),
    })
}

/// Resolves the `KeyId` member `key_id` (id, key ARN, alias name or alias ARN), records the key
/// ARN in the audit event, and checks that the caller may do `action` on the key. Returns the
/// key id. Runs under the read lock only.
pub(crate) fn target(
    cx: &mut Ctx<'_>,
    key_id: &str,
    action: &str,
    grant_tokens: &[String],
) -> Result<String, KmsError> {
    resolve(cx, key_id, Some((action, grant_tokens)))
}

/// Like [`target`], for operations whose permission is an IAM permission on the account rather
/// than a key policy permission (ListAliases): no authorization, as there are no IAM policies
/// here.
pub(crate) fn resolve(
    cx: &mut Ctx<'_>,
    key_id: &str,
    authz: Option<(&str, &[String])>,
) -> Result<String, KmsError> {
    check_key_id("keyId", key_id)?;
    if let Some((_, tokens)) = authz {
        check_grant_tokens(tokens.len())?;
    }
    let view = &*cx;
    let (id, arn, allowed) = view.kms.registry.read(|s| {
        let rec = s.key(key_id)?;
        let allowed = match authz {
            Some((action, tokens)) => authorize(view, &s.grants, rec, action, None, tokens),
            None => Ok(()),
        };
        Ok::<_, KmsError>((rec.key_id(), rec.arn.clone(), allowed))
    })?;
    cx.event.key_arn = Some(arn);
    allowed?;
    Ok(id)
}

/// Applies `f` to key `id` under the write lock and persists the key.
pub(crate) fn update_key<R>(
    cx: &Ctx<'_>,
    id: &str,
    f: impl FnOnce(&mut KeyRecord) -> Result<R, KmsError>,
) -> Result<R, KmsError> {
    cx.kms.registry.write(|state, changes| {
        let rec = state.key_mut(id)?;
        let out = f(rec)?;
        changes.key(id);
        Ok(out)
    })
}

/// `DescribeKey` (any key state; creates a configured AWS managed key on first use).
pub(crate) fn describe_key(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::DescribeKeyRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    managed::ensure(&cx, &req.key_id)?;
    let tokens = req.grant_tokens.unwrap_or_default();
    let id = target(&mut cx, &req.key_id, "kms:DescribeKey", &tokens)?;
    let metadata = cx.kms.registry.read(|s| s.key(&id).map(key_metadata))?;
    encode_response(&wire::DescribeKeyResponse {
        key_metadata: Some(metadata),
    })
}

/// `ListKeys`: every key of the account in every state, oldest first (ties by id).
pub(crate) fn list_keys(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::ListKeysRequest = decode_request(cx.body)?;
    let entries = cx.kms.registry.read(|s| {
        s.keys
            .values()
            .map(|k| {
                let id = k.key_id();
                let sort = format!("{:020}/{id}", k.created);
                let entry = wire::KeyListEntry {
                    key_id: Some(id),
                    key_arn: Some(k.arn.clone()),
                };
                (sort, entry)
            })
            .collect::<Vec<_>>()
    });
    let page = page::paginate(
        "keys",
        entries,
        req.limit,
        &LIST_KEYS_LIMIT,
        100,
        req.marker.as_deref(),
    )?;
    encode_response(&wire::ListKeysResponse {
        keys: Some(page.items),
        next_marker: page.next_marker,
        truncated: Some(page.truncated),
    })
}

/// Refuses a key pending deletion (or in any state but Enabled and Disabled).
fn not_pending_deletion(rec: &KeyRecord) -> Result<(), KmsError> {
    match rec.state {
        KeyState::Enabled | KeyState::Disabled => Ok(()),
        state => Err(model::ModelError::key_state(&rec.arn, state).into()),
    }
}

/// `UpdateKeyDescription`.
pub(crate) fn update_key_description(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::UpdateKeyDescriptionRequest = decode_request(cx.body)?;
    check_description(&req.description)?;
    let id = target(&mut cx, &req.key_id, "kms:UpdateKeyDescription", &[])?;
    let principal = cx.caller.principal.arn.clone();
    update_key(&cx, &id, |rec| {
        model::check_customer_managed(rec, model::AdminAction::UpdateKeyDescription, &principal)?;
        not_pending_deletion(rec)?;
        Ok(rec.update_description(&principal, req.description)?)
    })?;
    encode_response(&wire::UpdateKeyDescriptionResponse {})
}

/// `EnableKey`.
pub(crate) fn enable_key(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::EnableKeyRequest = decode_request(cx.body)?;
    let id = target(&mut cx, &req.key_id, "kms:EnableKey", &[])?;
    let principal = cx.caller.principal.arn.clone();
    update_key(&cx, &id, |rec| Ok(rec.enable(&principal)?))?;
    encode_response(&wire::EnableKeyResponse {})
}

/// `DisableKey`.
pub(crate) fn disable_key(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::DisableKeyRequest = decode_request(cx.body)?;
    let id = target(&mut cx, &req.key_id, "kms:DisableKey", &[])?;
    let principal = cx.caller.principal.arn.clone();
    update_key(&cx, &id, |rec| Ok(rec.disable(&principal)?))?;
    encode_response(&wire::DisableKeyResponse {})
}

/// `ScheduleKeyDeletion`: PendingWindowInDays 7–30 (default 30). Answers the key ARN, the
/// deletion date, the new state and the window.
pub(crate) fn schedule_key_deletion(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::ScheduleKeyDeletionRequest = decode_request(cx.body)?;
    let window = req
        .pending_window_in_days
        .map(|d| check_i32("pendingWindowInDays", d, &PENDING_WINDOW_DAYS))
        .transpose()?;
    let id = target(&mut cx, &req.key_id, "kms:ScheduleKeyDeletion", &[])?;
    let principal = cx.caller.principal.arn.clone();
    let now = cx.kms.clock.now();
    let (arn, date, days) = update_key(&cx, &id, |rec| {
        let date = rec.schedule_deletion(&principal, window, now)?;
        Ok((rec.arn.clone(), date, rec.pending_window_days))
    })?;
    encode_response(&wire::ScheduleKeyDeletionResponse {
        key_id: Some(arn),
        deletion_date: Some(date as f64),
        key_state: Some(wire::KeyState::PendingDeletion),
        pending_window_in_days: days.and_then(|d| i32::try_from(d).ok()),
    })
}

/// `CancelKeyDeletion`: the key is left Disabled. Answers the key ARN.
pub(crate) fn cancel_key_deletion(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::CancelKeyDeletionRequest = decode_request(cx.body)?;
    let id = target(&mut cx, &req.key_id, "kms:CancelKeyDeletion", &[])?;
    let principal = cx.caller.principal.arn.clone();
    let arn = update_key(&cx, &id, |rec| {
        rec.cancel_deletion(&principal)?;
        Ok(rec.arn.clone())
    })?;
    encode_response(&wire::CancelKeyDeletionResponse { key_id: Some(arn) })
}

/// Deletes key `id` for good, with its aliases and grants, recording every change. Used when
/// a key's waiting period has passed. Deleting a key that is already gone does nothing.
/// Returns the ids of the grants removed.
pub(crate) fn delete_key(state: &mut State, changes: &mut Changes, id: &str) -> Vec<String> {
    if state.keys.remove(id).is_some() {
        changes.key_deleted(id);
    }
    let aliases: Vec<String> = state
        .aliases
        .values()
        .filter(|a| a.target_key_id == id)
        .map(|a| a.name.clone())
        .collect();
    for name in aliases {
        state.aliases.remove(&name);
        changes.alias_deleted(&name);
    }
    let grants: Vec<String> = state
        .grants
        .values()
        .filter(|g| g.key_id == id)
        .map(|g| g.id.clone())
        .collect();
    for gid in &grants {
        state.grants.remove(gid);
        changes.grant_deleted(gid);
    }
    grants
}
