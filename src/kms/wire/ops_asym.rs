//! Asymmetric, MAC and random operations: GenerateDataKeyPair(+WithoutPlaintext),
//! GenerateMac, VerifyMac, Sign, Verify, GetPublicKey and GenerateRandom.
//!
//! Public keys are DER X.509 SubjectPublicKeyInfo, private keys DER PKCS#8, both as [`Blob`].
//! A failed Verify/VerifyMac is an error (`KMSInvalidSignatureException` /
//! `KMSInvalidMacException`), so `SignatureValid`/`MacValid` are only ever `true` from AWS.

use serde::{Deserialize, Serialize};

use super::blob::Blob;
use super::enums::{
    DataKeyPairSpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm, MessageType,
    SigningAlgorithm,
};
use super::shapes::RecipientInfo;
use super::EncryptionContext;

/// GenerateDataKeyPair input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairRequest {
    /// Encryption context (AAD) for the private key's encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    /// Symmetric encryption key that encrypts the private key.
    pub key_id: String,
    /// Type of the pair.
    pub key_pair_spec: DataKeyPairSpec,
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

/// GenerateDataKeyPair output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairResponse {
    /// The private key, encrypted under `KeyId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_ciphertext_blob: Option<Blob>,
    /// The private key (PKCS#8 DER); absent when a recipient was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_plaintext: Option<Blob>,
    /// The public key (SPKI DER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<Blob>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Type of the pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair_spec: Option<DataKeyPairSpec>,
    /// The private key encrypted for the recipient enclave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_for_recipient: Option<Blob>,
    /// The key material that encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

/// GenerateDataKeyPairWithoutPlaintext input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextRequest {
    /// Encryption context (AAD) for the private key's encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_context: Option<EncryptionContext>,
    /// Symmetric encryption key that encrypts the private key.
    pub key_id: String,
    /// Type of the pair.
    pub key_pair_spec: DataKeyPairSpec,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// GenerateDataKeyPairWithoutPlaintext output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateDataKeyPairWithoutPlaintextResponse {
    /// The private key, encrypted under `KeyId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_ciphertext_blob: Option<Blob>,
    /// The public key (SPKI DER).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<Blob>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Type of the pair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pair_spec: Option<DataKeyPairSpec>,
    /// The key material that encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_material_id: Option<String>,
}

/// GenerateMac input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacRequest {
    /// Message, at most 4096 bytes.
    pub message: Blob,
    /// HMAC key.
    pub key_id: String,
    /// MAC algorithm (must match the key spec).
    pub mac_algorithm: MacAlgorithm,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// GenerateMac output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateMacResponse {
    /// The MAC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<Blob>,
    /// MAC algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_algorithm: Option<MacAlgorithm>,
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// VerifyMac input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacRequest {
    /// Message, at most 4096 bytes.
    pub message: Blob,
    /// HMAC key.
    pub key_id: String,
    /// MAC algorithm.
    pub mac_algorithm: MacAlgorithm,
    /// The MAC to check.
    pub mac: Blob,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// VerifyMac output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyMacResponse {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `true` (a bad MAC is `KMSInvalidMacException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_valid: Option<bool>,
    /// MAC algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_algorithm: Option<MacAlgorithm>,
}

/// Sign input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignRequest {
    /// SIGN_VERIFY key.
    pub key_id: String,
    /// Message or digest, at most 4096 bytes.
    pub message: Blob,
    /// RAW (default), DIGEST or EXTERNAL_MU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Signing algorithm.
    pub signing_algorithm: SigningAlgorithm,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Sign output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignResponse {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The signature (DER for ECDSA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<Blob>,
    /// Signing algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<SigningAlgorithm>,
}

/// Verify input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyRequest {
    /// SIGN_VERIFY key.
    pub key_id: String,
    /// Message or digest, at most 4096 bytes.
    pub message: Blob,
    /// RAW (default), DIGEST or EXTERNAL_MU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<MessageType>,
    /// The signature to check.
    pub signature: Blob,
    /// Signing algorithm.
    pub signing_algorithm: SigningAlgorithm,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
    /// Check permissions only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

/// Verify output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifyResponse {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `true` (a bad signature is `KMSInvalidSignatureException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_valid: Option<bool>,
    /// Signing algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<SigningAlgorithm>,
}

/// GetPublicKey input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyRequest {
    /// Asymmetric key.
    pub key_id: String,
    /// Grant tokens (at most 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_tokens: Option<Vec<String>>,
}

/// GetPublicKey output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPublicKeyResponse {
    /// Key ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// SPKI DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<Blob>,
    /// Deprecated twin of `KeySpec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_master_key_spec: Option<KeySpec>,
    /// Key spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_spec: Option<KeySpec>,
    /// Key usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_usage: Option<KeyUsage>,
    /// For ENCRYPT_DECRYPT keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_algorithms: Option<Vec<EncryptionAlgorithm>>,
    /// For SIGN_VERIFY keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_algorithms: Option<Vec<SigningAlgorithm>>,
    /// For KEY_AGREEMENT keys (`ECDH`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_agreement_algorithms: Option<Vec<String>>,
    /// For ENCAPSULATE_DECAPSULATE keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encapsulation_algorithms: Option<Vec<String>>,
}

/// GenerateRandom input. `NumberOfBytes` (1-1024) is optional in the model but has no default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomRequest {
    /// How many bytes, 1-1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_bytes: Option<i32>,
    /// CloudHSM key store to draw from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_key_store_id: Option<String>,
    /// Nitro Enclave recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<RecipientInfo>,
}

/// GenerateRandom output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GenerateRandomResponse {
    /// The random bytes (absent when a recipient was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<Blob>,
    /// The bytes encrypted for the recipient enclave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext_for_recipient: Option<Blob>,
}
