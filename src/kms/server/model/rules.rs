//! The pure checks of the key model: key state, key usage, algorithm-for-spec compatibility,
//! AWS managed keys, and the request limits AWS enforces. Each returns the [`ModelError`] AWS
//! answers with, in AWS's wording where AWS's wording is known:
//!
//! | check | error and message |
//! |---|---|
//! | key not Enabled | `DisabledException` `<arn> is disabled.`; `KMSInvalidStateException` `<arn> is pending deletion.` (or `pending import`, ...) |
//! | wrong usage | `InvalidKeyUsageException` `<arn> key usage is <USAGE> which is not valid for <Op>.` |
//! | algorithm does not fit spec | `InvalidKeyUsageException` `Algorithm <ALG> is incompatible with key spec <SPEC>.` |
//! | digest of the wrong length | `ValidationException` `Digest is invalid length for algorithm <ALG>.` |
//! | length / range limits | `ValidationException` `1 validation error detected: Value ... at '<member>' failed to satisfy constraint: Member must ...` |
//! | alias name rules | `InvalidAliasNameException` |
//! | AWS managed key, admin action | `AccessDeniedException` (see [`check_customer_managed`]) |

use std::ops::RangeInclusive;

use crate::crypto;

use super::error::ModelError;
use super::record::KeyRecord;
use super::specs::SpecKind;
use super::types::{
    DataKeySpec, EncryptionAlgorithm, KeyManager, KeySpec, KeyState, KeyUsage, MacAlgorithm,
    MessageType, SigningAlgorithm,
};

/// Plaintext of Encrypt: 1–4096 bytes.
pub const MAX_PLAINTEXT: usize = 4096;
/// CiphertextBlob of Decrypt / ReEncrypt: 1–6144 bytes.
pub const MAX_CIPHERTEXT: usize = 6144;
/// Message of Sign / Verify / GenerateMac / VerifyMac: 1–4096 bytes.
pub const MAX_MESSAGE: usize = 4096;
/// Signature of Verify and Mac of VerifyMac: 1–6144 bytes.
pub const MAX_SIGNATURE: usize = 6144;
/// NumberOfBytes of GenerateDataKey / GenerateRandom: 1–1024.
pub const NUMBER_OF_BYTES: RangeInclusive<u32> = 1..=1024;
/// GrantTokens: at most 10.
pub const MAX_GRANT_TOKENS: usize = 10;
/// AliasName: at most 256 characters.
pub const MAX_ALIAS_LEN: usize = 256;
/// Description: at most 8192 characters.
pub const MAX_DESCRIPTION: usize = 8192;
/// RotationPeriodInDays: 90–2560.
pub const ROTATION_PERIOD_DAYS: RangeInclusive<u32> = 90..=2560;
/// PendingWindowInDays: 7–30 (KMS's documented range), default 30.
pub const PENDING_WINDOW_DAYS: RangeInclusive<u32> = 7..=30;
/// The waiting period when ScheduleKeyDeletion names none.
pub const DEFAULT_PENDING_WINDOW_DAYS: u32 = 30;
/// On-demand rotations allowed per key.
pub const MAX_ON_DEMAND_ROTATIONS: u32 = 25;

/// A cryptographic operation, for the usage check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Encrypt.
    Encrypt,
    /// Decrypt.
    Decrypt,
    /// ReEncrypt (either side).
    ReEncrypt,
    /// GenerateDataKey.
    GenerateDataKey,
    /// GenerateDataKeyWithoutPlaintext.
    GenerateDataKeyWithoutPlaintext,
    /// GenerateDataKeyPair.
    GenerateDataKeyPair,
    /// GenerateDataKeyPairWithoutPlaintext.
    GenerateDataKeyPairWithoutPlaintext,
    /// Sign.
    Sign,
    /// Verify.
    Verify,
    /// GenerateMac.
    GenerateMac,
    /// VerifyMac.
    VerifyMac,
}

impl Operation {
    /// The API operation name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Encrypt => "Encrypt",
            Operation::Decrypt => "Decrypt",
            Operation::ReEncrypt => "ReEncrypt",
            Operation::GenerateDataKey => "GenerateDataKey",
            Operation::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Operation::GenerateDataKeyPair => "GenerateDataKeyPair",
            Operation::GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
            Operation::Sign => "Sign",
            Operation::Verify => "Verify",
            Operation::GenerateMac => "GenerateMac",
            Operation::VerifyMac => "VerifyMac",
        }
    }

    fn usage(self) -> KeyUsage {
        match self {
            Operation::Sign | Operation::Verify => KeyUsage::SignVerify,
            Operation::GenerateMac | Operation::VerifyMac => KeyUsage::GenerateVerifyMac,
            _ => KeyUsage::EncryptDecrypt,
        }
    }

    fn symmetric_only(self) -> bool {
        matches!(
            self,
            Operation::GenerateDataKey
                | Operation::GenerateDataKeyWithoutPlaintext
                | Operation::GenerateDataKeyPair
                | Operation::GenerateDataKeyPairWithoutPlaintext
        )
    }
}

