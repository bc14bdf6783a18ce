//! Structures shared by several operations: `KeyMetadata`, `Tag`, list entries, grant
//! constraints and the Nitro Enclaves `Recipient`.
//!
//! Member names and required-ness follow service-2.json. In output shapes every member but
//! `KeyMetadata.KeyId` is optional, so the client reads moto (which sends `null`s and omits
//! members) and future AWS versions alike.

use serde::{Deserialize, Serialize};

use super::blob::Blob;
use super::enums::{
    EncryptionAlgorithm, ExpirationModel, GrantOperation, KeyEncryptionAlgorithm, KeyManager,
    KeySpec, KeyState, KeyUsage, MacAlgorithm, MultiRegionKeyType, Origin, RotationType,
    SigningAlgorithm,
};
use super::{EncryptionContext, Timestamp};

/// `KeyMetadata`: everything DescribeKey says about a key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    /// Owning account (`AWSAccountId` on the wire).
    #[serde(
        rename = "AWSAccountId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub aws_account_id: Option<String>,
    /// The bare key id (a UUID or `mrk-...`).
    pub key_id: String,
    /// The key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Timestamp>,
    /// Whether the key state is `Enabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Key usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<KeyUsage>,
    /// Key state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_state: Option<KeyState>,
    /// When a key pending deletion will be deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_date: Option<Timestamp>,
    /// When imported key material expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    /// Origin of the key material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Custom key store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    /// CloudHSM cluster id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_hsm_cluster_id: Option<String>,
    /// Expiration model of imported material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<ExpirationModel>,
    /// AWS or customer managed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_manager: Option<KeyManager>,
    /// Deprecated twin of `KeySpec`, still sent by AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_master_key_spec: Option<KeySpec>,
    /// Key spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<KeySpec>,
    /// Encryption algorithms the key supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<EncryptionAlgorithm>>,
    /// Signing algorithms the key supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<SigningAlgorithm>>,
    /// Key agreement algorithms (`ECDH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<String>>,
    /// Key encapsulation algorithms (ML-KEM keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<String>>,
    /// Whether this is a multi-Region key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region: Option<bool>,
    /// Multi-Region primary and replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region_configuration: Option<MultiRegionConfiguration>,
    /// Waiting period of a key pending deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_deletion_window_in_days: Option<i32>,
    /// MAC algorithms the key supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_algorithms: Option<Vec<MacAlgorithm>>,
    /// External key store key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xks_key_configuration: Option<XksKeyConfiguration>,
    /// The key material Encrypt currently uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_key_material_id: Option<String>,
}

/// `MultiRegionConfiguration`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionConfiguration {
    /// Primary or replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_region_key_type: Option<MultiRegionKeyType>,
    /// The primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<MultiRegionKey>,
    /// The replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_keys: Option<Vec<MultiRegionKey>>,
}

/// `MultiRegionKey`: one key of a multi-Region set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MultiRegionKey {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// `XksKeyConfigurationType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct XksKeyConfiguration {
    /// The external key's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// `Tag`: both members required (key 1-128 chars, value 0-256).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// Tag key.
    pub tag_key: String,
    /// Tag value (may be empty).
    pub tag_value: String,
}

/// `KeyListEntry` of ListKeys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyListEntry {
    /// Bare key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_arn: Option<String>,
}

/// `AliasListEntry` of ListAliases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasListEntry {
    /// `alias/<name>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_name: Option<String>,
    /// Alias ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_arn: Option<String>,
    /// Bare id of the key it points to (absent for unassigned AWS managed aliases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_key_id: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Timestamp>,
    /// Last UpdateAlias time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_date: Option<Timestamp>,
}

/// `GrantConstraints`: encryption-context conditions on a grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantConstraints {
    /// The request's context must contain these pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_subset: Option<EncryptionContext>,
    /// The request's context must equal this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context_equals: Option<EncryptionContext>,
    /// Source ARN condition (newest botocore models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_arn: Option<String>,
}

/// `GrantListEntry` of ListGrants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrantListEntry {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Grant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    /// Friendly name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Timestamp>,
    /// Who may use the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grantee_principal: Option<String>,
    /// Who may retire the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_principal: Option<String>,
    /// Account that created the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_account: Option<String>,
    /// Permitted operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<GrantOperation>>,
    /// Encryption-context constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<GrantConstraints>,
}

/// `RotationsListEntry` of ListKeyRotations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationsListEntry {
    /// Bare key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The material this rotation created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
    /// Description of imported material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_description: Option<String>,
    /// `IMPORTED` or `PENDING_IMPORT` (imported keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_state: Option<String>,
    /// `CURRENT`, `NON_CURRENT`, `PENDING_ROTATION`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_state: Option<String>,
    /// Expiration model of imported material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_model: Option<ExpirationModel>,
    /// When imported material expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<Timestamp>,
    /// When the rotation happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_date: Option<Timestamp>,
    /// Automatic or on demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_type: Option<RotationType>,
}

/// `RecipientInfo`: a Nitro Enclave's attestation, for `CiphertextForRecipient` answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecipientInfo {
    /// How to encrypt for the enclave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_encryption_algorithm: Option<KeyEncryptionAlgorithm>,
    /// The signed attestation document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation_document: Option<Blob>,
}
