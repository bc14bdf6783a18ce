//! Tag table entries: one 32-byte record per chunk.
//!
//! ```text
//! 0   tag[16]      AES-GCM tag of the chunk
//! 16  u64          nonce counter (nonce = be32 1 || be64 ctr)
//! 24  u32          key version that sealed the chunk
//! 28  u8           kind (0 = never sealed, 1 = sealed)
//! 29  [3]          reserved, zero
//! ```
//! Whether a chunk is plaintext is decided by the MAC-protected header state and progress,
//! never by `kind`; an attacker who edits an entry only makes that chunk fail to open.

use super::bytes::{Reader, Writer};
use super::FormatError;

/// Size of one tag table entry.
pub const TAG_ENTRY_LEN: usize = 32;

/// What a tag entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// Never written (all zero).
    Empty,
    /// A sealed chunk.
    Sealed,
}

/// One decoded tag table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagEntry {
    /// The GCM tag.
    pub tag: [u8; 16],
    /// The nonce counter used to seal the chunk.
    pub nonce_ctr: u64,
    /// The key version used to seal the chunk.
    pub key_ver: u32,
    /// Entry kind.
    pub kind: TagKind,
}

impl TagEntry {
    /// Encodes the entry.
    pub fn encode(&self) -> [u8; TAG_ENTRY_LEN] {
        let mut out = [0u8; TAG_ENTRY_LEN];
        let mut w = Writer::new(&mut out);
        w.put(0, &self.tag);
        w.u64(16, self.nonce_ctr);
        w.u32(24, self.key_ver);
        w.u8(
            28,
            match self.kind {
                TagKind::Empty => 0,
                TagKind::Sealed => 1,
            },
        );
        out
    }

    /// Decodes one entry.
    pub fn decode(b: &[u8]) -> Result<Self, FormatError> {
        let r = Reader::new(b, "tag entry");
        let kind = match r.u8(28)? {
            0 => TagKind::Empty,
            1 => TagKind::Sealed,
            k => {
                return Err(FormatError::field(
                    "tag entry kind",
                    format!("unknown kind {k}"),
                ))
            }
        };
        r.zeros(29, 3, "tag entry")?;
        Ok(TagEntry {
            tag: r.array(0)?,
            nonce_ctr: r.u64(16)?,
            key_ver: r.u32(24)?,
            kind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let e = TagEntry {
            tag: [0xab; 16],
            nonce_ctr: 0x0102_0304_0506_0708,
            key_ver: 7,
            kind: TagKind::Sealed,
        };
        assert_eq!(TagEntry::decode(&e.encode()).unwrap(), e);
        let mut bad = e.encode();
        bad[28] = 9;
        assert!(TagEntry::decode(&bad).is_err());
        bad[28] = 1;
        bad[30] = 1;
        assert!(TagEntry::decode(&bad).is_err());
        assert!(TagEntry::decode(&e.encode()[..31]).is_err());
    }
}
