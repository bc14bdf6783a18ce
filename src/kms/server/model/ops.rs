//! Cryptographic operations on key records: Encrypt / Decrypt (symmetric blobs and RSA-OAEP),
//! GenerateDataKey(Pair), Sign / Verify, GenerateMac / VerifyMac, GetPublicKey, GenerateRandom.
//!
//! Each runs its checks in AWS's order: request shape (`ValidationException`) first, then key
//! state, key usage, algorithm for the key spec, and only then the cryptography. Symmetric
//! Encrypt always uses the current material; Decrypt finds the material named in the blob
//! header, so every material the key ever had still decrypts.
//!
//! Choices where AWS documents no exact behaviour: a blob naming a key that does not exist (or
//! a material the key does not have) is `InvalidCiphertextException`, like any other blob that
//! does not open; an encryption context with an RSA key is a `ValidationException` (KMS
//! supports encryption context only with symmetric keys); an RSA plaintext over the OAEP limit
//! is a `ValidationException`.

use crate::crypto::{self, AsymPrivateKey, SecretBytes};
use crate::kms::server::blob::{self, EncryptionContext, KeyUuid, MaterialId};

use super::error::ModelError;
use super::record::KeyRecord;
use super::rules::{
    check_blob_len, check_encryption_algorithm, check_mac_algorithm, check_message_type,
    check_range, check_signing_algorithm, check_usable, check_usage, data_key_len, Operation,
    MAX_CIPHERTEXT, MAX_MESSAGE, MAX_PLAINTEXT, MAX_SIGNATURE, NUMBER_OF_BYTES,
};
use super::types::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, MacAlgorithm, MessageType, SigningAlgorithm,
};
use super::{material::KeyMaterial, specs::SpecKind};

/// The result of Decrypt.
#[derive(Debug)]
pub struct Decrypted<'a> {
    /// The key that decrypted (its ARN goes into the response's `KeyId`).
    pub key: &'a KeyRecord,
    /// The material that decrypted a symmetric blob (`KeyMaterialId`); `None` for RSA.
    pub material_id: Option<MaterialId>,
    /// The plaintext.
    pub plaintext: SecretBytes,
}

/// The result of GenerateDataKeyPair.
#[derive(Debug)]
pub struct DataKeyPair {
    /// The private key, PKCS#8 DER.
    pub private_key: SecretBytes,
    /// The public key, X.509 SubjectPublicKeyInfo DER.
    pub public_key: Vec<u8>,
    /// The private key sealed under the KMS key.
    pub private_key_ciphertext: Vec<u8>,
}

fn internal(_: crypto::CryptoError) -> ModelError {
    ModelError::internal()
}

fn asym_key(rec: &KeyRecord) -> Result<&AsymPrivateKey, ModelError> {
    rec.current_material()?
        .asymmetric_key()
        .ok_or_else(ModelError::internal)
}

fn seal_current(
    rec: &KeyRecord,
    ctx: &EncryptionContext,
    pt: &[u8],
) -> Result<Vec<u8>, ModelError> {
    let m = rec.current_material()?;
    let key = m.symmetric_key().ok_or_else(ModelError::internal)?;
    Ok(blob::seal(key, &m.id, &rec.id, ctx, pt)?)
}

fn no_context_for_asymmetric(ctx: &EncryptionContext) -> Result<(), ModelError> {
    if ctx.is_empty() {
        Ok(())
    } else {
        Err(ModelError::Validation(
            "EncryptionContext is supported only with symmetric encryption KMS keys.".to_owned(),
        ))
    }
}

