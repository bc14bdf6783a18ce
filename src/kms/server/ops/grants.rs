//! Grants: ids, tokens, and what a grant allows.
//!
//! A grant id is 64 hex digits (as AWS's). A grant token is `base64url("vcgt1" || id (32 bytes)
//! || 32 random bytes)`: opaque to clients, it names its grant, and every CreateGrant answers a
//! fresh one (AWS: "the returned grant token is unique with every CreateGrant request, even
//! when a duplicate GrantId is returned"; all tokens of a grant are interchangeable). Every grant
//! is effective as soon as CreateGrant returns, so tokens in `GrantTokens` are only checked for
//! their format (and count) and never needed.
//!
//! The grants themselves live in the registry's `State::grants` only (persisted by
//! `Registry::write` like keys and aliases); [`super::authz`] reads them from the state the
//! handler holds.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::crypto::random_bytes;
use crate::kms::server::registry::Grant;
use crate::kms::wire::{ErrorCode, KmsError};

const TOKEN_MAGIC: &[u8] = b"vcgt1";
const TOKEN_LEN: usize = TOKEN_MAGIC.len() + 32 + 32;
/// AWS's quota of grants per KMS key.
pub(crate) const MAX_GRANTS_PER_KEY: usize = 50_000;
/// GrantToken: 1-8192 characters (botocore).
const MAX_TOKEN_CHARS: usize = 8192;

/// Operations whose requests carry an encryption context: the only ones a grant's
/// encryption-context constraint applies to (AWS: constraints are not applied to DescribeKey,
/// RetireGrant or operations without a context).
pub(crate) const CONTEXT_OPERATIONS: &[&str] = &[
    "Encrypt",
    "Decrypt",
    "ReEncryptFrom",
    "ReEncryptTo",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
];

fn rng_failed() -> KmsError {
    KmsError::internal("random number generator failed")
}

/// A fresh grant id: 64 lowercase hex digits.
pub(crate) fn new_id() -> Result<String, KmsError> {
    let mut raw = [0u8; 32];
    random_bytes(&mut raw).map_err(|_| rng_failed())?;
    Ok(raw.iter().map(|b| format!("{b:02x}")).collect())
}

fn id_bytes(id: &str) -> Option<[u8; 32]> {
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(id.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// A fresh token for grant `id`.
pub(crate) fn new_token(id: &str) -> Result<String, KmsError> {
    let id_raw = id_bytes(id).ok_or_else(|| KmsError::internal("bad grant id"))?;
    let mut nonce = [0u8; 32];
    random_bytes(&mut nonce).map_err(|_| rng_failed())?;
    let mut raw = Vec::with_capacity(TOKEN_LEN);
    raw.extend_from_slice(TOKEN_MAGIC);
    raw.extend_from_slice(&id_raw);
    raw.extend_from_slice(&nonce);
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// `InvalidGrantTokenException`.
pub(crate) fn invalid_token() -> KmsError {
    KmsError::new(
        ErrorCode::InvalidGrantToken,
        "The grant token is not valid.",
    )
}

/// The grant id a token names, or `InvalidGrantTokenException`.
pub(crate) fn token_grant_id(token: &str) -> Result<String, KmsError> {
    let raw = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| invalid_token())?;
    if raw.len() != TOKEN_LEN || !raw.starts_with(TOKEN_MAGIC) {
        return Err(invalid_token());
    }
    Ok(raw[TOKEN_MAGIC.len()..TOKEN_MAGIC.len() + 32]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `GrantTokens`: at most 10, each 1-8192 characters and of this server's format.
pub(crate) fn check_tokens(tokens: &[String]) -> Result<(), KmsError> {
    crate::kms::server::model::check_grant_tokens(tokens.len())?;
    for t in tokens {
        if t.is_empty() || t.chars().count() > MAX_TOKEN_CHARS {
            return Err(KmsError::validation(
                "grantTokens",
                "Member must satisfy constraint: [Member must have length less than or equal to 8192, Member must have length greater than or equal to 1]",
            ));
        }
        token_grant_id(t)?;
    }
    Ok(())
}

/// A GrantId member: 1-128 characters (botocore), and 64 hex digits to name any grant here;
/// otherwise `InvalidGrantIdException`.
pub(crate) fn check_id(id: &str) -> Result<(), KmsError> {
    if id.is_empty() || id.chars().count() > 128 {
        return Err(KmsError::validation(
            "grantId",
            "Member must have length less than or equal to 128",
        ));
    }
    if id_bytes(id).is_none() {
        return Err(KmsError::new(
            ErrorCode::InvalidGrantId,
            format!("Invalid grant ID {id}"),
        ));
    }
    Ok(())
}

/// Whether `have` (a request's encryption context) satisfies a constraint: each constraint
/// pair is in it (context keys compared case-insensitively, values exactly, as AWS does), and
/// for `exact` nothing else is.
pub(crate) fn context_satisfies(
    want: &BTreeMap<String, String>,
    have: &BTreeMap<String, String>,
    exact: bool,
) -> bool {
    let covered = want.iter().all(|(k, v)| {
        have.iter()
            .any(|(hk, hv)| hk.eq_ignore_ascii_case(k) && hv == v)
    });
    covered && (!exact || want.len() == have.len())
}

/// Whether `grant` allows `operation` (an API name such as `Decrypt`) with the request's
/// encryption `context` (`None` counts as empty for operations that take one).
pub(crate) fn grant_allows(
    grant: &Grant,
    operation: &str,
    context: Option<&BTreeMap<String, String>>,
) -> bool {
    if !grant.operations.iter().any(|o| o == operation) {
        return false;
    }
    if !CONTEXT_OPERATIONS.contains(&operation) {
        return true;
    }
    let empty = BTreeMap::new();
    let have = context.unwrap_or(&empty);
    if let Some(want) = &grant.context_equals {
        if !context_satisfies(want, have, true) {
            return false;
        }
    }
    if let Some(want) = &grant.context_subset {
        if !context_satisfies(want, have, false) {
            return false;
        }
    }
    true
}
