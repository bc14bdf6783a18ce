//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. The tag operations, which the
//! dispatcher also routes here, live in `tags.rs`.
//!
//! Rules, as AWS documents them:
//! - `AliasName` is 1–256 characters of `[a-zA-Z0-9:/_-]` (`ValidationException` otherwise),
//!   then `alias/<name>` without `:` and not under the reserved `alias/aws/`
//!   (`InvalidAliasNameException`);
//! - `TargetKeyId` names a key by id or key ARN, never an alias (`ValidationException`);
//! - the target must be a customer managed key (AWS managed keys' policies allow no alias
//!   administration: `AccessDeniedException`) that is not pending deletion
//!   (`KMSInvalidStateException`); Disabled keys are fine;
//! - UpdateAlias moves an alias only between keys of the same type (symmetric, asymmetric or
//!   HMAC) and key usage (`ValidationException`); the current key may be pending deletion;
//! - DeleteAlias works whatever the key's state.
//!
//! ListAliases lists the aliases of the account, or of one key, sorted by name. Without
//! `KeyId` it also lists the configured AWS managed aliases (`alias/aws/volcrypt`) whose key
//! does not exist yet, without `TargetKeyId` or dates, as AWS lists its predefined aliases.

use super::authz::authorize;
use super::keys::{resolve, target};
use super::meta::{check_key_id, constraint};
use super::{page, Ctx};
use crate::kms::server::model::{check_alias_name, KeyManager, KeyRecord, KeySpec, KeyState};
use crate::kms::server::registry::Alias;
use crate::kms::wire::{self, decode_request, encode_response, ErrorCode, KmsError};

pub(crate) use super::tags::{list_resource_tags, tag_resource, untag_resource};

/// ListAliases `Limit`.
const LIST_ALIASES_LIMIT: std::ops::RangeInclusive<u32> = 1..=100;

/// The ARN of alias `name` (`alias/...`).
pub(crate) fn alias_arn(cx: &Ctx<'_>, name: &str) -> String {
    let c = &cx.kms.config;
    format!("arn:aws:kms:{}:{}:{name}", c.region, c.account_id)
}

/// `AliasName`: AWS's shape constraints, then the alias rules of the model.
fn check_name(name: &str) -> Result<(), KmsError> {
    let len = name.chars().count();
    if len == 0 {
        return Err(constraint(
            name,
            "aliasName",
            "have length greater than or equal to 1",
        ));
    }
    if len > crate::kms::server::model::MAX_ALIAS_LEN {
        let rule = "have length less than or equal to 256";
        return Err(constraint(name, "aliasName", rule));
    }
    let pattern_ok = name
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b':' | b'/' | b'_' | b'-'));
    if !pattern_ok {
        let rule = "satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$";
        return Err(constraint(name, "aliasName", rule));
    }
    Ok(check_alias_name(name)?)
}

/// `TargetKeyId`: a key id or key ARN.
fn check_target(target_key_id: &str) -> Result<(), KmsError> {
    check_key_id("targetKeyId", target_key_id)?;
    if target_key_id.starts_with("alias/") || target_key_id.contains(":alias/") {
        return Err(KmsError::new(
            ErrorCode::Validation,
            "Aliases must refer to keys. Not aliases",
        ));
    }
    Ok(())
}

/// AWS managed keys' policies allow no alias administration.
fn check_customer_key(cx: &Ctx<'_>, rec: &KeyRecord, action: &str) -> Result<(), KmsError> {
    if rec.manager == KeyManager::Aws {
        let principal = &cx.caller.principal.arn;
        return Err(KmsError::new(
            ErrorCode::AccessDenied,
            format!(
                "User: {principal} is not authorized to perform: {action} on resource: {} \
                 because no resource-based policy allows the {action} action",
                rec.arn
            ),
        ));
    }
    Ok(())
}

/// The key may become an alias target: not pending deletion.
fn check_target_state(rec: &KeyRecord) -> Result<(), KmsError> {
    match rec.state {
        KeyState::Enabled | KeyState::Disabled => Ok(()),
        state => Err(crate::kms::server::model::ModelError::key_state(&rec.arn, state).into()),
    }
}

fn not_found(cx: &Ctx<'_>, name: &str) -> KmsError {
    KmsError::not_found_alias(&alias_arn(cx, name))
}

/// Symmetric, asymmetric or HMAC.
fn key_type(rec: &KeyRecord) -> u8 {
    if rec.spec == KeySpec::SymmetricDefault {
        0
    } else if !rec.spec.mac_algorithms().is_empty() {
        2
    } else {
        1
    }
}

/// `CreateAlias`.
pub(crate) fn create_alias(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::CreateAliasRequest = decode_request(cx.body)?;
    check_name(&req.alias_name)?;
    check_target(&req.target_key_id)?;
    let name = req.alias_name;
    if cx.kms.registry.read(|s| s.aliases.contains_key(&name)) {
        let arn = alias_arn(&cx, &name);
        return Err(KmsError::new(
            ErrorCode::AlreadyExists,
            format!("An alias with the name {arn} already exists"),
        ));
    }
    let id = target(&mut cx, &req.target_key_id, "kms:CreateAlias", &[])?;
    let arn = alias_arn(&cx, &name);
    let now = cx.kms.clock.now();
    let cx = &cx;
    cx.kms.registry.write(|state, changes| {
        let rec = state.key(&id)?;
        check_customer_key(cx, rec, "kms:CreateAlias")?;
        check_target_state(rec)?;
        if state.aliases.contains_key(&name) {
            return Err(KmsError::new(
                ErrorCode::AlreadyExists,
                format!("An alias with the name {arn} already exists"),
            ));
        }
        let alias = Alias {
            name: name.clone(),
            target_key_id: id.clone(),
            created: now,
            updated: now,
        };
        state.aliases.insert(name.clone(), alias);
        changes.alias(&name);
        Ok(())
    })?;
    encode_response(&wire::CreateAliasResponse {})
}

