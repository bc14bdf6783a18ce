//! MACs (GenerateMac, VerifyMac), signatures (Sign, Verify) and GetPublicKey.
//!
//! Order of checks, as AWS: request shape (`ValidationException`), key lookup
//! (`NotFoundException`), authorization, then key state, key usage and the algorithm for the
//! key spec (`InvalidKeyUsageException`), then the cryptography. A MAC or signature that does
//! not verify is an error (`KMSInvalidMacException` / `KMSInvalidSignatureException`), never
//! `MacValid: false` / `SignatureValid: false`. DryRun runs everything and then answers
//! `DryRunOperationException`.

use super::keyuse::{check_dry_run, check_len, grant_tokens, to_model, to_wire, with_key};
use super::Ctx;
use crate::kms::server::model::{self, MacAlgorithm, MessageType, SigningAlgorithm};
use crate::kms::wire::{
    self, decode_request, encode_response, Blob, GenerateMacRequest, GenerateMacResponse,
    GetPublicKeyRequest, GetPublicKeyResponse, KmsError, SignRequest, SignResponse,
    VerifyMacRequest, VerifyMacResponse, VerifyRequest, VerifyResponse,
};

/// The request's message type (default RAW) as the model's.
fn message_type(t: Option<wire::MessageType>) -> Result<MessageType, KmsError> {
    let t = t.unwrap_or(wire::MessageType::Raw);
    to_model(t.as_str(), "messageType")
}

/// `GenerateMac`.
pub(crate) fn generate_mac(mut cx: Ctx<'_>) -> Result<Vec<u8>, KmsError> {
    let req: GenerateMacRequest = decode_request(cx.body)?;
    let tokens = grant_tokens(&req.grant_tokens)?;
    check_len("message", req.message.len(), model::MAX_MESSAGE)?;
    let alg: MacAlgorithm = to_model(req.mac_algorithm.as_str(), "macAlgorithm")?;
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
    let alg: MacAlgorithm = to_model(req.mac_algorithm.as_str(), "macAlgorithm")?;
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
    let alg: SigningAlgorithm = to_model(req.signing_algorithm.as_str(), "signingAlgorithm")?;
    let kind = message_type(req.message_type)?;
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
    let alg: SigningAlgorithm = to_model(req.signing_algorithm.as_str(), "signingAlgorithm")?;
    let kind = message_type(req.message_type)?;
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

/// A list of model enum values as wire values, or `None` when empty (AWS omits the member).
fn wire_list<M: model::WireEnum, W: std::str::FromStr>(
    values: &[M],
) -> Result<Option<Vec<W>>, KmsError> {
    if values.is_empty() {
        return Ok(None);
    }
    values
        .iter()
        .map(|v| to_wire(*v))
        .collect::<Result<_, _>>()
        .map(Some)
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
            let spec: wire::KeySpec = to_wire(rec.spec)?;
            Ok(GetPublicKeyResponse {
                key_id: Some(rec.arn.clone()),
                public_key: Some(Blob::from_slice(public)),
                customer_master_key_spec: Some(spec),
                key_spec: Some(spec),
                key_usage: Some(to_wire(rec.usage)?),
                encryption_algorithms: wire_list(rec.encryption_algorithms())?,
                signing_algorithms: wire_list(rec.signing_algorithms())?,
                key_agreement_algorithms: None,
                encapsulation_algorithms: None,
            })
        },
    )?;
    encode_response(&resp)
}
