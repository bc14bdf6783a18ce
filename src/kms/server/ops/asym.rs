//! MACs (GenerateMac, VerifyMac), signatures (Sign, Verify) and GetPublicKey.
//!
//! Order of checks, as AWS: request shape (`ValidationException`), key lookup
//! (`NotFoundException`), authorization, then key state, key usage and the algorithm for the
//! key spec (`InvalidKeyUsageException`), then the cryptography. A MAC or signature that does
//! not verify is an error (`KMSInvalidMacException` / `KMSInvalidSignatureException`), never
//! `MacValid: false` / `SignatureValid: false`. DryRun runs everything and then answers
//! `DryRunOperationException`.

use super::keyuse::{check_dry_run, check_len, grant_tokens, with_key};
use super::meta::non_empty;
use super::Ctx;
use crate::kms::server::model;
use crate::kms::wire::{
    self, decode_request, encode_response, Blob, GenerateMacRequest, GenerateMacResponse,
    GetPublicKeyRequest, GetPublicKeyResponse, KmsError, SignRequest, SignResponse,
    VerifyMacRequest, VerifyMacResponse, VerifyRequest, VerifyResponse,
};

/// `GenerateMac`.
pub(crate) fn generate_mac(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: GenerateMacRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    check_len("message", req.message.len(), model::MAX_MESSAGE)?;
    let alg = req.mac_algorithm;
    let (mac, arn) = with_key(
        &mut cx,
        &req.key_id,
        "kms:GenerateMac",
        None,
        tokens,
        |rec| {
            let mac = model::generate_mac(rec, alg, req.message.as_bytes())?;
            Ok((mac, rec.arn.clone()))
        },
    )?;
    check_dry_run(req.dry_run)?;
    encode_response(&GenerateMacResponse {
        mac: Some(Blob::new(mac)),
        mac_algorithm: Some(req.mac_algorithm),
        key_id: Some(arn),
    })
}

/// `VerifyMac`.
pub(crate) fn verify_mac(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: VerifyMacRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    check_len("message", req.message.len(), model::MAX_MESSAGE)?;
    check_len("mac", req.mac.len(), model::MAX_SIGNATURE)?;
    let alg = req.mac_algorithm;
    let arn = with_key(&mut cx, &req.key_id, "kms:VerifyMac", None, tokens, |rec| {
        model::verify_mac(rec, alg, req.message.as_bytes(), req.mac.as_bytes())?;
        Ok(rec.arn.clone())
    })?;
    check_dry_run(req.dry_run)?;
    encode_response(&VerifyMacResponse {
        key_id: Some(arn),
        mac_valid: Some(true),
        mac_algorithm: Some(req.mac_algorithm),
    })
}

/// `Sign`.
pub(crate) fn sign(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: SignRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    check_len("message", req.message.len(), model::MAX_MESSAGE)?;
    let alg = req.signing_algorithm;
    let kind = req.message_type.unwrap_or(wire::MessageType::Raw);
    let (signature, arn) = with_key(&mut cx, &req.key_id, "kms:Sign", None, tokens, |rec| {
        let sig = model::sign(rec, alg, kind, req.message.as_bytes())?;
        Ok((sig, rec.arn.clone()))
    })?;
    check_dry_run(req.dry_run)?;
    encode_response(&SignResponse {
        key_id: Some(arn),
        signature: Some(Blob::new(signature)),
        signing_algorithm: Some(req.signing_algorithm),
    })
}

/// `Verify`.
pub(crate) fn verify(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: VerifyRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    check_len("message", req.message.len(), model::MAX_MESSAGE)?;
    check_len("signature", req.signature.len(), model::MAX_SIGNATURE)?;
    let alg = req.signing_algorithm;
    let kind = req.message_type.unwrap_or(wire::MessageType::Raw);
    let arn = with_key(&mut cx, &req.key_id, "kms:Verify", None, tokens, |rec| {
        let (msg, sig) = (req.message.as_bytes(), req.signature.as_bytes());
        model::verify(rec, alg, kind, msg, sig)?;
        Ok(rec.arn.clone())
    })?;
    check_dry_run(req.dry_run)?;
    encode_response(&VerifyResponse {
        key_id: Some(arn),
        signature_valid: Some(true),
        signing_algorithm: Some(req.signing_algorithm),
    })
}

/// `GetPublicKey`.
pub(crate) fn get_public_key(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: GetPublicKeyRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    let resp = with_key(
        &mut cx,
        &req.key_id,
        "kms:GetPublicKey",
        None,
        tokens,
        |rec| {
            let public = model::public_key(rec)?;
            Ok(GetPublicKeyResponse {
                key_id: Some(rec.arn.clone()),
                public_key: Some(Blob::from_slice(public)),
                customer_master_key_spec: Some(rec.spec),
                key_spec: Some(rec.spec),
                key_usage: Some(rec.usage),
                encryption_algorithms: non_empty(rec.encryption_algorithms()),
                signing_algorithms: non_empty(rec.signing_algorithms()),
                key_agreement_algorithms: None,
                encapsulation_algorithms: None,
            })
        },
    )?;
    encode_response(&resp)
}
