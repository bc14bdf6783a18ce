//! Journal records: one window's transformed data, made durable before it is written in place.
//!
//! A journal slot is `| record header (4 KiB) | tag entries (page-aligned) | payload |`; the
//! window of sequence number `seq` goes to slot `seq mod 2`. The header:
//!
//! ```text
//! 0     [8]   magic "VCJRNL01"            48    u64   payload length (bytes)
//! 8     u64   seq                         56    u32   CRC32C of the tag entries
//! 16    u64   first chunk                 60    u32   CRC32C of the payload
//! 24    u64   chunk count                 64    [16]  volume uuid
//! 32    u8    operation                   80    [3984] zero
//! 33    u8    flags (bit 0: tag entries)  4064  [32]  HMAC-SHA256 of bytes 0..4064
//! 34    [6]   zero                                    under the volume's K_meta
//! 40    u32   source key version
//! 44    u32   target key version
//! ```
//!
//! The CRCs catch a record torn by a crash (then nothing of its window was written in place,
//! because the in-place write starts only after the record is durable, and the window is
//! simply redone). The HMAC stops records forged or replayed by someone without the key: a
//! record is replayed only if it authenticates, carries the next sequence number and starts
//! at the volume's progress mark.

use super::bytes::{Reader, Writer};
use super::{FormatError, Operation, TagEntry, HEADER_LEN, TAG_ENTRY_LEN};
use crate::crypto::{MetaKey, MAC_LEN};

const MAGIC: &[u8; 8] = b"VCJRNL01";
const MAC_OFF: usize = HEADER_LEN - MAC_LEN;

/// A journal record's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    /// Sequence number (the header's `journal_seq_applied` + 1 when written).
    pub seq: u64,
    /// First chunk of the window.
    pub first_chunk: u64,
    /// Chunks in the window.
    pub chunks: u64,
    /// The operation that wrote it.
    pub operation: Operation,
    /// True when the record carries new tag entries (the output is sealed).
    pub has_tags: bool,
    /// Key version of the source (0: plaintext).
    pub src_ver: u32,
    /// Key version of the output (0: plaintext).
    pub dst_ver: u32,
    /// Payload length in bytes.
    pub payload_len: u64,
    /// CRC32C of the encoded tag entries.
    pub tags_crc: u32,
    /// CRC32C of the payload.
    pub payload_crc: u32,
    /// The volume's UUID.
    pub uuid: [u8; 16],
}

impl JournalRecord {
    /// Encodes and signs the record header.
    pub fn encode(&self, key: &MetaKey) -> Vec<u8> {
        let mut out = vec![0u8; HEADER_LEN];
        let mut w = Writer::new(&mut out);
        w.put(0, MAGIC);
        w.u64(8, self.seq);
        w.u64(16, self.first_chunk);
        w.u64(24, self.chunks);
        w.u8(32, self.operation.to_byte());
        w.u8(33, u8::from(self.has_tags));
        w.u32(40, self.src_ver);
        w.u32(44, self.dst_ver);
        w.u64(48, self.payload_len);
        w.u32(56, self.tags_crc);
        w.u32(60, self.payload_crc);
        w.put(64, &self.uuid);
        let mac = key.sign(&out[..MAC_OFF]);
        out[MAC_OFF..].copy_from_slice(&mac);
        out
    }

    /// Parses and authenticates a record header; `None` for anything that is not a valid
    /// record under `key` (never written, torn, stale from another key, or forged).
    pub fn decode(bytes: &[u8], key: &MetaKey) -> Result<Option<Self>, FormatError> {
        let r = Reader::new(bytes, "journal record");
        r.bytes(0, HEADER_LEN)?;
        if r.bytes(0, 8)? != MAGIC {
            return Ok(None);
        }
        if key
            .verify(r.bytes(0, MAC_OFF)?, r.bytes(MAC_OFF, MAC_LEN)?)
            .is_err()
        {
            return Ok(None);
        }
        // Authenticated: anything malformed now is a bug of ours, reported as such.
        r.zeros(34, 6, "journal record")?;
        r.zeros(80, MAC_OFF - 80, "journal record")?;
        let flags = r.u8(33)?;
        if flags > 1 {
            return Err(FormatError::field("journal flags", format!("{flags:#x}")));
        }
        Ok(Some(JournalRecord {
            seq: r.u64(8)?,
            first_chunk: r.u64(16)?,
            chunks: r.u64(24)?,
            operation: Operation::from_byte(r.u8(32)?)?,
            has_tags: flags == 1,
            src_ver: r.u32(40)?,
            dst_ver: r.u32(44)?,
            payload_len: r.u64(48)?,
            tags_crc: r.u32(56)?,
            payload_crc: r.u32(60)?,
            uuid: r.array(64)?,
        }))
    }

    /// Offset of the tag entries within the slot.
    pub fn tags_offset() -> u64 {
        HEADER_LEN as u64
    }

    /// Offset of the payload within a slot whose tag area holds `slot_chunks` entries.
    pub fn payload_offset(slot_chunks: u64) -> u64 {
        let tags = slot_chunks * TAG_ENTRY_LEN as u64;
        HEADER_LEN as u64 + tags.div_ceil(HEADER_LEN as u64) * HEADER_LEN as u64
    }
}

/// Encodes tag entries back to back.
pub fn encode_tags(tags: &[TagEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tags.len() * TAG_ENTRY_LEN);
    for t in tags {
        out.extend_from_slice(&t.encode());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec() -> JournalRecord {
        JournalRecord {
            seq: 7,
            first_chunk: 1024,
            chunks: 512,
            operation: Operation::Rekey,
            has_tags: true,
            src_ver: 1,
            dst_ver: 2,
            payload_len: 512 * 65536,
            tags_crc: 0xdead_beef,
            payload_crc: 0x0123_4567,
            uuid: [9; 16],
        }
    }

    #[test]
    fn round_trips_and_rejects_any_change_or_other_key() {
        let k = MetaKey::from_bytes(b"journal test key");
        let r = rec();
        let b = r.encode(&k);
        assert_eq!(JournalRecord::decode(&b, &k).unwrap(), Some(r));
        for off in [0, 8, 16, 24, 32, 40, 48, 56, 60, 64, 100, 4063, 4064, 4095] {
            let mut m = b.clone();
            m[off] ^= 1;
            assert_eq!(
                JournalRecord::decode(&m, &k).unwrap(),
                None,
                "flip at {off}"
            );
        }
        let other = MetaKey::from_bytes(b"another key");
        assert_eq!(JournalRecord::decode(&b, &other).unwrap(), None);
        assert_eq!(JournalRecord::decode(&[0u8; 4096], &k).unwrap(), None);
        assert!(JournalRecord::decode(&b[..100], &k).is_err());
    }

    #[test]
    fn payload_follows_the_page_aligned_tag_area() {
        assert_eq!(JournalRecord::payload_offset(1), 8192);
        assert_eq!(JournalRecord::payload_offset(128), 8192);
        assert_eq!(JournalRecord::payload_offset(129), 12288);
        assert_eq!(JournalRecord::payload_offset(512), 4096 + 16384);
    }
}
