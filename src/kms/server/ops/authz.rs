//! Authorization: the key policy (the IAM subset documented in [`super::policy`]) and grants.
//!
//! The decision for a caller, an action and a key:
//! 1. a matching `Deny` statement in the key policy refuses (`... with an explicit deny in a
//!    resource-based policy`), whatever the grants say;
//! 2. otherwise a matching `Allow` statement allows;
//! 3. otherwise a grant on the key allows when its grantee covers the caller (the exact ARN, the
//!    account root, or a role for its sessions), its operations include the action, and its
//!    encryption-context constraint holds for the request (for operations that take a
//!    context);
//! 4. otherwise `AccessDeniedException` (`... because no resource-based policy allows the
//!    <action> action`).
//!
//! There are no IAM identity policies here: a key policy statement naming the account (its
//! root, as the default policy does) allows every principal of that account on its own.
//!
//! Grants are read from the registry's `State::grants`, their single source of truth: every
//! handler authorizes inside its `Registry::read`/`Registry::write` closure and passes the
//! grants of the state it holds, so a grant is effective as soon as CreateGrant returns and
//! gone as soon as RetireGrant or RevokeGrant does.
//!
//! Hot path: the key's policy is parsed once and cached by key ARN and text; with the default
//! policy the decision is a few string comparisons and never looks at grants.

use std::collections::BTreeMap;

use super::grants;
use super::policy::{self, Decision, Request};
use super::Ctx;
use crate::kms::server::model::KeyRecord;
use crate::kms::server::registry::Grant;
use crate::kms::wire::{ErrorCode, KmsError};

/// Allows or refuses `action` (e.g. `kms:Encrypt`) on `key` for the caller of `cx`, given the
/// request's encryption context and grant tokens. `grants` is `State::grants` of the registry
/// state the caller holds (the state `key` was read from).
pub(crate) fn authorize(
    cx: &Ctx<'_>,
    grants: &BTreeMap<String, Grant>,
    key: &KeyRecord,
    action: &str,
    context: Option<&BTreeMap<String, String>>,
    grant_tokens: &[String],
) -> Result<(), KmsError> {
    grants::check_tokens(grant_tokens)?;
    match policy_decision(cx, key, action, context) {
        Decision::Allow => Ok(()),
        Decision::ExplicitDeny => Err(denied(cx, key, action, true)),
        Decision::NoAllow => {
            if granted(cx, grants, key, action, context) {
                Ok(())
            } else {
                Err(denied(cx, key, action, false))
            }
        }
    }
}

/// What `key`'s policy says about `action` for the caller of `cx`.
pub(crate) fn policy_decision(
    cx: &Ctx<'_>,
    key: &KeyRecord,
    action: &str,
    context: Option<&BTreeMap<String, String>>,
) -> Decision {
    let p = &cx.caller.principal;
    policy::cached(&key.arn, &key.policy).evaluate(&Request {
        principal: &p.arn,
        account: &p.account_id,
        action,
        resource: &key.arn,
        context,
    })
}

/// The grants in `all` (`State::grants`) on `key` whose grantee covers the caller of `cx`.
pub(crate) fn caller_grants<'g>(
    cx: &'g Ctx<'_>,
    all: &'g BTreeMap<String, Grant>,
    key: &KeyRecord,
) -> impl Iterator<Item = &'g Grant> {
    let p = &cx.caller.principal;
    let key_id = key.key_id();
    all.values().filter(move |g| {
        g.key_id == key_id && policy::principal_matches(&g.grantee, &p.arn, &p.account_id)
    })
}

/// Whether one of the caller's grants on `key` allows `action` with `context`.
fn granted(
    cx: &Ctx<'_>,
    all: &BTreeMap<String, Grant>,
    key: &KeyRecord,
    action: &str,
    context: Option<&BTreeMap<String, String>>,
) -> bool {
    let Some(operation) = action.strip_prefix("kms:") else {
        return false;
    };
    caller_grants(cx, all, key).any(|g| grants::grant_allows(g, operation, context))
}

/// AWS's `AccessDeniedException` for the caller of `cx`.
pub(crate) fn denied(cx: &Ctx<'_>, key: &KeyRecord, action: &str, explicit: bool) -> KmsError {
    access_denied(&cx.caller.principal.arn, action, &key.arn, explicit)
}

/// `AccessDeniedException` with AWS's wording.
pub(crate) fn access_denied(
    principal: &str,
    action: &str,
    key_arn: &str,
    explicit: bool,
) -> KmsError {
    let why = if explicit {
        "with an explicit deny in a resource-based policy".to_owned()
    } else {
        format!("because no resource-based policy allows the {action} action")
    };
    KmsError::new(
        ErrorCode::AccessDenied,
        format!(
            "User: {principal} is not authorized to perform: {action} on resource: {key_arn} {why}"
        ),
    )
}
