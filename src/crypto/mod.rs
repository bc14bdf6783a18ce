//! AES-256-GCM chunk cipher, HKDF key schedule, nonce counter and secret types.
//!
//! This is the only module that imports `ring::aead` or `aws_lc_rs`. It does no I/O and never
//! prints. Failures are deliberately opaque: [`CryptoError::Authentication`] says that a chunk
//! did not authenticate, never why (wrong key, flipped bit, wrong nonce and wrong AAD all look
//! the same), as ring's `Unspecified` and age's "decryption error" do.

mod asym;
mod backend;
mod chunk;
mod kdf;
mod mac;
mod nonce;
mod schedule;
mod secret;
mod wrap;

#[cfg(test)]
pub(crate) use asym::cached_test_key as cached_asym_test_key;
pub use asym::{
    max_oaep_plaintext_len, oaep_encrypt, verify_signature, AsymKeySpec, AsymPrivateKey,
    MessageKind, OaepHash, SignatureAlgorithm,
};
pub use backend::Backend;
pub use chunk::ChunkKey;
pub use kdf::{derive_key, hkdf_sha256, HKDF_SHA256_MAX_LEN};
pub use mac::{generate_mac_key, mac, verify_mac, MacAlgorithm};
pub use nonce::{chunk_nonce, NonceCounter, NONCE_RESERVATION};
pub use schedule::{MetaKey, VolumeKeys};
pub use secret::{DataKey, SecretBytes};
pub use wrap::{KeyWrapper, WRAPPED_LEN};

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of an AES-GCM tag in bytes.
pub const TAG_LEN: usize = 16;
/// Length of an AES-GCM nonce in bytes.
pub const NONCE_LEN: usize = 12;
/// Length of a key check value in bytes.
pub const KCV_LEN: usize = 16;
/// Length of an HMAC-SHA256 output in bytes.
pub const MAC_LEN: usize = 32;

/// Errors from the crypto layer. Deliberately carries no detail about *why* something failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A ciphertext, tag or MAC did not authenticate.
    #[error("authentication failed")]
    Authentication,
    /// The underlying library refused an operation (bad key length, too-long input).
    #[error("the cryptographic library refused the operation")]
    Refused,
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Rng,
}

/// Fills `out` with bytes from the operating system's CSPRNG.
pub fn random_bytes(out: &mut [u8]) -> Result<(), CryptoError> {
    use ring::rand::SecureRandom;
    ring::rand::SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptoError::Rng)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Incremental SHA-256 (for checking round trips of large files).
pub struct Sha256(ring::digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }
}

impl Sha256 {
    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest.
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
