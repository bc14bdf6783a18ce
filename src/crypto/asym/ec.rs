//! ECDSA on the NIST curves through aws-lc-rs: generation, PKCS#8 parsing, DER signatures over a
//! raw message or a precomputed digest. Each curve signs with exactly one digest (P-256/SHA-256,
//! P-384/SHA-384, P-521/SHA-512), as KMS's `ECDSA_SHA_*` algorithms do.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair};

use super::{import_digest, AsymKeySpec, MessageKind, SignatureAlgorithm};
use crate::crypto::{CryptoError, SecretBytes};

/// A parsed ECDSA private key.
pub(super) struct EcKey {
    key: EcdsaKeyPair,
}

fn signing_alg(spec: AsymKeySpec) -> Result<&'static EcdsaSigningAlgorithm, CryptoError> {
    match spec {
        AsymKeySpec::EccNistP256 => Ok(&signature::ECDSA_P256_SHA256_ASN1_SIGNING),
        AsymKeySpec::EccNistP384 => Ok(&signature::ECDSA_P384_SHA384_ASN1_SIGNING),
        AsymKeySpec::EccNistP521 => Ok(&signature::ECDSA_P521_SHA512_ASN1_SIGNING),
        _ => Err(CryptoError::Refused),
    }
}

fn verification_alg(
    spec: AsymKeySpec,
) -> Result<&'static signature::EcdsaVerificationAlgorithm, CryptoError> {
    match spec {
        AsymKeySpec::EccNistP256 => Ok(&signature::ECDSA_P256_SHA256_ASN1),
        AsymKeySpec::EccNistP384 => Ok(&signature::ECDSA_P384_SHA384_ASN1),
        AsymKeySpec::EccNistP521 => Ok(&signature::ECDSA_P521_SHA512_ASN1),
        _ => Err(CryptoError::Refused),
    }
}

impl EcKey {
    /// A fresh key: (PKCS#8 DER, SPKI DER, parsed key).
    pub(super) fn generate(spec: AsymKeySpec) -> Result<(SecretBytes, Vec<u8>, Self), CryptoError> {
        let key = EcdsaKeyPair::generate(signing_alg(spec)?).map_err(|_| CryptoError::Rng)?;
        let pkcs8 = key.to_pkcs8v1().map_err(|_| CryptoError::Refused)?;
        let pkcs8 = SecretBytes::new(pkcs8.as_ref().to_vec());
        let public = public_der(&key)?;
        Ok((pkcs8, public, EcKey { key }))
    }

    /// Parses a PKCS#8 DER key on `spec`'s curve: (SPKI DER, parsed key).
    pub(super) fn from_pkcs8(
        spec: AsymKeySpec,
        der: &[u8],
    ) -> Result<(Vec<u8>, Self), CryptoError> {
        let key =
            EcdsaKeyPair::from_pkcs8(signing_alg(spec)?, der).map_err(|_| CryptoError::Refused)?;
        let public = public_der(&key)?;
        Ok((public, EcKey { key }))
    }

    /// A DER signature. The caller has checked that `alg` suits the curve.
    pub(super) fn sign(
        &self,
        alg: SignatureAlgorithm,
        kind: MessageKind,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let sig = match kind {
            MessageKind::Raw => self.key.sign(&SystemRandom::new(), message),
            MessageKind::Digest => self.key.sign_digest(&import_digest(alg, message)?),
        }
        .map_err(|_| CryptoError::Refused)?;
        Ok(sig.as_ref().to_vec())
    }
}

fn public_der(key: &EcdsaKeyPair) -> Result<Vec<u8>, CryptoError> {
    let der = key
        .public_key()
        .as_der()
        .map_err(|_| CryptoError::Refused)?;
    Ok(der.as_ref().to_vec())
}

/// Verifies a DER ECDSA signature with an SPKI DER public key on `spec`'s curve.
pub(super) fn verify(
    spec: AsymKeySpec,
    public_der: &[u8],
    alg: SignatureAlgorithm,
    kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    let key = signature::ParsedPublicKey::new(verification_alg(spec)?, public_der)
        .map_err(|_| CryptoError::Refused)?;
    match kind {
        MessageKind::Raw => key.verify_sig(message, sig),
        MessageKind::Digest => key.verify_digest_sig(&import_digest(alg, message)?, sig),
    }
    .map_err(|_| CryptoError::Authentication)
}
