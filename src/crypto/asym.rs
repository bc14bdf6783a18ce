//! Asymmetric keys: ECDSA on NIST P-256/P-384/P-521 and RSA 2048/3072/4096 for signing, RSA-OAEP
//! for encryption. The key specs and algorithms of KMS asymmetric keys, nothing else.
//!
//! Serialisation is what KMS hands out: private keys as PKCS#8 DER (`PrivateKeyInfo`), public
//! keys as X.509 `SubjectPublicKeyInfo` DER. ECDSA signatures are DER (`ECDSA-Sig-Value`), RSA
//! signatures are the modulus length. PSS uses MGF1 with the message digest and a salt as long as
//! the digest, as KMS's `RSASSA_PSS_SHA_*` do.
//!
//! A message is signed either `Raw` (hashed here with the algorithm's digest) or as a
//! precomputed `Digest` (which must be exactly the digest's length).
//!
//! [`AsymPrivateKey`] holds the PKCS#8 bytes in a zeroizing [`SecretBytes`], prints `[redacted]`
//! and is not `Clone`. The parsed aws-lc key objects inside it free (and clear) their big
//! numbers on drop. Every failure is an opaque [`CryptoError`]: `Refused` for bad input (a key
//! that does not parse, an algorithm that does not fit the key, a digest of the wrong length, a
//! plaintext too long), `Authentication` for a signature that does not verify or a ciphertext
//! that does not decrypt.

mod ec;
mod rsa;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) use tests::cached_test_key;

use std::fmt;

use super::{CryptoError, SecretBytes};

/// The key spec of an asymmetric key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsymKeySpec {
    /// NIST P-256 (secp256r1).
    EccNistP256,
    /// NIST P-384 (secp384r1).
    EccNistP384,
    /// NIST P-521 (secp521r1).
    EccNistP521,
    /// RSA with a 2048-bit modulus.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
}

impl AsymKeySpec {
    /// Every spec.
    pub const ALL: [AsymKeySpec; 6] = [
        AsymKeySpec::EccNistP256,
        AsymKeySpec::EccNistP384,
        AsymKeySpec::EccNistP521,
        AsymKeySpec::Rsa2048,
        AsymKeySpec::Rsa3072,
        AsymKeySpec::Rsa4096,
    ];

    /// The RSA modulus length in bits, or `None` for an elliptic-curve spec.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            AsymKeySpec::Rsa2048 => Some(2048),
            AsymKeySpec::Rsa3072 => Some(3072),
            AsymKeySpec::Rsa4096 => Some(4096),
            _ => None,
        }
    }

    /// True for the RSA specs.
    pub fn is_rsa(self) -> bool {
        self.rsa_bits().is_some()
    }
}

/// A signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt.
    RsaPssSha256,
    /// RSASSA-PSS, SHA-384, MGF1-SHA-384, 48-byte salt.
    RsaPssSha384,
    /// RSASSA-PSS, SHA-512, MGF1-SHA-512, 64-byte salt.
    RsaPssSha512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RsaPkcs1Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RsaPkcs1Sha384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RsaPkcs1Sha512,
    /// ECDSA with SHA-256 (P-256 only), DER signature.
    EcdsaSha256,
    /// ECDSA with SHA-384 (P-384 only), DER signature.
    EcdsaSha384,
    /// ECDSA with SHA-512 (P-521 only), DER signature.
    EcdsaSha512,
}

impl SignatureAlgorithm {
    /// Every algorithm.
    pub const ALL: [SignatureAlgorithm; 9] = [
        SignatureAlgorithm::RsaPssSha256,
        SignatureAlgorithm::RsaPssSha384,
        SignatureAlgorithm::RsaPssSha512,
        SignatureAlgorithm::RsaPkcs1Sha256,
        SignatureAlgorithm::RsaPkcs1Sha384,
        SignatureAlgorithm::RsaPkcs1Sha512,
        SignatureAlgorithm::EcdsaSha256,
        SignatureAlgorithm::EcdsaSha384,
        SignatureAlgorithm::EcdsaSha512,
    ];

