//! Where data keys come from: the [`KeyProvider`] seam.
//!
//! A provider makes a fresh data key for a volume (returning it in plaintext *and* wrapped)
//! and unwraps a stored wrapped key. The engine stores only the wrapped form, in a keyslot;
//! no provider call ever happens on the data path (one per volume open). Implementations:
//! [`FileKeyProvider`] (a customer-provided key file, like S3 SSE-C) and [`KmsKeyProvider`]
//! (envelope encryption with AWS KMS data keys, through `aws-sdk-kms`); the data-key cache
//! builds on the same trait.
//!
//! Every data key is bound to an encryption context
//! `{"volcrypt:volume-uuid": uuid, "volcrypt:key-version": v}` (EBS binds `aws:ebs:id`).

mod aws;
mod aws_error;
mod aws_tls;
mod cache;
mod context;
mod file;

pub use aws::{KmsKeyProvider, KmsOptions, DEFAULT_KMS_KEY};
pub use cache::{
    mlock_warning_text, CacheClock, CacheLimits, CacheMetrics, DataKeyCache, InnerCalls,
    LatencySummary,
};
pub use context::{format_uuid as context_uuid, KeyContext};
pub use file::FileKeyProvider;

use crate::crypto::DataKey;
use crate::format::KeyKind;

/// A data key in wrapped form, as stored in a keyslot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// Who wrapped it.
    pub kind: KeyKind,
    /// The wrapping key's id: a KMS key ARN, or `keyfile:` plus a salted fingerprint.
    pub key_id: String,
    /// The ciphertext blob.
    pub blob: Vec<u8>,
}

/// Errors from key providers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file could not be read or has the wrong shape.
    #[error("key file {path}: {reason}")]
    KeyFile {
        /// The path.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The supplied key is not the one this volume was encrypted with.
    #[error("wrong key: {0}")]
    WrongKey(String),
    /// The volume's key is held by a kind of provider that was not supplied.
    #[error("this volume's key is wrapped by {needed}, but {given} was given")]
    ProviderMismatch {
        /// What the volume needs.
        needed: String,
        /// What the user gave.
        given: String,
    },
    /// KMS answered with an error (access denied, key not found, disabled, ...).
    #[error("{message}")]
    Kms {
        /// The KMS error code (`DisabledException`), or `InvalidResponse`.
        code: String,
        /// The full message: operation, key, endpoint and what to check.
        message: String,
    },
    /// KMS could not be reached within the timeout and retries.
    #[error("{0}")]
    KmsUnreachable(String),
    /// The KMS client could not be set up or a request could not be sent (no region, no
    /// credentials, bad configuration).
    #[error("KMS client: {0}")]
    KmsConfig(String),
    /// A cryptographic primitive failed (RNG, key schedule).
    #[error("key operation failed: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
}

impl KeyError {
    /// A short code for counting errors (metrics, the cache's error table): the KMS error
    /// code (`DisabledException`, ...) for [`KeyError::Kms`], else a fixed name per variant
    /// (`Unreachable`, `Config`, `WrongKey`, `KeyFile`, `ProviderMismatch`, `Crypto`).
    /// Never any part of a message.
    pub fn code(&self) -> &str {
        match self {
            KeyError::Kms { code, .. } => code,
            KeyError::KmsUnreachable(_) => "Unreachable",
            KeyError::KmsConfig(_) => "Config",
            KeyError::WrongKey(_) => "WrongKey",
            KeyError::KeyFile { .. } => "KeyFile",
            KeyError::ProviderMismatch { .. } => "ProviderMismatch",
            KeyError::Crypto(_) => "Crypto",
        }
    }
}

/// A source of data keys.
pub trait KeyProvider: Send + Sync {
    /// A short description for messages ("key file ./k.bin").
    fn describe(&self) -> String;

    /// Makes a new data key for `ctx`, returned in plaintext and wrapped.
    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError>;

    /// Makes a new data key for a volume of `bytes` bytes: the same as [`Self::generate`],
    /// except for a cache that shares keys between volumes (it counts the bytes toward its
    /// `max_bytes` limit).
    fn generate_sized(
        &self,
        ctx: &KeyContext,
        bytes: u64,
    ) -> Result<(DataKey, WrappedKey), KeyError> {
        let _ = bytes;
        self.generate(ctx)
    }

    /// Unwraps `wrapped`, which must have been made for `ctx`.
    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError>;

    /// Wraps an existing data key under this provider's key (`rewrap` of a key-file volume:
    /// a KMS `Encrypt` call, or a local wrap for a key file).
    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError>;

    /// Re-wraps `wrapped` under this provider's key without the plaintext leaving the key
    /// service (KMS `ReEncrypt`). `Ok(None)`: not possible for this pair of wrappings; the
    /// caller unwraps with the source provider and calls [`Self::wrap`] instead.
    fn rewrap(
        &self,
        wrapped: &WrappedKey,
        ctx: &KeyContext,
    ) -> Result<Option<WrappedKey>, KeyError> {
        let _ = (wrapped, ctx);
        Ok(None)
    }

    /// True when new volumes should bind their data key to the shared context
    /// ([`KeyContext::shared`]) so one cached data key can serve many of them.
    fn shares_data_keys(&self) -> bool {
        false
    }
}
