//! Encrypt, Decrypt and ReEncrypt (symmetric blobs and RSA-OAEP). The data-key operations and
//! GenerateRandom live in `datakey.rs` and are re-exported here for the dispatcher.
//!
//! Order of checks, as AWS: request shape (`ValidationException`), key lookup
//! (`NotFoundException`), authorization (`AccessDeniedException`), then key state, usage and
//! algorithm (inside the model's operations), then the cryptography.
//!
//! Symmetric Decrypt needs no `KeyId`: the key comes from the blob header, and authorization
//! is on that key. A supplied `KeyId` that is not that key is `IncorrectKeyException`. Every
//! problem with the blob itself is `InvalidCiphertextException` with no detail.
//!
//! DryRun runs every check (and the cryptography, whose result is discarded) and answers
//! `DryRunOperationException`. With `DryRunModifiers: [IGNORE_CIPHERTEXT]`, Decrypt and
//! ReEncrypt check only the keys, authorization, state and usage, not the ciphertext.

use super::keyuse::{check_dry_run, check_len, context_json, dry_run, grant_tokens, unsupported};
use super::{authz, managed, Ctx};
use crate::kms::server::blob;
use crate::kms::server::model::{
    self, check_encryption_algorithm, check_usable, check_usage, KeyRecord,
};
use crate::kms::server::registry::State;
use crate::kms::wire::{
    decode_request, encode_response, Blob, DecryptRequest, DecryptResponse, EncryptRequest,
    EncryptResponse, EncryptionAlgorithm, EncryptionContext, ErrorCode, KmsError, ReEncryptRequest,
    ReEncryptResponse,
};

pub(crate) use super::datakey::{
    generate_data_key, generate_data_key_pair, generate_data_key_pair_without_plaintext,
    generate_data_key_without_plaintext, generate_random,
};

/// The algorithm of a request (default SYMMETRIC_DEFAULT).
fn algorithm(alg: Option<EncryptionAlgorithm>) -> EncryptionAlgorithm {
    alg.unwrap_or(EncryptionAlgorithm::SymmetricDefault)
}

/// Whether a dry run skips the ciphertext (`DryRunModifiers: [IGNORE_CIPHERTEXT]`).
fn ignore_ciphertext(
    dry_run_flag: Option<bool>,
    modifiers: &Option<Vec<String>>,
) -> Result<bool, KmsError> {
    let modifiers = modifiers.as_deref().unwrap_or_default();
    if let Some(bad) = modifiers.iter().find(|m| *m != "IGNORE_CIPHERTEXT") {
        return Err(KmsError::validation_value(
            bad,
            "dryRunModifiers",
            "Member must satisfy enum value set: [IGNORE_CIPHERTEXT]",
        ));
    }
    Ok(dry_run_flag == Some(true) && !modifiers.is_empty())
}

/// The key a decryption is authorized on: the supplied key for RSA; for a symmetric blob, the
/// key its header names (or the supplied one when the header names no key we have, so that
/// the model answers `IncorrectKeyException`). `None` when there is none (the model then
/// answers `ValidationException` or `InvalidCiphertextException`).
fn decrypting_key<'s>(
    state: &'s State,
    supplied: Option<&'s KeyRecord>,
    alg: EncryptionAlgorithm,
    ciphertext: &[u8],
    ignore_ct: bool,
) -> Option<&'s KeyRecord> {
    if alg.oaep_hash().is_some() {
        return supplied;
    }
    match blob::parse_header(ciphertext) {
        Ok(h) => state.keys.get(&h.key.to_string()).or(supplied),
        Err(_) if ignore_ct => supplied,
        Err(_) => None,
    }
}

/// The checks of a dry run that ignores the ciphertext, on the decrypting key.
fn dry_run_decrypt_checks(
    key: Option<&KeyRecord>,
    alg: EncryptionAlgorithm,
) -> Result<(), KmsError> {
    let rec = key.ok_or_else(|| {
        KmsError::new(
            ErrorCode::Validation,
            "KeyId is required when DryRunModifiers contains IGNORE_CIPHERTEXT.",
        )
    })?;
    check_usable(rec)?;
    check_usage(rec, model::Operation::Decrypt)?;
    check_encryption_algorithm(rec, alg)?;
    Ok(())
}

/// `Encrypt`.
pub(crate) fn encrypt(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let mut req: EncryptRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    check_len("plaintext", req.plaintext.len(), model::MAX_PLAINTEXT)?;
    let alg = algorithm(req.encryption_algorithm);
    let ctx = req.encryption_context.take().unwrap_or_default();
    cx.event.context = context_json(&ctx);
    managed::ensure(&cx, &req.key_id)?;
    let (ciphertext, arn) = super::keyuse::with_key(
        &mut cx,
        &req.key_id,
        "kms:Encrypt",
        Some(&ctx),
        tokens,
        |rec| {
            let ct = model::encrypt(rec, alg, &ctx, req.plaintext.as_bytes())?;
            Ok((ct, rec.arn.clone()))
        },
    )?;
    check_dry_run(req.dry_run)?;
    encode_response(&EncryptResponse {
        ciphertext_blob: Some(Blob::new(ciphertext)),
        key_id: Some(arn),
        encryption_algorithm: Some(alg),
    })
}

