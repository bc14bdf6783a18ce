//! Administrative operations: aliases, tags, key policies and grants.
//!
//! Operations with the same input shape share one struct; every operation still has its
//! `<Op>Request` and `<Op>Response` name (a type alias where shared).

use serde::{Deserialize, Serialize};

use super::enums::GrantOperation;
use super::shapes::{AliasListEntry, GrantConstraints, GrantListEntry, Tag};
use super::EmptyResponse;

/// CreateAlias / UpdateAlias input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasRequest {
    /// `alias/<name>` (1-256 chars, `^[a-zA-Z0-9:/_-]+$`, not `alias/aws/...`).
    pub alias_name: String,
    /// Key id or key ARN (not an alias).
    pub target_key_id: String,
}

/// CreateAlias input.
pub type CreateAliasRequest = AliasRequest;
/// CreateAlias output.
pub type CreateAliasResponse = EmptyResponse;
/// UpdateAlias input.
pub type UpdateAliasRequest = AliasRequest;
/// UpdateAlias output.
pub type UpdateAliasResponse = EmptyResponse;

/// DeleteAlias input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAliasRequest {
    /// `alias/<name>`.
    pub alias_name: String,
}

/// DeleteAlias output.
pub type DeleteAliasResponse = EmptyResponse;

/// ListAliases input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesRequest {
    /// Only aliases of this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Page size, 1-100 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// `NextMarker` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

/// ListAliases output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliasesResponse {
    /// This page of aliases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases: Option<Vec<AliasListEntry>>,
    /// Marker of the next page, when `Truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Whether more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// TagResource input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    /// The key.
    pub key_id: String,
    /// Tags to add or overwrite.
    pub tags: Vec<Tag>,
}

/// TagResource output.
pub type TagResourceResponse = EmptyResponse;

/// UntagResource input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    /// The key.
    pub key_id: String,
    /// Tag keys to remove.
    pub tag_keys: Vec<String>,
}

/// UntagResource output.
pub type UntagResourceResponse = EmptyResponse;

/// Input of the paginated per-key listings: ListResourceTags and ListKeyPolicies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPageRequest {
    /// The key.
    pub key_id: String,
    /// Page size, 1-1000 (ListKeyPolicies: 1-1000, default 100; ListResourceTags: 1-50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// `NextMarker` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

/// ListResourceTags input.
pub type ListResourceTagsRequest = KeyPageRequest;

/// ListResourceTags output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceTagsResponse {
    /// This page of tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Marker of the next page, when `Truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Whether more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// GetKeyPolicy input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyRequest {
    /// The key.
    pub key_id: String,
    /// Only `default` exists (and is the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
}

/// GetKeyPolicy output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyPolicyResponse {
    /// The policy document (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
}

/// PutKeyPolicy input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutKeyPolicyRequest {
    /// The key.
    pub key_id: String,
    /// Only `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_name: Option<String>,
    /// The policy document (JSON text, at most 131072 chars).
    pub policy: String,
    /// Skip the policy lockout check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass_policy_lockout_safety_check: Option<bool>,
}

/// PutKeyPolicy output.
pub type PutKeyPolicyResponse = EmptyResponse;
/// ListKeyPolicies input.
pub type ListKeyPoliciesRequest = KeyPageRequest;

/// ListKeyPolicies output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyPoliciesResponse {
    /// Policy names (always `["default"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_names: Option<Vec<String>>,
    /// Marker of the next page, when `Truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Whether more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// CreateGrant input. `GranteePrincipal` was required before the service-principal members
/// were added; it is optional here and the server checks that a grantee is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantRequest {
    /// The key (id or ARN).
    pub key_id: String,
    /// Principal ARN allowed to use the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee_principal: Option<String>,
    /// Principal ARN allowed to retire the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    /// Permitted operations.
    pub operations: Vec<GrantOperation>,
    /// Encryption-context constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Friendly name; a repeated name returns the existing grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Service principal allowed to use the grant (newest models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee_service_principal: Option<String>,
    /// Service principal allowed to retire the grant (newest models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_service_principal: Option<String>,
}

/// CreateGrant output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateGrantResponse {
    /// Token usable immediately in `GrantTokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_token: Option<String>,
    /// Grant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
}

/// ListGrants input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsRequest {
    /// Page size, 1-100 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// `NextMarker` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// The key (id or ARN).
    pub key_id: String,
    /// Only this grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Only grants for this grantee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee_principal: Option<String>,
}

/// ListGrants output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrantsResponse {
    /// This page of grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<GrantListEntry>>,
    /// Marker of the next page, when `Truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Whether more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// ListRetirableGrants input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRetirableGrantsRequest {
    /// Page size, 1-100 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// `NextMarker` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// The retiring principal whose grants to list.
    pub retiring_principal: String,
}

/// ListRetirableGrants output: ListGrants' shape.
pub type ListRetirableGrantsResponse = ListGrantsResponse;

/// RetireGrant input: a `GrantToken`, or `KeyId` and `GrantId` together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetireGrantRequest {
    /// The grant's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_token: Option<String>,
    /// Key ARN of the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Grant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// RetireGrant output.
pub type RetireGrantResponse = EmptyResponse;

/// RevokeGrant input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RevokeGrantRequest {
    /// The key (id or ARN).
    pub key_id: String,
    /// Grant id.
    pub grant_id: String,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// RevokeGrant output.
pub type RevokeGrantResponse = EmptyResponse;
