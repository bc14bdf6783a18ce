//! The additional authenticated data bound into every chunk's GCM tag.
//!
//! ```text
//! AAD = "VOLCRYPT" || volume_uuid || be32 key_ver || be64 chunk_index
//!       || be32 plaintext_len || u8 chunk_log2 || u8 format_version          (42 bytes)
//! ```
//! It stops chunk swapping inside a volume (index), splicing between volumes that share a data
//! key (uuid), key-version confusion (key_ver) and length games (plaintext_len, chunk_log2).
//! Not stopped in v1: rolling a chunk and its tag entry back together to an older valid
//! version of the same chunk (as with dm-integrity); a Merkle root over the tag table anchored
//! outside the disk is the v2 answer.

/// Length of the chunk AAD.
pub const AAD_LEN: usize = 42;

/// Builds the AAD of one chunk.
pub fn chunk_aad(
    uuid: &[u8; 16],
    key_ver: u32,
    chunk_index: u64,
    plaintext_len: u32,
    chunk_log2: u8,
) -> [u8; AAD_LEN] {
    let mut a = [0u8; AAD_LEN];
    a[..8].copy_from_slice(super::MAGIC);
    a[8..24].copy_from_slice(uuid);
    a[24..28].copy_from_slice(&key_ver.to_be_bytes());
    a[28..36].copy_from_slice(&chunk_index.to_be_bytes());
    a[36..40].copy_from_slice(&plaintext_len.to_be_bytes());
    a[40] = chunk_log2;
    a[41] = u8::try_from(super::FORMAT_VERSION).unwrap_or(u8::MAX);
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_changes_the_aad() {
        let base = chunk_aad(&[1; 16], 1, 7, 4096, 12);
        assert_eq!(&base[..8], b"VOLCRYPT");
        assert_eq!(base[41], 1);
        assert_ne!(base, chunk_aad(&[2; 16], 1, 7, 4096, 12));
        assert_ne!(base, chunk_aad(&[1; 16], 2, 7, 4096, 12));
        assert_ne!(base, chunk_aad(&[1; 16], 1, 8, 4096, 12));
        assert_ne!(base, chunk_aad(&[1; 16], 1, 7, 4095, 12));
        assert_ne!(base, chunk_aad(&[1; 16], 1, 7, 4096, 13));
    }
}
