//! The operations this crate speaks, named as in `X-Amz-Target: TrentService.<Operation>`.
//!
//! A target that is missing, has another service prefix, or names an operation not listed here
//! (including real KMS operations we do not implement, and case variants: AWS matches exactly)
//! is `UnknownOperationException` (400), which is what AWS's JSON front end answers.

use std::fmt;

use super::error::KmsError;

/// The `X-Amz-Target` prefix of every KMS operation (service-2.json `targetPrefix`).
pub const TARGET_PREFIX: &str = "TrentService";

/// Defines [`Operation`] from its variant names (which are the AWS operation names).
macro_rules! operations {
    ( $( $(#[$doc:meta])* $op:ident, )+ ) => {
        /// A KMS operation.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Operation {
            $( $(#[$doc])* $op, )+
        }

        impl Operation {
            /// Every operation, in declaration order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),+];

            /// The AWS operation name (`Encrypt`, `GenerateDataKey`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$op => stringify!($op),)+
                }
            }

            fn from_name(name: &str) -> Option<Operation> {
                match name {
                    $(stringify!($op) => Some(Operation::$op),)+
                    _ => None,
                }
            }
        }
    };
}

operations! {
    /// Create a key.
    CreateKey,
    /// Describe a key.
    DescribeKey,
    /// List keys.
    ListKeys,
    /// Set a key's description.
    UpdateKeyDescription,
    /// Enable a key.
    EnableKey,
    /// Disable a key.
    DisableKey,
    /// Schedule a key's deletion.
    ScheduleKeyDeletion,
    /// Cancel a scheduled deletion.
    CancelKeyDeletion,
    /// Create an alias.
    CreateAlias,
    /// Point an alias at another key.
    UpdateAlias,
    /// Delete an alias.
    DeleteAlias,
    /// List aliases.
    ListAliases,
    /// Add or overwrite tags.
    TagResource,
    /// Remove tags.
    UntagResource,
    /// List a key's tags.
    ListResourceTags,
    /// Get a key policy.
    GetKeyPolicy,
    /// Set a key policy.
    PutKeyPolicy,
    /// List key policy names.
    ListKeyPolicies,
    /// Create a grant.
    CreateGrant,
    /// List a key's grants.
    ListGrants,
    /// List the grants a principal may retire.
    ListRetirableGrants,
    /// Retire a grant (by the retiring principal).
    RetireGrant,
    /// Revoke a grant (by the key's administrators).
    RevokeGrant,
    /// Encrypt up to 4096 bytes.
    Encrypt,
    /// Decrypt a ciphertext blob.
    Decrypt,
    /// Decrypt and re-encrypt under another key or context.
    ReEncrypt,
    /// Generate a data key, returned in plaintext and encrypted.
    GenerateDataKey,
    /// Generate a data key, returned only encrypted.
    GenerateDataKeyWithoutPlaintext,
    /// Generate an asymmetric data key pair.
    GenerateDataKeyPair,
    /// Generate an asymmetric data key pair without the plaintext private key.
    GenerateDataKeyPairWithoutPlaintext,
    /// Compute an HMAC.
    GenerateMac,
    /// Verify an HMAC.
    VerifyMac,
    /// Sign a message or digest.
    Sign,
    /// Verify a signature.
    Verify,
    /// Get an asymmetric key's public key.
    GetPublicKey,
    /// Random bytes.
    GenerateRandom,
    /// Turn on automatic rotation.
    EnableKeyRotation,
    /// Turn off automatic rotation.
    DisableKeyRotation,
    /// Rotation status and schedule.
    GetKeyRotationStatus,
    /// Rotate now.
    RotateKeyOnDemand,
    /// List a key's rotations.
    ListKeyRotations,
}

impl Operation {
    /// Parses an `X-Amz-Target` header value: exactly `TrentService.<Operation>`. `None` (no
    /// header) and anything else give `UnknownOperationException`.
    pub fn from_target(target: Option<&str>) -> Result<Operation, KmsError> {
        let Some(value) = target else {
            return Err(KmsError::unknown_operation(None));
        };
        value
            .strip_prefix(TARGET_PREFIX)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(Operation::from_name)
            .ok_or_else(|| KmsError::unknown_operation(Some(value)))
    }

    /// The full `X-Amz-Target` value, `TrentService.<Operation>` (what a client sends).
    pub fn target(self) -> String {
        format!("{TARGET_PREFIX}.{}", self.name())
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::ErrorCode;
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_target() {
        assert_eq!(Operation::ALL.len(), 41);
        for &op in Operation::ALL {
            assert_eq!(Operation::from_target(Some(&op.target())), Ok(op));
            assert_eq!(op.to_string(), op.name());
        }
        assert_eq!(
            Operation::from_target(Some("TrentService.GenerateDataKey")),
            Ok(Operation::GenerateDataKey)
        );
    }

    #[test]
    fn foreign_or_missing_targets_are_unknown_operations() {
        for bad in [
            "TrentService.encrypt",
            "TrentService.",
            "TrentService",
            "TrentServiceEncrypt",
            "Kinesis_20131202.Encrypt",
            "Encrypt",
            "TrentService.ImportKeyMaterial",
            " TrentService.Encrypt",
        ] {
            let err = Operation::from_target(Some(bad)).unwrap_err();
            assert_eq!(err.code, ErrorCode::UnknownOperation, "{bad}");
        }
        let err = Operation::from_target(None).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnknownOperation);
        assert_eq!(err.http_status(), 400);
    }
}
