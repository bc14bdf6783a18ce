//! The on-disk volume format, v1: pure bytes to structs and back. No I/O, no threads.
//!
//! Everything is little-endian and every region is 4 KiB aligned. AES-GCM ciphertext is as
//! long as its plaintext, so data never moves: chunk `i` lives at `i * chunk_size` in the data
//! area, and its 16-byte tag plus nonce counter live in the tag table.
//!
//! ```text
//! attached (regular files, which grow by the metadata):
//!   | data area (D) | pad to 1 MiB | JOURNAL 0 | JOURNAL 1 | TAG TABLE | HDR-A 4K | HDR-B 4K |
//! tail (`--reserved-tail SIZE`: the last SIZE bytes of a device or file, which does not grow):
//!   | data area (size - SIZE) | untouched | JOURNAL 0 | JOURNAL 1 | TAG TABLE | HDR-A | HDR-B |
//!                                        ^ recomputed from the geometry and the device size
//! detached (`--header FILE`, the default for block devices): the volume holds only the data
//! area; the header file holds
//!   | JOURNAL 0 | JOURNAL 1 | TAG TABLE | HDR-A 4K | HDR-B 4K |
//! ```
//!
//! Deviation from DESIGN.md §4, on purpose: both header slots sit at the very end of the
//! metadata device (A at `size - 8 KiB`, B at `size - 4 KiB`) instead of A at the start of the
//! metadata region. The region sizes depend on the data length, which is recorded *in* the
//! header, so with A at the front a torn or rotted B would leave no way to find A. With both at
//! the end either slot is found from the device size alone, as LUKS2 keeps its two binary
//! headers next to each other. A and B are written separately with an fdatasync between, so a
//! torn write damages at most one of them.
//!
//! Modules: [`geometry`] (chunks, windows, groups, region offsets), [`header`] (the 4 KiB
//! header with CRC32C and HMAC), [`keyslot`] (wrapped data keys), [`tags`] (tag table
//! entries), [`aad`] (the per-chunk additional data).

mod aad;
mod bytes;
mod geometry;
mod header;
mod intent;
mod journal;
mod keyslot;
mod tags;

pub use aad::{chunk_aad, AAD_LEN};
pub use geometry::{
    header_offsets, min_reserved_tail, Geometry, Layout, LayoutKind, DATA_ALIGN,
    DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, WINDOW_BYTES,
};
pub use header::{Header, Operation, Resilience, Slot, UnverifiedHeader, VolumeState};
pub use intent::{decode_intent, encode_intent};
pub use journal::{encode_tags, JournalRecord};
pub use keyslot::{KeyKind, Keyslot, KeyslotState, KEYSLOTS, MAX_BLOB_LEN, MAX_KEY_ID_LEN};
pub use tags::{TagEntry, TagKind, TAG_ENTRY_LEN};

/// The magic at the start of every header.
pub const MAGIC: &[u8; 8] = b"VOLCRYPT";
/// The format version this code reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Size of one header slot.
pub const HEADER_LEN: usize = 4096;

/// Why bytes could not be parsed as (or built into) a volcrypt structure.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormatError {
    /// Fewer bytes than the structure needs.
    #[error("{what} is truncated: need {need} bytes, have {have}")]
    Truncated {
        /// What was being parsed.
        what: &'static str,
        /// Bytes needed.
        need: u64,
        /// Bytes present.
        have: u64,
    },
    /// The magic is not `VOLCRYPT`.
    #[error("no volcrypt header (magic mismatch)")]
    BadMagic,
    /// A format version this build does not understand.
    #[error("unsupported format version {0} (this build reads version 1)")]
    UnsupportedVersion(u16),
    /// CRC32C mismatch: a torn write or corruption.
    #[error("header {0} is corrupt (CRC32C mismatch)")]
    BadChecksum(Slot),
    /// The HMAC did not verify: a forged or stale header, or the wrong key.
    #[error("header {0} failed authentication")]
    BadMac(Slot),
    /// A field holds a value that is out of range or inconsistent.
    #[error("invalid {field}: {reason}")]
    BadField {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl FormatError {
    pub(crate) fn field(field: &'static str, reason: impl Into<String>) -> Self {
        FormatError::BadField {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod proptests;
