//! Key policies: GetKeyPolicy, PutKeyPolicy, ListKeyPolicies. The grant operations live in
//! `grant_ops.rs` and are re-exported here for the dispatcher.
//!
//! - The policy is stored and returned exactly as given (byte for byte); [`super::policy`]
//!   validates it (`ValidationException`, `LimitExceededException` over 32768 bytes,
//!   `MalformedPolicyDocumentException`) and evaluates a documented subset of it.
//! - `PolicyName` must match botocore's `[\w]+` (1-128 characters, else
//!   `ValidationException`); only `default` exists, any other name is `NotFoundException`.
//! - PutKeyPolicy refuses a policy that would not let the caller put a policy again
//!   (`MalformedPolicyDocumentException` `The new key policy will not allow you to update the
//!   key policy in the future.`) unless `BypassPolicyLockoutSafetyCheck` is true, as AWS does.
//! - AWS managed keys: their policy grants no `kms:PutKeyPolicy`, so PutKeyPolicy is
//!   `AccessDeniedException`, as in AWS.
//! - Every key state allows these operations (AWS's key-state table).

use super::authz;
use super::meta::{check_key_id, constraint};
use super::page::{page_size, paginate};
use super::policy;
use super::Ctx;
use crate::kms::wire::{
    decode_request, encode_response, EmptyResponse, ErrorCode, GetKeyPolicyRequest,
    GetKeyPolicyResponse, KmsError, ListKeyPoliciesRequest, ListKeyPoliciesResponse,
    PutKeyPolicyRequest,
};

pub(crate) use super::grant_ops::{
    create_grant, list_grants, list_retirable_grants, retire_grant, revoke_grant,
};

/// The only key policy name.
const DEFAULT_POLICY: &str = "default";
/// ListKeyPolicies `Limit`: 1-1000, default 100.
const LIST_LIMIT: std::ops::RangeInclusive<u32> = 1..=1000;
const LIST_DEFAULT: u32 = 100;

/// `PolicyName`: 1-128 word characters; then only `default` exists.
fn check_policy_name(name: &str) -> Result<(), KmsError> {
    let len = name.chars().count();
    if len == 0 {
        return Err(constraint(
            name,
            "policyName",
            "have length greater than or equal to 1",
        ));
    }
    if len > 128 {
        return Err(constraint(
            name,
            "policyName",
            "have length less than or equal to 128",
        ));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(constraint(
            name,
            "policyName",
            "satisfy regular expression pattern: [\\w]+",
        ));
    }
    Ok(())
}

fn policy_exists(name: &str) -> Result<(), KmsError> {
    if name == DEFAULT_POLICY {
        Ok(())
    } else {
        Err(KmsError::new(
            ErrorCode::NotFound,
            format!("Policy {name} does not exist."),
        ))
    }
}

/// `GetKeyPolicy`.
pub(crate) fn get_key_policy(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: GetKeyPolicyRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    let name = req.policy_name.as_deref().unwrap_or(DEFAULT_POLICY);
    check_policy_name(name)?;
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.read(|s| {
        let key = s.key(&req.key_id)?;
        arn = Some(key.arn.clone());
        authz::authorize(shared, &s.grants, key, "kms:GetKeyPolicy", None, &[])?;
        policy_exists(name)?;
        Ok::<_, KmsError>(key.policy.clone())
    });
    cx.event.key_arn = arn;
    encode_response(&GetKeyPolicyResponse {
        policy: Some(out?),
        policy_name: Some(DEFAULT_POLICY.to_owned()),
    })
}

/// `PutKeyPolicy`.
pub(crate) fn put_key_policy(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: PutKeyPolicyRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    let name = req.policy_name.as_deref().unwrap_or(DEFAULT_POLICY);
    check_policy_name(name)?;
    policy::check_shape(&req.policy)?;
    let bypass = req.bypass_policy_lockout_safety_check == Some(true);
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let principal = &shared.caller.principal;
    let out = shared.kms.registry.write(|s, changes| {
        let key = s.key(&req.key_id)?;
        arn = Some(key.arn.clone());
        authz::authorize(shared, &s.grants, key, "kms:PutKeyPolicy", None, &[])?;
        policy_exists(name)?;
        let parsed = policy::validate(&req.policy)?;
        if !bypass {
            policy::check_lockout(&parsed, &principal.arn, &principal.account_id, &key.arn)?;
        }
        let key = s.key_mut(&req.key_id)?;
        key.put_policy(&principal.arn, req.policy.clone())?;
        changes.key(&key.key_id());
        Ok(())
    });
    cx.event.key_arn = arn;
    out?;
    encode_response(&EmptyResponse {})
}

/// `ListKeyPolicies`: always `["default"]`.
pub(crate) fn list_key_policies(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: ListKeyPoliciesRequest = decode_request(cx.body)?;
    check_key_id("keyId", &req.key_id)?;
    page_size(req.limit, &LIST_LIMIT, LIST_DEFAULT)?;
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.read(|s| {
        let key = s.key(&req.key_id)?;
        arn = Some(key.arn.clone());
        authz::authorize(shared, &s.grants, key, "kms:ListKeyPolicies", None, &[])
    });
    cx.event.key_arn = arn;
    out?;
    let page = paginate(
        "policies",
        vec![(DEFAULT_POLICY.to_owned(), DEFAULT_POLICY.to_owned())],
        req.limit,
        &LIST_LIMIT,
        LIST_DEFAULT,
        req.marker.as_deref(),
    )?;
    encode_response(&ListKeyPoliciesResponse {
        policy_names: Some(page.items),
        next_marker: page.next_marker,
        truncated: Some(page.truncated),
    })
}
