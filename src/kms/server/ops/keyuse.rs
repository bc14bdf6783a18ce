//! Helpers shared by the cryptographic operation handlers (`crypto.rs`, `datakey.rs`,
//! `asym.rs`): request limits checked before any key lookup (AWS validates the request shape
//! first), the audit record of the encryption context, DryRun, and [`with_key`], which
//! resolves and authorizes a key under the registry's read lock.

use super::{authz, Ctx};
use crate::kms::server::model::{self, KeyRecord};
use crate::kms::wire::{EncryptionContext, ErrorCode, KmsError};

/// The `DryRunOperationException` of a request that would have succeeded.
pub(super) fn dry_run() -> KmsError {
    KmsError::new(
        ErrorCode::DryRunOperation,
        "The request would have succeeded, but the DryRun option is set.",
    )
}

/// Answers DryRunOperationException when `dry_run` is set (call after every check passed).
pub(super) fn check_dry_run(dry_run_flag: Option<bool>) -> Result<(), KmsError> {
    if dry_run_flag == Some(true) {
        Err(dry_run())
    } else {
        Ok(())
    }
}

/// The request's grant tokens (at most 10).
pub(super) fn grant_tokens(tokens: &Option<Vec<String>>) -> Result<&[String], KmsError> {
    let tokens = tokens.as_deref().unwrap_or_default();
    model::check_grant_tokens(tokens.len())?;
    Ok(tokens)
}

/// The audit form of an encryption context: its JSON, or nothing when it is empty.
pub(super) fn context_json(ctx: &EncryptionContext) -> Option<String> {
    if ctx.is_empty() {
        None
    } else {
        serde_json::to_string(ctx).ok()
    }
}

/// `NumberOfBytes` as an unsigned count; a negative value is AWS's range error.
pub(super) fn number_of_bytes(n: Option<i32>) -> Result<Option<u32>, KmsError> {
    match n {
        None => Ok(None),
        Some(n) => match u32::try_from(n) {
            Ok(v) => Ok(Some(v)),
            Err(_) => Err(KmsError::validation_value(
                &n.to_string(),
                "numberOfBytes",
                "Member must have value greater than or equal to 1",
            )),
        },
    }
}

/// A blob member's length is within `1..=max` (checked before the key is looked up).
pub(super) fn check_len(member: &str, len: usize, max: usize) -> Result<(), KmsError> {
    Ok(model::check_blob_len(member, len, max)?)
}

/// Features this server does not offer (Nitro Enclave recipients, custom key stores).
pub(super) fn unsupported(what: &str) -> KmsError {
    KmsError::new(
        ErrorCode::UnsupportedOperation,
        format!("{what} is not supported by this server."),
    )
}

/// Resolves `key_id` under the registry's read lock, records its ARN in the audit event,
/// authorizes `action` for the caller, and runs `f` on the key while the lock is held. `f`
/// returns owned values: nothing borrowed from the registry outlives the lock.
pub(super) fn with_key<R>(
    cx: &mut Ctx<'_>,
    key_id: &str,
    action: &str,
    context: Option<&EncryptionContext>,
    grant_tokens: &[String],
    f: impl FnOnce(&KeyRecord) -> Result<R, KmsError>,
) -> Result<R, KmsError> {
    let mut arn = None;
    let shared: &Ctx<'_> = cx;
    let out = shared.kms.registry.read(|state| {
        let rec = state.key(key_id)?;
        arn = Some(rec.arn.clone());
        authz::authorize(shared, &state.grants, rec, action, context, grant_tokens)?;
        f(rec)
    });
    cx.event.key_arn = arn;
    out
}
