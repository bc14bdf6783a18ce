//! The key model's errors: each variant is exactly one AWS error (`__type`) with its HTTP status,
//! and carries the message AWS sends. The HTTP layer maps them one to one.
//!
//! Opaque failures carry no message, as AWS sends none: `InvalidCiphertextException` (any reason
//! a ciphertext does not decrypt), `KMSInvalidSignatureException`, `KMSInvalidMacException`.

use std::fmt;

use super::types::{KeyState, WireEnum};
use crate::kms::server::blob::BlobError;

/// An error of the key model, as AWS KMS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// `DisabledException` (400): the key is disabled.
    Disabled(String),
    /// `KMSInvalidStateException` (400): the key's state does not allow the operation.
    InvalidState(String),
    /// `InvalidKeyUsageException` (400): wrong key usage, or an algorithm that does not fit the
    /// key spec.
    InvalidKeyUsage(String),
    /// `IncorrectKeyException` (400): the KeyId given is not the key that encrypted the blob.
    IncorrectKey(String),
    /// `InvalidCiphertextException` (400): the ciphertext does not decrypt (no detail).
    InvalidCiphertext,
    /// `KMSInvalidSignatureException` (400): the signature does not verify.
    InvalidSignature,
    /// `KMSInvalidMacException` (400): the MAC does not verify.
    InvalidMac,
    /// `InvalidAliasNameException` (400).
    InvalidAliasName(String),
    /// `LimitExceededException` (400).
    LimitExceeded(String),
    /// `UnsupportedOperationException` (400).
    UnsupportedOperation(String),
    /// `ValidationException` (400): a request shape constraint is violated.
    Validation(String),
    /// `AccessDeniedException` (400): the key policy does not allow the action (AWS managed
    /// keys refuse every administrative action this way).
    AccessDenied(String),
    /// `KMSInternalException` (500): the RNG or a cryptographic primitive failed.
    Internal(String),
}

impl ModelError {
    /// The AWS error name (`__type`).
    pub fn aws_code(&self) -> &'static str {
        match self {
            ModelError::Disabled(_) => "DisabledException",
            ModelError::InvalidState(_) => "KMSInvalidStateException",
            ModelError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
            ModelError::IncorrectKey(_) => "IncorrectKeyException",
            ModelError::InvalidCiphertext => "InvalidCiphertextException",
            ModelError::InvalidSignature => "KMSInvalidSignatureException",
            ModelError::InvalidMac => "KMSInvalidMacException",
            ModelError::InvalidAliasName(_) => "InvalidAliasNameException",
            ModelError::LimitExceeded(_) => "LimitExceededException",
            ModelError::UnsupportedOperation(_) => "UnsupportedOperationException",
            ModelError::Validation(_) => "ValidationException",
            ModelError::AccessDenied(_) => "AccessDeniedException",
            ModelError::Internal(_) => "KMSInternalException",
        }
    }

    /// The HTTP status AWS answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            ModelError::Internal(_) => 500,
            _ => 400,
        }
    }

    /// The `message` AWS sends (empty for the opaque failures).
    pub fn message(&self) -> &str {
        match self {
            ModelError::Disabled(m)
            | ModelError::InvalidState(m)
            | ModelError::InvalidKeyUsage(m)
            | ModelError::IncorrectKey(m)
            | ModelError::InvalidAliasName(m)
            | ModelError::LimitExceeded(m)
            | ModelError::UnsupportedOperation(m)
            | ModelError::Validation(m)
            | ModelError::AccessDenied(m)
            | ModelError::Internal(m) => m,
            ModelError::InvalidCiphertext
            | ModelError::InvalidSignature
            | ModelError::InvalidMac => "",
        }
    }

    /// The error for a cryptographic operation on a key in `state` (anything but Enabled):
    /// `DisabledException` for Disabled, `KMSInvalidStateException` otherwise.
    pub fn key_state(arn: &str, state: KeyState) -> ModelError {
        let phrase = match state {
            KeyState::Disabled => return ModelError::Disabled(format!("{arn} is disabled.")),
            KeyState::Enabled => "enabled",
            KeyState::PendingDeletion => "pending deletion",
            KeyState::PendingImport => "pending import",
            KeyState::PendingReplicaDeletion => "pending replica deletion",
            KeyState::Unavailable => "unavailable",
            KeyState::Creating => "creating",
            KeyState::Updating => "updating",
        };
        ModelError::InvalidState(format!("{arn} is {phrase}."))
    }

    /// A `ValidationException` in AWS's shape-constraint wording. `value` is omitted for
    /// sensitive members (plaintext), as AWS does.
    pub fn constraint(value: Option<&str>, member: &str, constraint: &str) -> ModelError {
        let value = value.map(|v| format!("'{v}' ")).unwrap_or_default();
        ModelError::Validation(format!(
            "1 validation error detected: Value {value}at '{member}' failed to satisfy \
             constraint: Member must {constraint}"
        ))
    }

    /// The `ValidationException` for a value outside an enum.
    pub fn not_in_enum<E: WireEnum>(value: &str, member: &str) -> ModelError {
        let set: Vec<&str> = E::ALL.iter().map(|v| v.as_str()).collect();
        let rule = format!("satisfy enum value set: [{}]", set.join(", "));
        ModelError::constraint(Some(value), member, &rule)
    }

    /// A `KMSInternalException` with a fixed message.
    pub(crate) fn internal() -> ModelError {
        ModelError::Internal("An internal error occurred.".to_owned())
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            "" => f.write_str(self.aws_code()),
            m => write!(f, "{}: {m}", self.aws_code()),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<BlobError> for ModelError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::Internal => ModelError::internal(),
            _ => ModelError::InvalidCiphertext,
        }
    }
}

/// Parses a wire enum value of request member `member`, or the AWS `ValidationException`.
pub fn parse_enum<E: WireEnum>(value: &str, member: &str) -> Result<E, ModelError> {
    E::parse(value).ok_or_else(|| ModelError::not_in_enum::<E>(value, member))
}