    fn digest(self) -> &'static aws_lc_rs::digest::Algorithm {
        use aws_lc_rs::digest;
        match self {
            SignatureAlgorithm::RsaPssSha256
            | SignatureAlgorithm::RsaPkcs1Sha256
            | SignatureAlgorithm::EcdsaSha256 => &digest::SHA256,
            SignatureAlgorithm::RsaPssSha384
            | SignatureAlgorithm::RsaPkcs1Sha384
            | SignatureAlgorithm::EcdsaSha384 => &digest::SHA384,
            SignatureAlgorithm::RsaPssSha512
            | SignatureAlgorithm::RsaPkcs1Sha512
            | SignatureAlgorithm::EcdsaSha512 => &digest::SHA512,
        }
    }

    /// Length in bytes of the digest this algorithm signs (the length a `Digest` message must
    /// have).
    pub fn digest_len(self) -> usize {
        self.digest().output_len()
    }

    /// True when a key of `spec` can make and check signatures with this algorithm: each ECDSA
    /// algorithm with its one curve, every RSA algorithm with every RSA size.
    pub fn supports(self, spec: AsymKeySpec) -> bool {
        match self {
            SignatureAlgorithm::EcdsaSha256 => spec == AsymKeySpec::EccNistP256,
            SignatureAlgorithm::EcdsaSha384 => spec == AsymKeySpec::EccNistP384,
            SignatureAlgorithm::EcdsaSha512 => spec == AsymKeySpec::EccNistP521,
            _ => spec.is_rsa(),
        }
    }
}

/// How the message handed to sign or verify is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The message itself; it is hashed with the algorithm's digest.
    Raw,
    /// A digest computed by the caller, exactly [`SignatureAlgorithm::digest_len`] bytes.
    Digest,
}

/// The hash of an RSA-OAEP encryption (used for both OAEP and MGF1, empty label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OaepHash {
    /// SHA-1 (KMS `RSAES_OAEP_SHA_1`).
    Sha1,
    /// SHA-256 (KMS `RSAES_OAEP_SHA_256`).
    Sha256,
}

impl OaepHash {
    /// Both hashes.
    pub const ALL: [OaepHash; 2] = [OaepHash::Sha1, OaepHash::Sha256];

    fn len(self) -> usize {
        match self {
            OaepHash::Sha1 => 20,
            OaepHash::Sha256 => 32,
        }
    }
}

/// The longest plaintext RSA-OAEP with `hash` can encrypt under a key of `spec`
/// (`k - 2·hLen - 2`), or `None` for an elliptic-curve spec.
pub fn max_oaep_plaintext_len(spec: AsymKeySpec, hash: OaepHash) -> Option<usize> {
    spec.rsa_bits().map(|bits| bits / 8 - 2 * hash.len() - 2)
}

/// An asymmetric private key (with its public half).
pub struct AsymPrivateKey {
    spec: AsymKeySpec,
    pkcs8: SecretBytes,
    public_der: Vec<u8>,
    inner: Inner,
}

enum Inner {
    Ec(ec::EcKey),
    Rsa(Box<rsa::RsaKey>),
}

impl fmt::Debug for AsymPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsymPrivateKey({:?}, [redacted])", self.spec)
    }
}

impl AsymPrivateKey {
    /// Generates a fresh key pair of `spec` (RSA-4096 takes a noticeable fraction of a second).
    pub fn generate(spec: AsymKeySpec) -> Result<Self, CryptoError> {
        let (pkcs8, public_der, inner) = match spec.rsa_bits() {
            Some(bits) => {
                let (pkcs8, public_der, key) = rsa::RsaKey::generate(bits)?;
                (pkcs8, public_der, Inner::Rsa(Box::new(key)))
            }
            None => {
                let (pkcs8, public_der, key) = ec::EcKey::generate(spec)?;
                (pkcs8, public_der, Inner::Ec(key))
            }
        };
        Ok(AsymPrivateKey {
            spec,
            pkcs8,
            public_der,
            inner,
        })
    }