/// Encrypt: a symmetric blob (`SYMMETRIC_DEFAULT`) or an RSA-OAEP ciphertext.
pub fn encrypt(
    rec: &KeyRecord,
    alg: EncryptionAlgorithm,
    ctx: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, ModelError> {
    check_blob_len("plaintext", plaintext.len(), MAX_PLAINTEXT)?;
    check_usable(rec)?;
    check_usage(rec, Operation::Encrypt)?;
    check_encryption_algorithm(rec, alg)?;
    match (alg.oaep_hash(), rec.spec.kind()) {
        (None, SpecKind::Symmetric) => seal_current(rec, ctx, plaintext),
        (Some(hash), SpecKind::Asymmetric(spec)) => {
            no_context_for_asymmetric(ctx)?;
            let max = crypto::max_oaep_plaintext_len(spec, hash).unwrap_or(0);
            if plaintext.len() > max {
                let rule = format!("have length less than or equal to {max}");
                return Err(ModelError::constraint(None, "plaintext", &rule));
            }
            asym_key(rec)?.encrypt(hash, plaintext).map_err(internal)
        }
        _ => Err(ModelError::internal()),
    }
}

/// Decrypt. `supplied` is the key named by the request's `KeyId` (resolved by the caller),
/// optional for symmetric blobs and required for RSA; `lookup` finds the key a symmetric blob
/// names. A supplied key other than the blob's is `IncorrectKeyException`.
pub fn decrypt<'a>(
    lookup: impl FnOnce(&KeyUuid) -> Option<&'a KeyRecord>,
    supplied: Option<&'a KeyRecord>,
    alg: EncryptionAlgorithm,
    ciphertext: &[u8],
    ctx: &EncryptionContext,
) -> Result<Decrypted<'a>, ModelError> {
    check_blob_len("ciphertextBlob", ciphertext.len(), MAX_CIPHERTEXT)?;
    if let Some(hash) = alg.oaep_hash() {
        let rec = supplied.ok_or_else(|| {
            ModelError::Validation(format!(
                "KeyId is required when EncryptionAlgorithm is {alg}."
            ))
        })?;
        check_usable(rec)?;
        check_usage(rec, Operation::Decrypt)?;
        check_encryption_algorithm(rec, alg)?;
        no_context_for_asymmetric(ctx)?;
        let plaintext = asym_key(rec)?
            .decrypt(hash, ciphertext)
            .map_err(|_| ModelError::InvalidCiphertext)?;
        return Ok(Decrypted {
            key: rec,
            material_id: None,
            plaintext,
        });
    }
    if let Some(rec) = supplied {
        check_encryption_algorithm(rec, alg)?;
    }
    let header = blob::parse_header(ciphertext)?;
    if let Some(rec) = supplied {
        if rec.id != header.key {
            return Err(ModelError::IncorrectKey(
                "The key ID in the request does not identify a KMS key that can perform this \
                 operation."
                    .to_owned(),
            ));
        }
    }
    let rec = match supplied {
        Some(rec) => rec,
        None => lookup(&header.key)
            .filter(|rec| rec.id == header.key)
            .ok_or(ModelError::InvalidCiphertext)?,
    };
    check_usable(rec)?;
    check_usage(rec, Operation::Decrypt)?;
    check_encryption_algorithm(rec, alg)?;
    let material = rec
        .material(&header.material)
        .ok_or(ModelError::InvalidCiphertext)?;
    let key = material
        .symmetric_key()
        .ok_or(ModelError::InvalidCiphertext)?;
    let plaintext = blob::open(key, &material.id, ciphertext, ctx)?;
    Ok(Decrypted {
        key: rec,
        material_id: Some(material.id),
        plaintext,
    })
}

/// GenerateDataKey: a random data key and its blob under the current material.
pub fn generate_data_key(
    rec: &KeyRecord,
    ctx: &EncryptionContext,
    key_spec: Option<DataKeySpec>,
    number_of_bytes: Option<u32>,
) -> Result<(SecretBytes, Vec<u8>), ModelError> {
    let len = data_key_len(key_spec, number_of_bytes)?;
    check_usable(rec)?;
    check_usage(rec, Operation::GenerateDataKey)?;
    let mut key = vec![0u8; len];
    crypto::random_bytes(&mut key).map_err(internal)?;
    let key = SecretBytes::new(key);
    let blob = seal_current(rec, ctx, key.expose())?;
    Ok((key, blob))
}

/// GenerateDataKeyPair: a fresh key pair, the private half sealed under the current material.
pub fn generate_data_key_pair(
    rec: &KeyRecord,
    ctx: &EncryptionContext,
    spec: DataKeyPairSpec,
) -> Result<DataKeyPair, ModelError> {
    check_usable(rec)?;
    check_usage(rec, Operation::GenerateDataKeyPair)?;
    let pair = KeyMaterial::generate(spec.key_spec(), 0, None)?;
    let private = pair.asymmetric_key().ok_or_else(ModelError::internal)?;
    Ok(DataKeyPair {
        private_key_ciphertext: seal_current(rec, ctx, private.pkcs8_der())?,
        private_key: SecretBytes::new(private.pkcs8_der().to_vec()),
        public_key: private.public_key_der().to_vec(),
    })
}