/// The key can be used for a cryptographic operation: it is Enabled.
pub fn check_usable(rec: &KeyRecord) -> Result<(), ModelError> {
    match rec.state {
        KeyState::Enabled => Ok(()),
        state => Err(ModelError::key_state(&rec.arn, state)),
    }
}

/// The key's usage (and, for data-key operations, its spec) allows `op`.
pub fn check_usage(rec: &KeyRecord, op: Operation) -> Result<(), ModelError> {
    if rec.usage != op.usage() {
        return Err(ModelError::InvalidKeyUsage(format!(
            "{} key usage is {} which is not valid for {}.",
            rec.arn,
            rec.usage,
            op.name()
        )));
    }
    if op.symmetric_only() && rec.spec != KeySpec::SymmetricDefault {
        return Err(ModelError::InvalidKeyUsage(format!(
            "{} key spec is {} which is not valid for {}.",
            rec.arn,
            rec.spec,
            op.name()
        )));
    }
    Ok(())
}

fn incompatible(alg: impl std::fmt::Display, spec: KeySpec) -> ModelError {
    ModelError::InvalidKeyUsage(format!(
        "Algorithm {alg} is incompatible with key spec {spec}."
    ))
}

/// `alg` is one of the key spec's encryption algorithms.
pub fn check_encryption_algorithm(
    rec: &KeyRecord,
    alg: EncryptionAlgorithm,
) -> Result<(), ModelError> {
    if rec.spec.encryption_algorithms().contains(&alg) {
        Ok(())
    } else {
        Err(incompatible(alg, rec.spec))
    }
}

/// `alg` is one of the key spec's signing algorithms; returns its implementation.
pub fn check_signing_algorithm(
    rec: &KeyRecord,
    alg: SigningAlgorithm,
) -> Result<crypto::SignatureAlgorithm, ModelError> {
    match alg.to_crypto() {
        Some(c) if rec.spec.signing_algorithms().contains(&alg) => Ok(c),
        _ => Err(incompatible(alg, rec.spec)),
    }
}

/// `alg` is the key spec's MAC algorithm; returns its implementation.
pub fn check_mac_algorithm(
    rec: &KeyRecord,
    alg: MacAlgorithm,
) -> Result<crypto::MacAlgorithm, ModelError> {
    if rec.spec.mac_algorithms().contains(&alg) {
        Ok(alg.to_crypto())
    } else {
        Err(incompatible(alg, rec.spec))
    }
}

/// The message type fits the algorithm, and a DIGEST message has the digest's length.
pub fn check_message_type(
    rec: &KeyRecord,
    alg: crypto::SignatureAlgorithm,
    wire_alg: SigningAlgorithm,
    message_type: MessageType,
    message_len: usize,
) -> Result<crypto::MessageKind, ModelError> {
    match message_type {
        MessageType::Raw => Ok(crypto::MessageKind::Raw),
        MessageType::Digest if message_len == alg.digest_len() => Ok(crypto::MessageKind::Digest),
        MessageType::Digest => Err(ModelError::Validation(format!(
            "Digest is invalid length for algorithm {wire_alg}."
        ))),
        MessageType::ExternalMu => Err(ModelError::Validation(format!(
            "Message type {message_type} is incompatible with key spec {}.",
            rec.spec
        ))),
    }
}

/// A blob member's length is within `1..=max` (`value` is never echoed: blobs may be secret).
pub fn check_blob_len(member: &str, len: usize, max: usize) -> Result<(), ModelError> {
    if len < 1 {
        Err(ModelError::constraint(
            None,
            member,
            "have length greater than or equal to 1",
        ))
    } else if len > max {
        let rule = format!("have length less than or equal to {max}");
        Err(ModelError::constraint(None, member, &rule))
    } else {
        Ok(())
    }
}

/// A numeric member is within `range`.
pub fn check_range(
    member: &str,
    value: u32,
    range: &RangeInclusive<u32>,
) -> Result<(), ModelError> {
    let v = value.to_string();
    if value < *range.start() {
        let rule = format!("have value greater than or equal to {}", range.start());
        Err(ModelError::constraint(Some(&v), member, &rule))
    } else if value > *range.end() {
        let rule = format!("have value less than or equal to {}", range.end());
        Err(ModelError::constraint(Some(&v), member, &rule))
    } else {
        Ok(())
    }
}

/// The length of a data key: exactly one of `KeySpec` and `NumberOfBytes` (1–1024).
pub fn data_key_len(
    key_spec: Option<DataKeySpec>,
    number_of_bytes: Option<u32>,
) -> Result<usize, ModelError> {
    match (key_spec, number_of_bytes) {
        (Some(spec), None) => Ok(spec.key_len()),
        (None, Some(n)) => {
            check_range("numberOfBytes", n, &NUMBER_OF_BYTES)?;
            usize::try_from(n).map_err(|_| ModelError::internal())
        }
        _ => Err(ModelError::Validation(
            "Please specify either number of bytes or key spec.".to_owned(),
        )),
    }
}

