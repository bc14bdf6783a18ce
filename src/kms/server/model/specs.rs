//! The tables that tie the KMS enumerations together: which kind of material, usages, signing,
//! encryption and MAC algorithms each key spec has, and how the implemented algorithms map onto
//! `crate::crypto`. Pure data, straight from the KMS developer guide's key-spec reference.

use super::types::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm,
    SigningAlgorithm,
};
use crate::crypto;

/// What kind of material a key spec has, for the specs this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecKind {
    /// A 256-bit AES key.
    Symmetric,
    /// An HMAC key for this algorithm.
    Hmac(crypto::MacAlgorithm),
    /// An asymmetric key pair.
    Asymmetric(crypto::AsymKeySpec),
    /// A spec AWS defines that this server does not implement.
    Unsupported,
}

impl KeySpec {
    /// The kind of material, or [`SpecKind::Unsupported`].
    pub fn kind(self) -> SpecKind {
        use crypto::{AsymKeySpec as A, MacAlgorithm as M};
        match self {
            KeySpec::SymmetricDefault => SpecKind::Symmetric,
            KeySpec::Hmac224 => SpecKind::Hmac(M::HmacSha224),
            KeySpec::Hmac256 => SpecKind::Hmac(M::HmacSha256),
            KeySpec::Hmac384 => SpecKind::Hmac(M::HmacSha384),
            KeySpec::Hmac512 => SpecKind::Hmac(M::HmacSha512),
            KeySpec::Rsa2048 => SpecKind::Asymmetric(A::Rsa2048),
            KeySpec::Rsa3072 => SpecKind::Asymmetric(A::Rsa3072),
            KeySpec::Rsa4096 => SpecKind::Asymmetric(A::Rsa4096),
            KeySpec::EccNistP256 => SpecKind::Asymmetric(A::EccNistP256),
            KeySpec::EccNistP384 => SpecKind::Asymmetric(A::EccNistP384),
            KeySpec::EccNistP521 => SpecKind::Asymmetric(A::EccNistP521),
            _ => SpecKind::Unsupported,
        }
    }

    /// The usages AWS allows for this spec.
    pub fn allowed_usages(self) -> &'static [KeyUsage] {
        use KeyUsage::*;
        match self {
            KeySpec::SymmetricDefault => &[EncryptDecrypt],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[EncryptDecrypt, SignVerify],
            KeySpec::EccNistP256 | KeySpec::EccNistP384 | KeySpec::EccNistP521 => {
                &[SignVerify, KeyAgreement]
            }
            KeySpec::Hmac224 | KeySpec::Hmac256 | KeySpec::Hmac384 | KeySpec::Hmac512 => {
                &[GenerateVerifyMac]
            }
            KeySpec::Sm2 => &[EncryptDecrypt, SignVerify, KeyAgreement],
            KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => &[EncapsulateDecapsulate],
            KeySpec::EccSecgP256k1
            | KeySpec::EccNistEdwards25519
            | KeySpec::MlDsa44
            | KeySpec::MlDsa65
            | KeySpec::MlDsa87 => &[SignVerify],
        }
    }

    /// The signing algorithms AWS allows for this spec (with usage SIGN_VERIFY).
    pub fn signing_algorithms(self) -> &'static [SigningAlgorithm] {
        use SigningAlgorithm::*;
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &[
                RsassaPssSha256,
                RsassaPssSha384,
                RsassaPssSha512,
                RsassaPkcs1V15Sha256,
                RsassaPkcs1V15Sha384,
                RsassaPkcs1V15Sha512,
            ],
            KeySpec::EccNistP256 | KeySpec::EccSecgP256k1 => &[EcdsaSha256],
            KeySpec::EccNistP384 => &[EcdsaSha384],
            KeySpec::EccNistP521 => &[EcdsaSha512],
            KeySpec::EccNistEdwards25519 => &[Ed25519Sha512, Ed25519PhSha512],
            KeySpec::Sm2 => &[Sm2Dsa],
            KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => &[MlDsaShake256],
            _ => &[],
        }
    }

    /// The encryption algorithms AWS allows for this spec (with usage ENCRYPT_DECRYPT).
    pub fn encryption_algorithms(self) -> &'static [EncryptionAlgorithm] {
        use EncryptionAlgorithm::*;
        match self {
            KeySpec::SymmetricDefault => &[SymmetricDefault],
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &[RsaesOaepSha1, RsaesOaepSha256]
            }
            KeySpec::Sm2 => &[Sm2Pke],
            _ => &[],
        }
    }

    /// The MAC algorithm of an HMAC spec (one per spec).
    pub fn mac_algorithms(self) -> &'static [MacAlgorithm] {
        match self {
            KeySpec::Hmac224 => &[MacAlgorithm::HmacSha224],
            KeySpec::Hmac256 => &[MacAlgorithm::HmacSha256],
            KeySpec::Hmac384 => &[MacAlgorithm::HmacSha384],
            KeySpec::Hmac512 => &[MacAlgorithm::HmacSha512],
            _ => &[],
        }
    }
}

