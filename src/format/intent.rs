//! The create intent: a 4 KiB block written at the very end of a file that an in-place
//! encrypt is about to grow, *before* any header exists.
//!
//! Growing the file and writing this block is one `pwrite` past the end of the file, synced
//! before anything else happens, so a file that was extended always ends with either a valid
//! header or this block. When an encrypt is killed before its first two headers are durable,
//! the next run finds the intent, truncates the file back to its original length (recorded
//! here) and starts over: the data was never touched.
//!
//! ```text
//! 0    [8]  magic "VCINTENT"
//! 8    u64  original file length
//! 16   [4076] zero
//! 4092 u32  CRC32C of bytes 0..4092
//! ```

use super::bytes::{Reader, Writer};
use super::HEADER_LEN;

const MAGIC: &[u8; 8] = b"VCINTENT";
const CRC_OFF: usize = HEADER_LEN - 4;

/// Encodes the intent to grow a file whose length is `original_len`.
pub fn encode_intent(original_len: u64) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    let mut w = Writer::new(&mut out);
    w.put(0, MAGIC);
    w.u64(8, original_len);
    let crc = crc32c::crc32c(&out[..CRC_OFF]);
    out[CRC_OFF..].copy_from_slice(&crc.to_le_bytes());
    out
}

/// The original length recorded in an intent block, if `bytes` is one.
pub fn decode_intent(bytes: &[u8]) -> Option<u64> {
    let r = Reader::new(bytes, "create intent");
    if bytes.len() != HEADER_LEN || r.bytes(0, 8).ok()? != MAGIC {
        return None;
    }
    if crc32c::crc32c(r.bytes(0, CRC_OFF).ok()?) != r.u32(CRC_OFF).ok()? {
        return None;
    }
    r.zeros(16, CRC_OFF - 16, "create intent").ok()?;
    r.u64(8).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_damage() {
        let b = encode_intent(123_456_789);
        assert_eq!(decode_intent(&b), Some(123_456_789));
        for off in [0, 8, 15, 100, 4091, 4092] {
            let mut m = b.clone();
            m[off] ^= 1;
            assert_eq!(decode_intent(&m), None, "flip at {off}");
        }
        assert_eq!(decode_intent(&[0u8; 4096]), None);
        assert_eq!(decode_intent(&b[..4095]), None);
    }
}