/// At most [`MAX_GRANT_TOKENS`] grant tokens.
pub fn check_grant_tokens(count: usize) -> Result<(), ModelError> {
    if count > MAX_GRANT_TOKENS {
        let rule = format!("have length less than or equal to {MAX_GRANT_TOKENS}");
        return Err(ModelError::constraint(None, "grantTokens", &rule));
    }
    Ok(())
}

/// A customer alias name: `^alias/[a-zA-Z0-9/_-]+$`, at most 256 characters, not under the
/// reserved `alias/aws/` prefix.
pub fn check_alias_name(name: &str) -> Result<(), ModelError> {
    let rest = name.strip_prefix("alias/").unwrap_or("");
    let valid_chars = rest
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'-'));
    if rest.is_empty() || !valid_chars || name.len() > MAX_ALIAS_LEN {
        return Err(ModelError::InvalidAliasName(format!(
            "Alias name {name} is not valid. An alias name must begin with alias/ followed by \
             1 to 250 characters from a-z, A-Z, 0-9, /, _ and -."
        )));
    }
    if rest.starts_with("aws/") {
        return Err(ModelError::InvalidAliasName(format!(
            "Alias name {name} is not valid. Alias names beginning with alias/aws/ are \
             reserved for AWS managed keys."
        )));
    }
    Ok(())
}

/// The waiting period of ScheduleKeyDeletion (default 30).
pub fn pending_window(days: Option<u32>) -> Result<u32, ModelError> {
    let days = days.unwrap_or(DEFAULT_PENDING_WINDOW_DAYS);
    check_range("pendingWindowInDays", days, &PENDING_WINDOW_DAYS)?;
    Ok(days)
}

/// CreateKey's spec, usage and description; returns the usage (ENCRYPT_DECRYPT by default).
pub fn validate_new_key(
    spec: KeySpec,
    usage: Option<KeyUsage>,
    description: &str,
) -> Result<KeyUsage, ModelError> {
    if description.chars().count() > MAX_DESCRIPTION {
        let rule = format!("have length less than or equal to {MAX_DESCRIPTION}");
        return Err(ModelError::constraint(None, "description", &rule));
    }
    let usage = usage.unwrap_or(KeyUsage::EncryptDecrypt);
    if !spec.allowed_usages().contains(&usage) {
        return Err(ModelError::Validation(format!(
            "KeyUsage {usage} is not compatible with KeySpec {spec}."
        )));
    }
    if spec.kind() == SpecKind::Unsupported {
        return Err(ModelError::UnsupportedOperation(format!(
            "KeySpec {spec} is not supported by this server."
        )));
    }
    if matches!(
        usage,
        KeyUsage::KeyAgreement | KeyUsage::EncapsulateDecapsulate
    ) {
        return Err(ModelError::UnsupportedOperation(format!(
            "KeyUsage {usage} is not supported by this server."
        )));
    }
    Ok(usage)
}

/// An administrative action that AWS managed keys refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// EnableKey.
    EnableKey,
    /// DisableKey.
    DisableKey,
    /// ScheduleKeyDeletion.
    ScheduleKeyDeletion,
    /// CancelKeyDeletion.
    CancelKeyDeletion,
    /// EnableKeyRotation.
    EnableKeyRotation,
    /// DisableKeyRotation.
    DisableKeyRotation,
    /// RotateKeyOnDemand.
    RotateKeyOnDemand,
    /// PutKeyPolicy.
    PutKeyPolicy,
    /// UpdateKeyDescription.
    UpdateKeyDescription,
    /// TagResource.
    TagResource,
    /// UntagResource.
    UntagResource,
}

impl AdminAction {
    /// The API operation (and `kms:` IAM action) name.
    pub fn name(self) -> &'static str {
        match self {
            AdminAction::EnableKey => "EnableKey",
            AdminAction::DisableKey => "DisableKey",
            AdminAction::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            AdminAction::CancelKeyDeletion => "CancelKeyDeletion",
            AdminAction::EnableKeyRotation => "EnableKeyRotation",
            AdminAction::DisableKeyRotation => "DisableKeyRotation",
            AdminAction::RotateKeyOnDemand => "RotateKeyOnDemand",
            AdminAction::PutKeyPolicy => "PutKeyPolicy",
            AdminAction::UpdateKeyDescription => "UpdateKeyDescription",
            AdminAction::TagResource => "TagResource",
            AdminAction::UntagResource => "UntagResource",
        }
    }
}

/// AWS managed keys cannot be changed, rotated on demand or deleted by anyone. In AWS the
/// refusal comes from their key policy, which grants no administrative action, so the error is
/// the policy engine's `AccessDeniedException` (`User: <principal> is not authorized to perform:
/// kms:<Action> on resource: <arn> because no resource-based policy allows the kms:<Action>
/// action`), not a KMS-specific exception.
pub fn check_customer_managed(
    rec: &KeyRecord,
    action: AdminAction,
    principal: &str,
) -> Result<(), ModelError> {
    if rec.manager == KeyManager::Aws {
        let a = action.name();
        return Err(ModelError::AccessDenied(format!(
            "User: {principal} is not authorized to perform: kms:{a} on resource: {} because \
             no resource-based policy allows the kms:{a} action",
            rec.arn
        )));
    }
    Ok(())
}
