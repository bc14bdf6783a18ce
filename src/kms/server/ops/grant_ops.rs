//! Grants: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant.
//!
//! - CreateGrant needs `GranteePrincipal` (service principals are not supported) and at least
//!   one operation valid for the key (`ValidationException` otherwise: e.g. `Sign` on a
//!   symmetric key). Encryption-context constraints: `EncryptionContextSubset` or
//!   `EncryptionContextEquals` (not both), at most 8 pairs, values at most 384 characters, only
//!   on symmetric encryption keys; `SourceArn` is `UnsupportedOperationException`.
//!   Authorization: `kms:CreateGrant` in the key policy, or a grant of the caller that has the
//!   CreateGrant operation, every requested operation, and a constraint at most as permissive
//!   (as AWS). The key must be Enabled (key-state table: `DisabledException` when disabled,
//!   `KMSInvalidStateException` when pending deletion). A repeated `Name` with identical
//!   parameters returns the existing `GrantId` and a fresh token, as AWS does. At most 50,000
//!   grants per key (`LimitExceededException`).
//! - Every other operation here works in every key state.
//! - ListGrants: `kms:ListGrants`; `Limit` 1-100 (default 50), `Marker`, filters `GrantId`
//!   and `GranteePrincipal`; grants in creation order.
//! - RetireGrant: by `GrantToken`, or `KeyId` and `GrantId` (`ValidationException` when
//!   neither is given). Allowed for the retiring principal, the grantee when the grant has the
//!   RetireGrant operation, the issuing account's root, and whoever the key policy allows
//!   `kms:RetireGrant` (an explicit deny there refuses). A malformed token is
//!   `InvalidGrantTokenException`, a malformed id `InvalidGrantIdException`, and a well-formed
//!   token or id of no grant (of that key) `NotFoundException`.
//! - RevokeGrant: `kms:RevokeGrant` in the key policy; unknown grant `NotFoundException`.
//! - ListRetirableGrants: the grants, on every key, whose retiring principal is the given one
//!   (see `grant_ops/retirable.rs`).
//! - DryRun answers `DryRunOperationException` once every check has passed.

mod create;
mod retirable;

use super::grants;
use super::keyuse::check_dry_run;
use super::meta::{check_key_id, constraint};
use super::page::{page_size, paginate};
use super::policy::{principal_matches, Decision};
use super::{authz, Ctx};
use crate::kms::server::model::KeyRecord;
use crate::kms::server::registry::{Changes, Grant, State};
use crate::kms::wire::{
    decode_request, encode_response, EmptyResponse, ErrorCode, GrantConstraints, GrantListEntry,
    GrantOperation, KmsError, ListGrantsRequest, ListGrantsResponse, RetireGrantRequest,
    RevokeGrantRequest,
};

pub(crate) use create::create_grant;
pub(crate) use retirable::list_retirable_grants;

const LIST_LIMIT: std::ops::RangeInclusive<u32> = 1..=100;
const LIST_DEFAULT: u32 = 50;

