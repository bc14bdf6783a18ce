//! The symmetric `CiphertextBlob`: self-describing, versioned, authenticated.
//!
//! Byte layout of version 1 (all offsets in bytes):
//!
//! ```text
//! off  len  field
//!   0    1  version = 0x01
//!   1   16  key uuid            which KMS key (see ids.rs)
//!  17   32  material id         which of the key's materials (every old one stays usable)
//!  49   16  salt                random per request
//!  65   12  nonce               random per request
//!  77    n  ciphertext          AES-256-GCM, n = plaintext length
//! 77+n  16  tag
//! ```
//! `K = HKDF-SHA256(ikm = key material, salt, info = "volcrypt kms blob v1")` is a fresh
//! AES-256-GCM key per request (as AWS derives a per-request key from the backing key and a
//! nonce), and `AAD = header (bytes 0..77) || canonical(encryption context)`, so version, key,
//! material, salt and nonce are all authenticated, and the context must match exactly
//! (see context.rs). The overhead is 93 bytes (KMS's own is larger; blobs are opaque either way).
//!
//! [`parse_header`] reads the clear header so the caller can find the key and the material
//! *before* decrypting. Every failure to parse or open is the one opaque
//! [`BlobError::InvalidCiphertext`] (AWS `InvalidCiphertextException`, no detail), whether the
//! blob was truncated, of an unknown version, for another material, tampered with, or opened
//! with the wrong context. No panics on any input (a proptest checks it).

mod context;
mod ids;
#[cfg(test)]
mod tests;

pub use context::{canonical_context, EncryptionContext};
pub use ids::{IdParseError, KeyUuid, MaterialId};

use zeroize::Zeroizing;

use crate::crypto::{
    derive_key, random_bytes, Backend, ChunkKey, DataKey, SecretBytes, NONCE_LEN, TAG_LEN,
};

/// The blob format version this module writes.
pub const BLOB_VERSION: u8 = 1;
/// Length of the clear header (version, key uuid, material id, salt, nonce).
pub const HEADER_LEN: usize = 1 + 16 + 32 + SALT_LEN + NONCE_LEN;
/// Bytes a blob adds to its plaintext (header and tag).
pub const BLOB_OVERHEAD: usize = HEADER_LEN + TAG_LEN;
/// Length of the per-request HKDF salt.
pub const SALT_LEN: usize = 16;
/// The HKDF `info` of the per-request key.
const KDF_INFO: &[u8] = b"volcrypt kms blob v1";

/// Why a blob could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The blob does not parse or does not authenticate (any reason; deliberately no detail).
    #[error("invalid ciphertext")]
    InvalidCiphertext,
    /// The random number generator or the cipher failed while sealing.
    #[error("internal cryptographic failure")]
    Internal,
}

impl BlobError {
    /// The AWS error name (`__type`) this error is reported as.
    pub fn aws_code(&self) -> &'static str {
        match self {
            BlobError::InvalidCiphertext => "InvalidCiphertextException",
            BlobError::Internal => "KMSInternalException",
        }
    }
}

/// The clear header of a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobHeader {
    /// Format version (always [`BLOB_VERSION`] for a parsed header).
    pub version: u8,
    /// The KMS key that sealed the blob.
    pub key: KeyUuid,
    /// The key material that sealed the blob.
    pub material: MaterialId,
    /// The per-request HKDF salt.
    pub salt: [u8; SALT_LEN],
    /// The AES-GCM nonce.
    pub nonce: [u8; NONCE_LEN],
}

impl BlobHeader {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = self.version;
        out[1..17].copy_from_slice(&self.key.0);
        out[17..49].copy_from_slice(&self.material.0);
        out[49..65].copy_from_slice(&self.salt);
        out[65..HEADER_LEN].copy_from_slice(&self.nonce);
        out
    }
}

/// Reads the header of `blob`, checking only its version and that the blob is long enough to
/// hold a header and a tag.
pub fn parse_header(blob: &[u8]) -> Result<BlobHeader, BlobError> {
    let bad = |_| BlobError::InvalidCiphertext;
    if blob.len() < BLOB_OVERHEAD || blob.first() != Some(&BLOB_VERSION) {
        return Err(BlobError::InvalidCiphertext);
    }
    let field = |from: usize, to: usize| blob.get(from..to).ok_or(BlobError::InvalidCiphertext);
    Ok(BlobHeader {
        version: BLOB_VERSION,
        key: KeyUuid(field(1, 17)?.try_into().map_err(bad)?),
        material: MaterialId(field(17, 49)?.try_into().map_err(bad)?),
        salt: field(49, 65)?.try_into().map_err(bad)?,
        nonce: field(65, HEADER_LEN)?.try_into().map_err(bad)?,
    })
}

fn aad(header: &[u8; HEADER_LEN], ctx: &EncryptionContext) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&canonical_context(ctx));
    aad
}

fn request_key(material: &DataKey, salt: &[u8; SALT_LEN]) -> Result<ChunkKey, BlobError> {
    let k = derive_key(material.expose(), salt, KDF_INFO).map_err(|_| BlobError::Internal)?;
    ChunkKey::new(Backend::Ring, k.expose()).map_err(|_| BlobError::Internal)
}

/// Encrypts `plaintext` under key material `material` (id `material_id`) of KMS key `key`,
/// bound to `ctx`. Two seals of the same input differ (fresh salt and nonce).
pub fn seal(
    material: &DataKey,
    material_id: &MaterialId,
    key: &KeyUuid,
    ctx: &EncryptionContext,
    plaintext: &[u8],
) -> Result<Vec<u8>, BlobError> {
    let mut header = BlobHeader {
        version: BLOB_VERSION,
        key: *key,
        material: *material_id,
        salt: [0u8; SALT_LEN],
        nonce: [0u8; NONCE_LEN],
    };
    random_bytes(&mut header.salt).map_err(|_| BlobError::Internal)?;
    random_bytes(&mut header.nonce).map_err(|_| BlobError::Internal)?;
    let head = header.encode();
    let mut out = Vec::with_capacity(BLOB_OVERHEAD + plaintext.len());
    out.extend_from_slice(&head);
    out.extend_from_slice(plaintext);
    let tag = request_key(material, &header.salt)?
        .seal(header.nonce, &aad(&head, ctx), &mut out[HEADER_LEN..])
        .map_err(|_| BlobError::Internal)?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Authenticates and decrypts `blob` with key material `material` (id `material_id`) and
/// context `ctx`. A blob for another material fails like any other invalid blob.
pub fn open(
    material: &DataKey,
    material_id: &MaterialId,
    blob: &[u8],
    ctx: &EncryptionContext,
) -> Result<SecretBytes, BlobError> {
    let header = parse_header(blob)?;
    if header.material != *material_id {
        return Err(BlobError::InvalidCiphertext);
    }
    let tag_at = blob.len() - TAG_LEN;
    let tag: [u8; TAG_LEN] = blob
        .get(tag_at..)
        .and_then(|t| t.try_into().ok())
        .ok_or(BlobError::InvalidCiphertext)?;
    let body = blob
        .get(HEADER_LEN..tag_at)
        .ok_or(BlobError::InvalidCiphertext)?;
    let mut buf = Zeroizing::new(body.to_vec());
    request_key(material, &header.salt)?
        .open(header.nonce, &aad(&header.encode(), ctx), &mut buf, &tag)
        .map_err(|_| BlobError::InvalidCiphertext)?;
    Ok(SecretBytes::new(std::mem::take(&mut *buf)))
}