/// `Decrypt`.
pub(crate) fn decrypt(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let mut req: DecryptRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    let ciphertext = req.ciphertext_blob.as_bytes();
    check_len("ciphertextBlob", ciphertext.len(), model::MAX_CIPHERTEXT)?;
    let alg = algorithm(req.encryption_algorithm);
    if req.recipient.is_some() {
        return Err(unsupported("Recipient (Nitro Enclaves attestation)"));
    }
    let ignore_ct = ignore_ciphertext(req.dry_run, &req.dry_run_modifiers)?;
    let ctx = req.encryption_context.take().unwrap_or_default();
    cx.event.context = context_json(&ctx);
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.read(|state| {
        let supplied = req.key_id.as_deref().map(|k| state.key(k)).transpose()?;
        let target = decrypting_key(state, supplied, alg, ciphertext, ignore_ct);
        if let Some(rec) = target {
            arn = Some(rec.arn.clone());
            authz::authorize(
                shared,
                &state.grants,
                rec,
                "kms:Decrypt",
                Some(&ctx),
                tokens,
            )?;
        }
        if ignore_ct {
            dry_run_decrypt_checks(target, alg)?;
            return Err(dry_run());
        }
        let lookup = |_: &blob::KeyUuid| target;
        let d = model::decrypt(lookup, supplied, alg, ciphertext, &ctx)?;
        arn = Some(d.key.arn.clone());
        Ok(DecryptResponse {
            key_id: Some(d.key.arn.clone()),
            plaintext: Some(Blob::from_slice(d.plaintext.expose())),
            encryption_algorithm: Some(alg),
            ciphertext_for_recipient: None,
            key_material_id: d.material_id.map(|m| m.to_hex()),
        })
    });
    cx.event.key_arn = arn;
    let resp = out?;
    check_dry_run(req.dry_run)?;
    encode_response(&resp)
}

/// The audit form of ReEncrypt's two contexts.
fn re_encrypt_context(source: &EncryptionContext, dest: &EncryptionContext) -> Option<String> {
    if source.is_empty() && dest.is_empty() {
        return None;
    }
    let both = serde_json::json!({
        "SourceEncryptionContext": source,
        "DestinationEncryptionContext": dest,
    });
    Some(both.to_string())
}

/// `ReEncrypt`: decrypts with the source key (`kms:ReEncryptFrom`) and encrypts the plaintext
/// under the destination key (`kms:ReEncryptTo`), both under one read lock; the plaintext
/// never leaves the server.
pub(crate) fn re_encrypt(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let mut req: ReEncryptRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    let ciphertext = req.ciphertext_blob.as_bytes();
    check_len("ciphertextBlob", ciphertext.len(), model::MAX_CIPHERTEXT)?;
    let src_alg = algorithm(req.source_encryption_algorithm);
    let dst_alg = algorithm(req.destination_encryption_algorithm);
    let ignore_ct = ignore_ciphertext(req.dry_run, &req.dry_run_modifiers)?;
    let src_ctx = req.source_encryption_context.take().unwrap_or_default();
    let dst_ctx = req
        .destination_encryption_context
        .take()
        .unwrap_or_default();
    cx.event.context = re_encrypt_context(&src_ctx, &dst_ctx);
    managed::ensure(&cx, &req.destination_key_id)?;
    let mut arn = None;
    let shared: &Ctx<'_> = &cx;
    let out = shared.kms.registry.read(|state| {
        let dest = state.key(&req.destination_key_id)?;
        let supplied = req
            .source_key_id
            .as_deref()
            .map(|k| state.key(k))
            .transpose()?;
        let source = decrypting_key(state, supplied, src_alg, ciphertext, ignore_ct);
        let grants = &state.grants;
        if let Some(rec) = source {
            arn = Some(rec.arn.clone());
            authz::authorize(
                shared,
                grants,
                rec,
                "kms:ReEncryptFrom",
                Some(&src_ctx),
                tokens,
            )?;
        }
        authz::authorize(
            shared,
            grants,
            dest,
            "kms:ReEncryptTo",
            Some(&dst_ctx),
            tokens,
        )?;
        if ignore_ct {
            dry_run_decrypt_checks(source, src_alg)?;
            check_usable(dest)?;
            check_usage(dest, model::Operation::Encrypt)?;
            check_encryption_algorithm(dest, dst_alg)?;
            return Err(dry_run());
        }
        let lookup = |_: &blob::KeyUuid| source;
        let d = model::decrypt(lookup, supplied, src_alg, ciphertext, &src_ctx)?;
        arn = Some(d.key.arn.clone());
        let new_blob = model::encrypt(dest, dst_alg, &dst_ctx, d.plaintext.expose())?;
        let dest_material = match dst_alg.oaep_hash() {
            None => Some(dest.current_material()?.id.to_hex()),
            Some(_) => None,
        };
        Ok(ReEncryptResponse {
            ciphertext_blob: Some(Blob::new(new_blob)),
            source_key_id: Some(d.key.arn.clone()),
            key_id: Some(dest.arn.clone()),
            source_encryption_algorithm: Some(src_alg),
            destination_encryption_algorithm: Some(dst_alg),
            source_key_material_id: d.material_id.map(|m| m.to_hex()),
            destination_key_material_id: dest_material,
        })
    });
    cx.event.key_arn = arn;
    let resp = out?;
    check_dry_run(req.dry_run)?;
    encode_response(&resp)
}