/// Sign.
pub fn sign(
    rec: &KeyRecord,
    alg: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
) -> Result<Vec<u8>, ModelError> {
    check_blob_len("message", message.len(), MAX_MESSAGE)?;
    check_usable(rec)?;
    check_usage(rec, Operation::Sign)?;
    let c = check_signing_algorithm(rec, alg)?;
    let kind = check_message_type(rec, c, alg, message_type, message.len())?;
    asym_key(rec)?.sign(c, kind, message).map_err(internal)
}

/// Verify: `Ok` if the signature verifies, `KMSInvalidSignatureException` if not.
pub fn verify(
    rec: &KeyRecord,
    alg: SigningAlgorithm,
    message_type: MessageType,
    message: &[u8],
    signature: &[u8],
) -> Result<(), ModelError> {
    check_blob_len("message", message.len(), MAX_MESSAGE)?;
    check_blob_len("signature", signature.len(), MAX_SIGNATURE)?;
    check_usable(rec)?;
    check_usage(rec, Operation::Verify)?;
    let c = check_signing_algorithm(rec, alg)?;
    let kind = check_message_type(rec, c, alg, message_type, message.len())?;
    asym_key(rec)?
        .verify(c, kind, message, signature)
        .map_err(|e| match e {
            crypto::CryptoError::Authentication => ModelError::InvalidSignature,
            _ => ModelError::internal(),
        })
}

/// GenerateMac.
pub fn generate_mac(
    rec: &KeyRecord,
    alg: MacAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, ModelError> {
    check_blob_len("message", message.len(), MAX_MESSAGE)?;
    check_usable(rec)?;
    check_usage(rec, Operation::GenerateMac)?;
    let c = check_mac_algorithm(rec, alg)?;
    let key = rec
        .current_material()?
        .mac_key()
        .ok_or_else(ModelError::internal)?;
    Ok(crypto::mac(c, key.expose(), message))
}

/// VerifyMac: `Ok` if the MAC verifies, `KMSInvalidMacException` if not.
pub fn verify_mac(
    rec: &KeyRecord,
    alg: MacAlgorithm,
    message: &[u8],
    mac: &[u8],
) -> Result<(), ModelError> {
    check_blob_len("message", message.len(), MAX_MESSAGE)?;
    check_blob_len("mac", mac.len(), MAX_SIGNATURE)?;
    check_usable(rec)?;
    check_usage(rec, Operation::VerifyMac)?;
    let c = check_mac_algorithm(rec, alg)?;
    let key = rec
        .current_material()?
        .mac_key()
        .ok_or_else(ModelError::internal)?;
    crypto::verify_mac(c, key.expose(), message, mac).map_err(|_| ModelError::InvalidMac)
}

/// GetPublicKey: the SubjectPublicKeyInfo DER of an asymmetric key.
pub fn public_key(rec: &KeyRecord) -> Result<&[u8], ModelError> {
    check_usable(rec)?;
    match rec.current_material()?.asymmetric_key() {
        Some(k) => Ok(k.public_key_der()),
        None => Err(ModelError::UnsupportedOperation(format!(
            "{} key spec is {}. GetPublicKey is supported only on asymmetric KMS keys.",
            rec.arn, rec.spec
        ))),
    }
}

/// GenerateRandom: `NumberOfBytes` (1–1024, required) random bytes.
pub fn generate_random(number_of_bytes: Option<u32>) -> Result<SecretBytes, ModelError> {
    let n = number_of_bytes.ok_or_else(|| {
        ModelError::Validation(
            "1 validation error detected: Value null at 'numberOfBytes' failed to satisfy \
             constraint: Member must not be null"
                .to_owned(),
        )
    })?;
    check_range("numberOfBytes", n, &NUMBER_OF_BYTES)?;
    let mut out = vec![0u8; usize::try_from(n).map_err(|_| ModelError::internal())?];
    crypto::random_bytes(&mut out).map_err(internal)?;
    Ok(SecretBytes::new(out))
}