/// `UpdateAlias`: needs `kms:UpdateAlias` on both the current and the new key.
pub(crate) fn update_alias(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::UpdateAliasRequest = decode_request(cx.body)?;
    check_name(&req.alias_name)?;
    check_target(&req.target_key_id)?;
    let name = req.alias_name;
    let current = cx
        .kms
        .registry
        .read(|s| s.aliases.get(&name).map(|a| a.target_key_id.clone()))
        .ok_or_else(|| not_found(&cx, &name))?;
    let new_id = target(&mut cx, &req.target_key_id, "kms:UpdateAlias", &[])?;
    let view = &cx;
    view.kms.registry.read(|s| match s.keys.get(&current) {
        Some(old) => authorize(view, &s.grants, old, "kms:UpdateAlias", None, &[]),
        None => Ok(()),
    })?;
    let now = cx.kms.clock.now();
    let cx = &cx;
    cx.kms.registry.write(|state, changes| {
        let new = state.key(&new_id)?;
        check_customer_key(cx, new, "kms:UpdateAlias")?;
        check_target_state(new)?;
        let alias = state
            .aliases
            .get(&name)
            .ok_or_else(|| not_found(cx, &name))?;
        if let Some(old) = state.keys.get(&alias.target_key_id) {
            if key_type(old) != key_type(new) || old.usage != new.usage {
                return Err(KmsError::new(
                    ErrorCode::Validation,
                    format!(
                        "{} cannot be moved to {}: the current and new KMS key must be the \
                         same type (both symmetric, both asymmetric or both HMAC) and have \
                         the same key usage.",
                        name, new.arn
                    ),
                ));
            }
        }
        if let Some(alias) = state.aliases.get_mut(&name) {
            alias.target_key_id = new_id.clone();
            alias.updated = now;
        }
        changes.alias(&name);
        Ok(())
    })?;
    encode_response(&wire::UpdateAliasResponse {})
}

/// `DeleteAlias` (whatever the state of the key it points to).
pub(crate) fn delete_alias(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::DeleteAliasRequest = decode_request(cx.body)?;
    check_name(&req.alias_name)?;
    let name = req.alias_name;
    let view = &cx;
    let (arn, allowed) = view.kms.registry.read(|s| {
        let alias = s.aliases.get(&name).ok_or_else(|| not_found(view, &name))?;
        Ok::<_, KmsError>(match s.keys.get(&alias.target_key_id) {
            Some(rec) => (
                Some(rec.arn.clone()),
                authorize(view, &s.grants, rec, "kms:DeleteAlias", None, &[])
                    .and_then(|()| check_customer_key(view, rec, "kms:DeleteAlias")),
            ),
            None => (None, Ok(())),
        })
    })?;
    cx.event.key_arn = arn;
    allowed?;
    let cx = &cx;
    cx.kms.registry.write(|state, changes| {
        state
            .aliases
            .remove(&name)
            .ok_or_else(|| not_found(cx, &name))?;
        changes.alias_deleted(&name);
        Ok(())
    })?;
    encode_response(&wire::DeleteAliasResponse {})
}

/// `ListAliases`. Its permission, `kms:ListAliases`, is an IAM permission on the account, not
/// a key policy one (AWS: "Required permissions: kms:ListAliases (IAM policy)"): allowed.
pub(crate) fn list_aliases(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: wire::ListAliasesRequest = decode_request(cx.body)?;
    let only = match &req.key_id {
        Some(k) => Some(resolve(&mut cx, k, None)?),
        None => None,
    };
    let entry = |a: &Alias| wire::AliasListEntry {
        alias_name: Some(a.name.clone()),
        alias_arn: Some(alias_arn(&cx, &a.name)),
        target_key_id: Some(a.target_key_id.clone()),
        creation_date: Some(a.created as f64),
        last_updated_date: Some(a.updated as f64),
    };
    let mut entries: Vec<(String, wire::AliasListEntry)> = cx.kms.registry.read(|s| {
        s.aliases
            .values()
            .filter(|a| only.as_ref().is_none_or(|id| a.target_key_id == *id))
            .map(|a| (a.name.clone(), entry(a)))
            .collect()
    });
    if only.is_none() {
        for name in &cx.kms.config.managed_aliases {
            if !entries.iter().any(|(n, _)| n == name) {
                let e = wire::AliasListEntry {
                    alias_name: Some(name.clone()),
                    alias_arn: Some(alias_arn(&cx, name)),
                    ..wire::AliasListEntry::default()
                };
                entries.push((name.clone(), e));
            }
        }
    }
    let page = page::paginate(
        "aliases",
        entries,
        req.limit,
        &LIST_ALIASES_LIMIT,
        50,
        req.marker.as_deref(),
    )?;
    encode_response(&wire::ListAliasesResponse {
        aliases: Some(page.items),
        next_marker: page.next_marker,
        truncated: Some(page.truncated),
    })
}