/// A principal member: 1-256 characters of `[\w+=,.@:/-]`.
fn check_principal(member: &str, value: &str) -> Result<(), KmsError> {
    let len = value.chars().count();
    if len == 0 || len > 256 {
        return Err(constraint(
            value,
            member,
            "have length less than or equal to 256",
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_alphanumeric() || "_+=,.@:/-".contains(c))
    {
        let rule = "satisfy regular expression pattern: ^[\\w+=,.@:/-]+$";
        return Err(constraint(value, member, rule));
    }
    Ok(())
}

fn list_entry(g: &Grant, key_arn: &str) -> GrantListEntry {
    let constraints =
        (g.context_subset.is_some() || g.context_equals.is_some()).then(|| GrantConstraints {
            encryption_context_subset: g.context_subset.clone(),
            encryption_context_equals: g.context_equals.clone(),
            source_arn: None,
        });
    GrantListEntry {
        key_id: Some(key_arn.to_owned()),
        grant_id: Some(g.id.clone()),
        name: g.name.clone(),
        creation_date: Some(g.created as f64),
        grantee_principal: Some(g.grantee.clone()),
        retiring_principal: g.retiring.clone(),
        issuing_account: Some(g.issuer.clone()),
        operations: Some(
            g.operations
                .iter()
                .filter_map(|o| o.parse::<GrantOperation>().ok())
                .collect(),
        ),
        constraints,
    }
}

/// `ListGrants`.
pub(crate) fn list_grants(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: ListGrantsRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    page_size(req.limit, &LIST_LIMIT, LIST_DEFAULT)?;
    if let Some(id) = &req.grant_id {
        grants::check_id(id)?;
    }
    if let Some(p) = &req.grantee_principal {
        check_principal("granteePrincipal", p)?;
    }
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let entries = shared.kms.registry.read(|s| {
        let key = s.key(&req.key_id)?;
        arn = Some(key.arn.clone());
        authz::authorize(shared, &s.grants, key, "kms:ListGrants", None, &[])?;
        let key_id = key.key_id();
        Ok::<_, KmsError>(
            s.grants
                .values()
                .filter(|g| g.key_id == key_id)
                .filter(|g| req.grant_id.as_ref().is_none_or(|id| *id == g.id))
                .filter(|g| {
                    req.grantee_principal
                        .as_ref()
                        .is_none_or(|p| *p == g.grantee)
                })
                .map(|g| {
                    (
                        format!("{:020}/{}", g.created, g.id),
                        list_entry(g, &key.arn),
                    )
                })
                .collect::<Vec<_>>(),
        )
    });
    cx.event.key_arn = arn;
    let page = paginate(
        "grants",
        entries?,
        req.limit,
        &LIST_LIMIT,
        LIST_DEFAULT,
        req.marker.as_deref(),
    )?;
    encode_response(&ListGrantsResponse {
        grants: Some(page.items),
        next_marker: page.next_marker,
        truncated: Some(page.truncated),
    })
}

fn grant_not_found(id: &str) -> KmsError {
    KmsError::new(ErrorCode::NotFound, format!("Grant ID {id} not found"))
}

/// Who may retire `g` (see the module header).
fn may_retire(cx: &Ctx<'_>, key: &KeyRecord, g: &Grant) -> Result<(), KmsError> {
    const ACTION: &str = "kms:RetireGrant";
    let p = &cx.caller.principal;
    let decision = authz::policy_decision(cx, key, ACTION, None);
    if decision == Decision::ExplicitDeny {
        return Err(authz::denied(cx, key, ACTION, true));
    }
    let covers = |who: &str| principal_matches(who, &p.arn, &p.account_id);
    let allowed = decision == Decision::Allow
        || g.retiring.as_deref().is_some_and(covers)
        || (covers(&g.grantee) && g.operations.iter().any(|o| o == "RetireGrant"))
        || p.arn == g.issuer;
    if allowed {
        Ok(())
    } else {
        Err(authz::denied(cx, key, ACTION, false))
    }
}

/// Removes grant `id` (under the write lock) from the state and, on commit, the keystore.
fn remove_grant(s: &mut State, changes: &mut Changes, id: &str) {
    s.grants.remove(id);
    changes.grant_deleted(id);
}

/// `RetireGrant`.
pub(crate) fn retire_grant(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: RetireGrantRequest = decode_request(cx.body)?;
    let (grant_id, key_hint) = match (&req.grant_token, &req.key_id, &req.grant_id) {
        (Some(token), _, given) => {
            grants::check_tokens(std::slice::from_ref(token))?;
            let id = grants::token_grant_id(token)?;
            if let Some(given) = given {
                grants::check_id(given)?;
                if *given != id {
                    return Err(KmsError::new(
                        ErrorCode::InvalidGrantId,
                        "The grant ID does not match the grant token.",
                    ));
                }
            }
            (id, req.key_id.clone())
        }
        (None, Some(k), Some(id)) => {
            check_key_id("keyId", k)?;
            grants::check_id(id)?;
            (id.clone(), Some(k.clone()))
        }
        _ => {
            return Err(KmsError::new(
                ErrorCode::Validation,
                "Either GrantToken, or both KeyId and GrantId, must be specified.",
            ))
        }
    };
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.write(|s, changes| {
        let named_key = key_hint.as_deref().map(|k| s.resolve(k)).transpose()?;
        let g = s
            .grants
            .get(&grant_id)
            .filter(|g| named_key.as_ref().is_none_or(|k| *k == g.key_id))
            .ok_or_else(|| grant_not_found(&grant_id))?;
        let key = s
            .keys
            .get(&g.key_id)
            .ok_or_else(|| grant_not_found(&grant_id))?;
        arn = Some(key.arn.clone());
        may_retire(shared, key, g)?;
        check_dry_run(req.dry_run)?;
        remove_grant(s, changes, &grant_id);
        Ok(())
    });
    cx.event.key_arn = arn;
    out?;
    encode_response(&EmptyResponse {})
}

/// `RevokeGrant`.
pub(crate) fn revoke_grant(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: RevokeGrantRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    grants::check_id(&req.grant_id)?;
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.write(|s, changes| {
        let key = s.key(&req.key_id)?;
        arn = Some(key.arn.clone());
        authz::authorize(shared, &s.grants, key, "kms:RevokeGrant", None, &[])?;
        let key_id = key.key_id();
        s.grants
            .get(&req.grant_id)
            .filter(|g| g.key_id == key_id)
            .ok_or_else(|| grant_not_found(&req.grant_id))?;
        check_dry_run(req.dry_run)?;
        remove_grant(s, changes, &req.grant_id);
        Ok(())
    });
    cx.event.key_arn = arn;
    out?;
    encode_response(&EmptyResponse {})
}
