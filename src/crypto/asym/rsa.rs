//! RSA through aws-lc-rs (ring cannot generate RSA keys): generation, PKCS#8 parsing,
//! RSASSA-PSS and RSASSA-PKCS1-v1_5 signatures over a raw message or a precomputed digest, and
//! RSAES-OAEP with SHA-1 or SHA-256 (same hash for MGF1, empty label).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{
    KeyPair as RsaKeyPair, KeySize, OaepAlgorithm, OaepPrivateDecryptingKey,
    OaepPublicEncryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
    OAEP_SHA256_MGF1SHA256,
};
use aws_lc_rs::signature::{self, KeyPair, RsaEncoding, RsaParameters};
use zeroize::Zeroizing;

use super::{import_digest, MessageKind, OaepHash, SignatureAlgorithm};
use crate::crypto::{CryptoError, SecretBytes};

/// A parsed RSA private key, for signing and for OAEP decryption.
pub(super) struct RsaKey {
    sign: RsaKeyPair,
    decrypt: OaepPrivateDecryptingKey,
}

fn encoding(alg: SignatureAlgorithm) -> Result<&'static dyn RsaEncoding, CryptoError> {
    Ok(match alg {
        SignatureAlgorithm::RsaPssSha256 => &signature::RSA_PSS_SHA256,
        SignatureAlgorithm::RsaPssSha384 => &signature::RSA_PSS_SHA384,
        SignatureAlgorithm::RsaPssSha512 => &signature::RSA_PSS_SHA512,
        SignatureAlgorithm::RsaPkcs1Sha256 => &signature::RSA_PKCS1_SHA256,
        SignatureAlgorithm::RsaPkcs1Sha384 => &signature::RSA_PKCS1_SHA384,
        SignatureAlgorithm::RsaPkcs1Sha512 => &signature::RSA_PKCS1_SHA512,
        _ => return Err(CryptoError::Refused),
    })
}

fn parameters(alg: SignatureAlgorithm) -> Result<&'static RsaParameters, CryptoError> {
    Ok(match alg {
        SignatureAlgorithm::RsaPssSha256 => &signature::RSA_PSS_2048_8192_SHA256,
        SignatureAlgorithm::RsaPssSha384 => &signature::RSA_PSS_2048_8192_SHA384,
        SignatureAlgorithm::RsaPssSha512 => &signature::RSA_PSS_2048_8192_SHA512,
        SignatureAlgorithm::RsaPkcs1Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SignatureAlgorithm::RsaPkcs1Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        SignatureAlgorithm::RsaPkcs1Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        _ => return Err(CryptoError::Refused),
    })
}

fn oaep(hash: OaepHash) -> &'static OaepAlgorithm {
    match hash {
        OaepHash::Sha1 => &OAEP_SHA1_MGF1SHA1,
        OaepHash::Sha256 => &OAEP_SHA256_MGF1SHA256,
    }
}

fn key_size(bits: usize) -> Result<KeySize, CryptoError> {
    match bits {
        2048 => Ok(KeySize::Rsa2048),
        3072 => Ok(KeySize::Rsa3072),
        4096 => Ok(KeySize::Rsa4096),
        _ => Err(CryptoError::Refused),
    }
}

impl RsaKey {
    /// A fresh key of `bits`: (PKCS#8 DER, SPKI DER, parsed key).
    pub(super) fn generate(bits: usize) -> Result<(SecretBytes, Vec<u8>, Self), CryptoError> {
        let pair = RsaKeyPair::generate(key_size(bits)?).map_err(|_| CryptoError::Rng)?;
        let der = pair.as_der().map_err(|_| CryptoError::Refused)?;
        let pkcs8 = SecretBytes::new(der.as_ref().to_vec());
        let (public, key) = Self::from_pkcs8(bits, pkcs8.expose())?;
        Ok((pkcs8, public, key))
    }

    /// Parses a PKCS#8 DER RSA key whose modulus is exactly `bits`: (SPKI DER, parsed key).
    pub(super) fn from_pkcs8(bits: usize, der: &[u8]) -> Result<(Vec<u8>, Self), CryptoError> {
        let sign = RsaKeyPair::from_pkcs8(der).map_err(|_| CryptoError::Refused)?;
        if sign.public_modulus_len() * 8 != bits {
            return Err(CryptoError::Refused);
        }
        let public = sign
            .public_key()
            .as_der()
            .map_err(|_| CryptoError::Refused)?
            .as_ref()
            .to_vec();
        let private = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| CryptoError::Refused)?;
        let decrypt = OaepPrivateDecryptingKey::new(private).map_err(|_| CryptoError::Refused)?;
        Ok((public, RsaKey { sign, decrypt }))
    }

    /// A signature as long as the modulus. The caller has checked that `alg` is an RSA one.
    pub(super) fn sign(
        &self,
        alg: SignatureAlgorithm,
        kind: MessageKind,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let enc = encoding(alg)?;
        let mut sig = vec![0u8; self.sign.public_modulus_len()];
        match kind {
            MessageKind::Raw => self.sign.sign(enc, &SystemRandom::new(), message, &mut sig),
            MessageKind::Digest => {
                self.sign
                    .sign_digest(enc, &import_digest(alg, message)?, &mut sig)
            }
        }
        .map_err(|_| CryptoError::Refused)?;
        Ok(sig)
    }

    /// OAEP decryption into a zeroizing buffer.
    pub(super) fn decrypt(
        &self,
        hash: OaepHash,
        ciphertext: &[u8],
    ) -> Result<SecretBytes, CryptoError> {
        let mut buf = Zeroizing::new(vec![0u8; self.decrypt.min_output_size()]);
        let pt = self
            .decrypt
            .decrypt(oaep(hash), ciphertext, buf.as_mut_slice(), None)
            .map_err(|_| CryptoError::Authentication)?;
        Ok(SecretBytes::new(pt.to_vec()))
    }
}

/// Verifies an RSA signature with an SPKI DER public key.
pub(super) fn verify(
    public_der: &[u8],
    alg: SignatureAlgorithm,
    kind: MessageKind,
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    let key = signature::ParsedPublicKey::new(parameters(alg)?, public_der)
        .map_err(|_| CryptoError::Refused)?;
    match kind {
        MessageKind::Raw => key.verify_sig(message, sig),
        MessageKind::Digest => key.verify_digest_sig(&import_digest(alg, message)?, sig),
    }
    .map_err(|_| CryptoError::Authentication)
}

/// OAEP encryption with an SPKI DER public key whose modulus is exactly `bits`.
pub(super) fn encrypt(
    bits: usize,
    public_der: &[u8],
    hash: OaepHash,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let public = PublicEncryptingKey::from_der(public_der).map_err(|_| CryptoError::Refused)?;
    if public.key_size_bits() != bits {
        return Err(CryptoError::Refused);
    }
    let key = OaepPublicEncryptingKey::new(public).map_err(|_| CryptoError::Refused)?;
    if plaintext.len() > key.max_plaintext_size(oaep(hash)) {
        return Err(CryptoError::Refused);
    }
    let mut out = vec![0u8; key.ciphertext_size()];
    let len = key
        .encrypt(oaep(hash), plaintext, &mut out, None)
        .map_err(|_| CryptoError::Refused)?
        .len();
    out.truncate(len);
    Ok(out)
}
