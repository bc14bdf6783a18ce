//! Symmetric data-plane operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey and
//! GenerateDataKeyWithoutPlaintext.
//!
//! Plaintexts and data keys travel in [`Blob`]s (zeroized on drop, length-only `Debug`). The
//! `KeyId` of every output is the key ARN, never an alias.

use serde::{Deserialize, Serialize};

use super::blob::Blob;
use super::enums::{DataKeySpec, EncryptionAlgorithm};
use super::shapes::RecipientInfo;
use super::EncryptionContext;

/// Encrypt input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptRequest {
    /// The key (id, ARN, alias name or alias ARN).
    pub key_id: String,
    /// 1-4096 bytes.
    pub plaintext: Blob,
    /// Encryption context (AAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Algorithm (default SYMMETRIC_DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Encrypt output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptResponse {
    /// The ciphertext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_blob: Option<Blob>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Algorithm used (moto omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
}

/// Decrypt input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptRequest {
    /// The ciphertext, 1-6144 bytes.
    pub ciphertext_blob: Blob,
    /// Must equal the context given at encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Expected key; optional for symmetric ciphertexts (IncorrectKeyException if it differs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Algorithm (default SYMMETRIC_DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Nitro Enclave recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientInfo>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Dry-run modifiers (`IGNORE_CIPHERTEXT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// Decrypt output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DecryptResponse {
    /// Key ARN of the key that decrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The plaintext (absent when a recipient was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<Blob>,
    /// Algorithm used (moto omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Plaintext encrypted for the recipient enclave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_for_recipient: Option<Blob>,
    /// The key material that decrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

/// ReEncrypt input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptRequest {
    /// The ciphertext to re-encrypt.
    pub ciphertext_blob: Blob,
    /// Its encryption context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_encryption_context: Option<EncryptionContext>,
    /// Expected source key (optional for symmetric ciphertexts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_key_id: Option<String>,
    /// Key to re-encrypt under.
    pub destination_key_id: String,
    /// New encryption context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_encryption_context: Option<EncryptionContext>,
    /// Source algorithm (default SYMMETRIC_DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Destination algorithm (default SYMMETRIC_DEFAULT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
    /// Dry-run modifiers (`IGNORE_CIPHERTEXT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_modifiers: Option<Vec<String>>,
}

/// ReEncrypt output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReEncryptResponse {
    /// The new ciphertext.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_blob: Option<Blob>,
    /// Source key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_key_id: Option<String>,
    /// Destination key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Source algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Destination algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_encryption_algorithm: Option<EncryptionAlgorithm>,
    /// Source key material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_key_material_id: Option<String>,
    /// Destination key material.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_key_material_id: Option<String>,
}

/// GenerateDataKey input. Exactly one of `NumberOfBytes` and `KeySpec` must be given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyRequest {
    /// Symmetric encryption key.
    pub key_id: String,
    /// Encryption context (AAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    /// Key length, 1-1024 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_bytes: Option<i32>,
    /// AES_256 or AES_128.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<DataKeySpec>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Nitro Enclave recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientInfo>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// GenerateDataKey output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyResponse {
    /// The data key, encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_blob: Option<Blob>,
    /// The data key in plaintext (absent when a recipient was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<Blob>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The data key encrypted for the recipient enclave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_for_recipient: Option<Blob>,
    /// The key material that encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

/// GenerateDataKeyWithoutPlaintext input. Exactly one of `NumberOfBytes` and `KeySpec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextRequest {
    /// Symmetric encryption key.
    pub key_id: String,
    /// Encryption context (AAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    /// AES_256 or AES_128.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<DataKeySpec>,
    /// Key length, 1-1024 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_bytes: Option<i32>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// GenerateDataKeyWithoutPlaintext output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyWithoutPlaintextResponse {
    /// The data key, encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_blob: Option<Blob>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The key material that encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}
