//! GenerateDataKey(WithoutPlaintext), GenerateDataKeyPair(WithoutPlaintext) and
//! GenerateRandom.
//!
//! GenerateDataKey is the hot path: one read lock, no writes, no storage; the only per-call
//! cryptography is the data key's randomness and its blob (a per-request HKDF key and one
//! AES-GCM seal, by design of the blob format).
//!
//! Data key pairs are generated *outside* the registry lock (RSA-4096 generation takes long
//! enough to stall writers, and with them every reader queued behind a writer): the key is
//! resolved, authorized and checked first, the pair generated, and the private key sealed
//! under a second read lock that re-checks the key's state.

use super::keyuse::{
    check_dry_run, context_json, grant_tokens, number_of_bytes, unsupported, with_key,
};
use super::{managed, Ctx};
use crate::crypto::{AsymPrivateKey, SecretBytes};
use crate::kms::server::blob;
use crate::kms::server::model::{
    self, check_usable, check_usage, DataKeyPairSpec, DataKeySpec, ModelError, SpecKind,
};
use crate::kms::wire::{
    decode_request, encode_response, Blob, EncryptionContext, ErrorCode,
    GenerateDataKeyPairRequest, GenerateDataKeyPairResponse,
    GenerateDataKeyPairWithoutPlaintextRequest, GenerateDataKeyPairWithoutPlaintextResponse,
    GenerateDataKeyRequest, GenerateDataKeyResponse, GenerateDataKeyWithoutPlaintextRequest,
    GenerateDataKeyWithoutPlaintextResponse, GenerateRandomRequest, GenerateRandomResponse,
    KmsError,
};

/// A data key and its blob under a key's current material.
struct DataKey {
    plaintext: SecretBytes,
    ciphertext: Vec<u8>,
    key_arn: String,
    material_id: String,
}

/// The shared body of both GenerateDataKey operations.
#[allow(clippy::too_many_arguments)]
fn data_key(
    cx: &mut Ctx<'_>,
    op: model::Operation,
    key_id: &str,
    ctx: &EncryptionContext,
    spec: Option<DataKeySpec>,
    n: Option<i32>,
    tokens: &[String],
    dry_run_flag: Option<bool>,
) -> Result<DataKey, KmsError> {
    let n = number_of_bytes(n)?;
    model::data_key_len(spec, n)?;
    cx.event.context = context_json(ctx);
    managed::ensure(cx, key_id)?;
    let action = match op {
        model::Operation::GenerateDataKey => "kms:GenerateDataKey",
        _ => "kms:GenerateDataKeyWithoutPlaintext",
    };
    let out = with_key(cx, key_id, action, Some(ctx), tokens, |rec| {
        check_usable(rec)?;
        check_usage(rec, op)?;
        let (plaintext, ciphertext) = model::generate_data_key(rec, ctx, spec, n)?;
        Ok(DataKey {
            plaintext,
            ciphertext,
            key_arn: rec.arn.clone(),
            material_id: rec.current_material()?.id.to_hex(),
        })
    })?;
    check_dry_run(dry_run_flag)?;
    Ok(out)
}

/// `GenerateDataKey`.
pub(crate) fn generate_data_key(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let mut req: GenerateDataKeyRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    if req.recipient.is_some() {
        return Err(unsupported("Recipient (Nitro Enclaves attestation)"));
    }
    let ctx = req.encryption_context.take().unwrap_or_default();
    let dk = data_key(
        &mut cx,
        model::Operation::GenerateDataKey,
        &req.key_id,
        &ctx,
        req.key_spec,
        req.number_of_bytes,
        tokens,
        req.dry_run,
    )?;
    encode_response(&GenerateDataKeyResponse {
        ciphertext_blob: Some(Blob::new(dk.ciphertext)),
        plaintext: Some(Blob::from_slice(dk.plaintext.expose())),
        key_id: Some(dk.key_arn),
        ciphertext_for_recipient: None,
        key_material_id: Some(dk.material_id),
    })
}

/// `GenerateDataKeyWithoutPlaintext`.
pub(crate) fn generate_data_key_without_plaintext(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let mut req: GenerateDataKeyWithoutPlaintextRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    let ctx = req.encryption_context.take().unwrap_or_default();
    let dk = data_key(
        &mut cx,
        model::Operation::GenerateDataKeyWithoutPlaintext,
        &req.key_id,
        &ctx,
        req.key_spec,
        req.number_of_bytes,
        tokens,
        req.dry_run,
    )?;
    encode_response(&GenerateDataKeyWithoutPlaintextResponse {
        ciphertext_blob: Some(Blob::new(dk.ciphertext)),
        key_id: Some(dk.key_arn),
        key_material_id: Some(dk.material_id),
    })
}

