//! Key lifecycle operations: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription,
//! Enable/DisableKey, Schedule/CancelKeyDeletion, and the rotation operations.
//!
//! Operations with the same input or output shape share one struct; every operation still has
//! its `<Op>Request` and `<Op>Response` name (a type alias where shared).

use serde::{Deserialize, Serialize};

use super::enums::{IncludeKeyMaterial, KeySpec, KeyState, KeyUsage, Origin};
use super::shapes::{KeyListEntry, KeyMetadata, RotationsListEntry, Tag};
use super::{EmptyResponse, Timestamp};

/// Input with only the required `KeyId` (key id, key ARN, alias name or alias ARN).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdRequest {
    /// The key.
    pub key_id: String,
}

/// Output with only `KeyId`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyIdResponse {
    /// The key (ARN for CancelKeyDeletion and RotateKeyOnDemand).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// Output with only `KeyMetadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadataResponse {
    /// The key's metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_metadata: Option<KeyMetadata>,
}

/// CreateKey input. Every member is optional: `{}` creates a symmetric encryption key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateKeyRequest {
    /// Key policy (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Key usage (default ENCRYPT_DECRYPT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<KeyUsage>,
    /// Deprecated alias of `KeySpec`; AWS rejects a request giving both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_master_key_spec: Option<KeySpec>,
    /// Key spec (default SYMMETRIC_DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<KeySpec>,
    /// Origin (default AWS_KMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Custom key store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    /// Skip the policy lockout check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass_policy_lockout_safety_check: Option<bool>,
    /// Initial tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// Create a multi-Region primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<bool>,
    /// External key store key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xks_key_id: Option<String>,
}

/// CreateKey output.
pub type CreateKeyResponse = KeyMetadataResponse;

/// DescribeKey input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeKeyRequest {
    /// The key.
    pub key_id: String,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
}

/// DescribeKey output.
pub type DescribeKeyResponse = KeyMetadataResponse;

/// ListKeys input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysRequest {
    /// Page size, 1-1000 (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// `NextMarker` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// Account filter (newest botocore models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_owners: Option<Vec<String>>,
}

/// ListKeys output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeysResponse {
    /// This page of keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<KeyListEntry>>,
    /// Marker of the next page, when `Truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Whether more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}

/// UpdateKeyDescription input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateKeyDescriptionRequest {
    /// The key.
    pub key_id: String,
    /// New description (may be empty).
    pub description: String,
}

/// UpdateKeyDescription output.
pub type UpdateKeyDescriptionResponse = EmptyResponse;
/// EnableKey input.
pub type EnableKeyRequest = KeyIdRequest;
/// EnableKey output.
pub type EnableKeyResponse = EmptyResponse;
/// DisableKey input.
pub type DisableKeyRequest = KeyIdRequest;
/// DisableKey output.
pub type DisableKeyResponse = EmptyResponse;

/// ScheduleKeyDeletion input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionRequest {
    /// The key.
    pub key_id: String,
    /// Waiting period (AWS docs: 7-30, default 30; the model allows 1-365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<i32>,
}

/// ScheduleKeyDeletion output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleKeyDeletionResponse {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// When the key will be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    /// `PendingDeletion` (or `PendingReplicaDeletion`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_state: Option<KeyState>,
    /// The waiting period applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<i32>,
}

/// CancelKeyDeletion input.
pub type CancelKeyDeletionRequest = KeyIdRequest;
/// CancelKeyDeletion output (the key ARN; the key is left `Disabled`).
pub type CancelKeyDeletionResponse = KeyIdResponse;

/// EnableKeyRotation input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EnableKeyRotationRequest {
    /// The key (id or ARN; aliases are not accepted by AWS).
    pub key_id: String,
    /// Rotation period, 90-2560 days (default 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i32>,
}

/// EnableKeyRotation output.
pub type EnableKeyRotationResponse = EmptyResponse;
/// DisableKeyRotation input.
pub type DisableKeyRotationRequest = KeyIdRequest;
/// DisableKeyRotation output.
pub type DisableKeyRotationResponse = EmptyResponse;
/// GetKeyRotationStatus input.
pub type GetKeyRotationStatusRequest = KeyIdRequest;

/// GetKeyRotationStatus output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetKeyRotationStatusResponse {
    /// Whether automatic rotation is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_rotation_enabled: Option<bool>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Rotation period in days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_period_in_days: Option<i32>,
    /// Next automatic rotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<Timestamp>,
    /// Start of an on-demand rotation still in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_rotation_start_date: Option<Timestamp>,
}

/// RotateKeyOnDemand input.
pub type RotateKeyOnDemandRequest = KeyIdRequest;
/// RotateKeyOnDemand output (the key ARN).
pub type RotateKeyOnDemandResponse = KeyIdResponse;

/// ListKeyRotations input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsRequest {
    /// The key (id or ARN).
    pub key_id: String,
    /// Which materials to list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_key_material: Option<IncludeKeyMaterial>,
    /// Page size, 1-1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i32>,
    /// `NextMarker` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
}

/// ListKeyRotations output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListKeyRotationsResponse {
    /// This page of rotations, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotations: Option<Vec<RotationsListEntry>>,
    /// Marker of the next page, when `Truncated`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    /// Whether more pages follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
}
