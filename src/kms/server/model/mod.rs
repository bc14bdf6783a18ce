//! The KMS key model as plain data and pure functions: key specs, usages and states, key
//! records with every key material they ever had, the rules AWS enforces on them, their state
//! transitions and rotation, and the cryptographic operations on them.
//!
//! No storage, no HTTP, no clock (times are epoch seconds passed in), no policy evaluation.
//! Cryptography goes through `crate::crypto` and the ciphertext blob (`super::blob`) only.
//! Every failure is a [`ModelError`] whose [`ModelError::aws_code`] is the exact AWS `__type`
//! and whose message is AWS's where AWS's is known.
//!
//! | file | owns |
//! |---|---|
//! | `types.rs` | the wire enums (`KeySpec`, `KeyUsage`, `KeyState`, algorithms, ...), re-exported |
//! | `specs.rs` | spec -> usages / algorithms tables, mapping onto `crate::crypto` |
//! | `error.rs` | [`ModelError`]: AWS code, HTTP status, message |
//! | `material.rs` | [`KeyMaterial`]: one version of a key's secret |
//! | `record.rs` | [`KeyRecord`], [`NewKey`], [`RotationSettings`] |
//! | `rules.rs` | state / usage / algorithm checks, request limits, AWS managed keys |
//! | `lifecycle.rs` | enable, disable, deletion, rotation |
//! | `ops.rs` | Encrypt, Decrypt, data keys, Sign/Verify, MACs, public key, random |

mod error;
mod lifecycle;
mod material;
mod ops;
mod record;
mod rules;
mod specs;
mod types;

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests_keys;
#[cfg(test)]
mod tests_lifecycle;
#[cfg(test)]
mod tests_ops;
#[cfg(test)]
mod tests_rules;

pub use error::{parse_enum, ModelError};
pub use material::{KeyMaterial, MaterialSecret};
pub use ops::{
    decrypt, encrypt, generate_data_key, generate_data_key_pair, generate_mac, generate_random,
    public_key, sign, verify, verify_mac, DataKeyPair, Decrypted,
};
pub use record::{key_arn, KeyRecord, NewKey, RotationSettings, DAY, DEFAULT_ROTATION_DAYS};
pub use rules::{
    check_alias_name, check_blob_len, check_customer_managed, check_encryption_algorithm,
    check_grant_tokens, check_mac_algorithm, check_message_type, check_range,
    check_signing_algorithm, check_usable, check_usage, data_key_len, pending_window,
    validate_new_key, AdminAction, Operation, DEFAULT_PENDING_WINDOW_DAYS, MAX_ALIAS_LEN,
    MAX_CIPHERTEXT, MAX_DESCRIPTION, MAX_GRANT_TOKENS, MAX_MESSAGE, MAX_ON_DEMAND_ROTATIONS,
    MAX_PLAINTEXT, MAX_SIGNATURE, NUMBER_OF_BYTES, PENDING_WINDOW_DAYS, ROTATION_PERIOD_DAYS,
};
pub use specs::SpecKind;
pub use types::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeyManager, KeySpec, KeyState, KeyUsage,
    MacAlgorithm, MessageType, Origin, RotationType, SigningAlgorithm, WireEnum,
};