impl SigningAlgorithm {
    /// The implementation, or `None` for an algorithm this server does not implement.
    pub fn to_crypto(self) -> Option<crypto::SignatureAlgorithm> {
        use crypto::SignatureAlgorithm as S;
        Some(match self {
            SigningAlgorithm::RsassaPssSha256 => S::RsaPssSha256,
            SigningAlgorithm::RsassaPssSha384 => S::RsaPssSha384,
            SigningAlgorithm::RsassaPssSha512 => S::RsaPssSha512,
            SigningAlgorithm::RsassaPkcs1V15Sha256 => S::RsaPkcs1Sha256,
            SigningAlgorithm::RsassaPkcs1V15Sha384 => S::RsaPkcs1Sha384,
            SigningAlgorithm::RsassaPkcs1V15Sha512 => S::RsaPkcs1Sha512,
            SigningAlgorithm::EcdsaSha256 => S::EcdsaSha256,
            SigningAlgorithm::EcdsaSha384 => S::EcdsaSha384,
            SigningAlgorithm::EcdsaSha512 => S::EcdsaSha512,
            _ => return None,
        })
    }
}

impl MacAlgorithm {
    /// The implementation.
    pub fn to_crypto(self) -> crypto::MacAlgorithm {
        match self {
            MacAlgorithm::HmacSha224 => crypto::MacAlgorithm::HmacSha224,
            MacAlgorithm::HmacSha256 => crypto::MacAlgorithm::HmacSha256,
            MacAlgorithm::HmacSha384 => crypto::MacAlgorithm::HmacSha384,
            MacAlgorithm::HmacSha512 => crypto::MacAlgorithm::HmacSha512,
        }
    }
}

impl EncryptionAlgorithm {
    /// The OAEP hash of an RSA algorithm, `None` for the others.
    pub fn oaep_hash(self) -> Option<crypto::OaepHash> {
        match self {
            EncryptionAlgorithm::RsaesOaepSha1 => Some(crypto::OaepHash::Sha1),
            EncryptionAlgorithm::RsaesOaepSha256 => Some(crypto::OaepHash::Sha256),
            _ => None,
        }
    }
}

impl DataKeySpec {
    /// The data key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            DataKeySpec::Aes256 => 32,
            DataKeySpec::Aes128 => 16,
        }
    }
}

impl DataKeyPairSpec {
    /// The key spec of the same name.
    pub fn key_spec(self) -> KeySpec {
        match self {
            DataKeyPairSpec::Rsa2048 => KeySpec::Rsa2048,
            DataKeyPairSpec::Rsa3072 => KeySpec::Rsa3072,
            DataKeyPairSpec::Rsa4096 => KeySpec::Rsa4096,
            DataKeyPairSpec::EccNistP256 => KeySpec::EccNistP256,
            DataKeyPairSpec::EccNistP384 => KeySpec::EccNistP384,
            DataKeyPairSpec::EccNistP521 => KeySpec::EccNistP521,
            DataKeyPairSpec::EccSecgP256k1 => KeySpec::EccSecgP256k1,
            DataKeyPairSpec::Sm2 => KeySpec::Sm2,
            DataKeyPairSpec::EccNistEdwards25519 => KeySpec::EccNistEdwards25519,
            DataKeyPairSpec::MlKem512 => KeySpec::MlKem512,
            DataKeyPairSpec::MlKem768 => KeySpec::MlKem768,
            DataKeyPairSpec::MlKem1024 => KeySpec::MlKem1024,
        }
    }
}