    /// Parses a PKCS#8 DER private key, which must be a key of `spec`.
    pub fn from_pkcs8(spec: AsymKeySpec, der: &[u8]) -> Result<Self, CryptoError> {
        let (public_der, inner) = match spec.rsa_bits() {
            Some(bits) => {
                let (public_der, key) = rsa::RsaKey::from_pkcs8(bits, der)?;
                (public_der, Inner::Rsa(Box::new(key)))
            }
            None => {
                let (public_der, key) = ec::EcKey::from_pkcs8(spec, der)?;
                (public_der, Inner::Ec(key))
            }
        };
        Ok(AsymPrivateKey {
            spec,
            pkcs8: SecretBytes::new(der.to_vec()),
            public_der,
            inner,
        })
    }

    /// The key spec.
    pub fn spec(&self) -> AsymKeySpec {
        self.spec
    }

    /// The private key as PKCS#8 DER. Keep the borrow short.
    pub fn pkcs8_der(&self) -> &[u8] {
        self.pkcs8.expose()
    }

    /// The public key as X.509 `SubjectPublicKeyInfo` DER.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// Signs `message` (read as `kind`) with `alg`, which must suit the key's spec.
    pub fn sign(
        &self,
        alg: SignatureAlgorithm,
        kind: MessageKind,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if !alg.supports(self.spec) {
            return Err(CryptoError::Refused);
        }
        match &self.inner {
            Inner::Ec(k) => k.sign(alg, kind, message),
            Inner::Rsa(k) => k.sign(alg, kind, message),
        }
    }

    /// Verifies `signature` over `message` with this key's public half.
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        kind: MessageKind,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        verify_signature(self.spec, &self.public_der, alg, kind, message, signature)
    }

    /// Encrypts `plaintext` with RSA-OAEP under this key's public half.
    pub fn encrypt(&self, hash: OaepHash, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        oaep_encrypt(self.spec, &self.public_der, hash, plaintext)
    }

    /// Decrypts an RSA-OAEP `ciphertext`. Fails with `Refused` on an elliptic-curve key and
    /// `Authentication` on a ciphertext that does not decrypt.
    pub fn decrypt(&self, hash: OaepHash, ciphertext: &[u8]) -> Result<SecretBytes, CryptoError> {
        match &self.inner {
            Inner::Rsa(k) => k.decrypt(hash, ciphertext),
            Inner::Ec(_) => Err(CryptoError::Refused),
        }
    }
}

/// Verifies `signature` over `message` with the `SubjectPublicKeyInfo` DER public key
/// `public_der` of spec `spec`. A key that does not parse fails with `Refused`, a signature that
/// does not verify with `Authentication`.
pub fn verify_signature(
    spec: AsymKeySpec,
    public_der: &[u8],
    alg: SignatureAlgorithm,
    kind: MessageKind,
    message: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    if !alg.supports(spec) {
        return Err(CryptoError::Refused);
    }
    if spec.is_rsa() {
        rsa::verify(public_der, alg, kind, message, signature)
    } else {
        ec::verify(spec, public_der, alg, kind, message, signature)
    }
}

/// Encrypts `plaintext` with RSA-OAEP under the `SubjectPublicKeyInfo` DER RSA public key
/// `public_der` of spec `spec`. Fails with `Refused` on an elliptic-curve spec, a key that does
/// not parse or is not `spec`'s size, or a plaintext over [`max_oaep_plaintext_len`].
pub fn oaep_encrypt(
    spec: AsymKeySpec,
    public_der: &[u8],
    hash: OaepHash,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let bits = spec.rsa_bits().ok_or(CryptoError::Refused)?;
    rsa::encrypt(bits, public_der, hash, plaintext)
}

/// Imports a caller-supplied digest for `alg`, refusing one of the wrong length.
fn import_digest(
    alg: SignatureAlgorithm,
    digest: &[u8],
) -> Result<aws_lc_rs::digest::Digest, CryptoError> {
    aws_lc_rs::digest::Digest::import_less_safe(digest, alg.digest())
        .map_err(|_| CryptoError::Refused)
}