/// A data key pair and its sealed private key.
struct Pair {
    private: AsymPrivateKey,
    ciphertext: Vec<u8>,
    key_arn: String,
    material_id: String,
}

/// The shared body of both GenerateDataKeyPair operations.
fn data_key_pair(
    cx: &mut Ctx<'_>,
    op: model::Operation,
    key_id: &str,
    ctx: &EncryptionContext,
    pair_spec: DataKeyPairSpec,
    tokens: &[String],
    dry_run_flag: Option<bool>,
) -> Result<Pair, KmsError> {
    let SpecKind::Asymmetric(asym) = pair_spec.key_spec().kind() else {
        return Err(unsupported(&format!("KeyPairSpec {pair_spec}")));
    };
    cx.event.context = context_json(ctx);
    managed::ensure(cx, key_id)?;
    let action = match op {
        model::Operation::GenerateDataKeyPair => "kms:GenerateDataKeyPair",
        _ => "kms:GenerateDataKeyPairWithoutPlaintext",
    };
    let id = with_key(cx, key_id, action, Some(ctx), tokens, |rec| {
        check_usable(rec)?;
        check_usage(rec, op)?;
        Ok(rec.key_id())
    })?;
    check_dry_run(dry_run_flag)?;
    let private = AsymPrivateKey::generate(asym).map_err(|_| ModelError::internal())?;
    let (ciphertext, key_arn, material_id) = cx.kms.registry.read(|state| {
        let rec = state.keys.get(&id).ok_or_else(|| {
            KmsError::new(ErrorCode::NotFound, format!("Key '{id}' does not exist"))
        })?;
        check_usable(rec)?;
        check_usage(rec, op)?;
        let m = rec.current_material()?;
        let key = m.symmetric_key().ok_or_else(ModelError::internal)?;
        let sealed =
            blob::seal(key, &m.id, &rec.id, ctx, private.pkcs8_der()).map_err(ModelError::from)?;
        Ok::<_, KmsError>((sealed, rec.arn.clone(), m.id.to_hex()))
    })?;
    Ok(Pair {
        private,
        ciphertext,
        key_arn,
        material_id,
    })
}

/// `GenerateDataKeyPair`.
pub(crate) fn generate_data_key_pair(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let mut req: GenerateDataKeyPairRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    if req.recipient.is_some() {
        return Err(unsupported("Recipient (Nitro Enclaves attestation)"));
    }
    let ctx = req.encryption_context.take().unwrap_or_default();
    let p = data_key_pair(
        &mut cx,
        model::Operation::GenerateDataKeyPair,
        &req.key_id,
        &ctx,
        req.key_pair_spec,
        tokens,
        req.dry_run,
    )?;
    encode_response(&GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: Some(Blob::new(p.ciphertext)),
        private_key_plaintext: Some(Blob::from_slice(p.private.pkcs8_der())),
        public_key: Some(Blob::from_slice(p.private.public_key_der())),
        key_id: Some(p.key_arn),
        key_pair_spec: Some(req.key_pair_spec),
        ciphertext_for_recipient: None,
        key_material_id: Some(p.material_id),
    })
}

/// `GenerateDataKeyPairWithoutPlaintext`.
pub(crate) fn generate_data_key_pair_without_plaintext(
    mut cx: Ctx<'_>,
) -> Result<Vec<u8>, KmsError> {
    let mut req: GenerateDataKeyPairWithoutPlaintextRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    let ctx = req.encryption_context.take().unwrap_or_default();
    let p = data_key_pair(
        &mut cx,
        model::Operation::GenerateDataKeyPairWithoutPlaintext,
        &req.key_id,
        &ctx,
        req.key_pair_spec,
        tokens,
        req.dry_run,
    )?;
    encode_response(&GenerateDataKeyPairWithoutPlaintextResponse {
        private_key_ciphertext_blob: Some(Blob::new(p.ciphertext)),
        public_key: Some(Blob::from_slice(p.private.public_key_der())),
        key_id: Some(p.key_arn),
        key_pair_spec: Some(req.key_pair_spec),
        key_material_id: Some(p.material_id),
    })
}

/// `GenerateRandom`: no key, no authorization (AWS authorizes it by IAM policy only).
pub(crate) fn generate_random(cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: GenerateRandomRequest = decode_request(cx.body)?;
    if req.custom_key_store_id.is_some() {
        return Err(unsupported("CustomKeyStoreId"));
    }
    if req.recipient.is_some() {
        return Err(unsupported("Recipient (Nitro Enclaves attestation)"));
    }
    let bytes = model::generate_random(number_of_bytes(req.number_of_bytes)?)?;
    encode_response(&GenerateRandomResponse {
        plaintext: Some(Blob::from_slice(bytes.expose())),
        ciphertext_for_recipient: None,
    })
}
