//! Chunk, window and group arithmetic, and the byte offsets of every metadata region.
//!
//! A *chunk* is one AEAD message (4 KiB to 1 MiB, a power of two). A *window* is the unit of
//! work and of checkpointing (32 MiB of chunks, or the whole volume if smaller). A *group* is
//! the span of chunks sharing one derived data key (1 GiB). All offsets here are in the
//! coordinate space of the device that holds the metadata: the volume itself when attached
//! or tail (metadata in the device's last bytes), the header file when detached.

use std::ops::Range;

use super::{FormatError, HEADER_LEN, TAG_ENTRY_LEN};

/// Smallest chunk size.
pub const MIN_CHUNK_SIZE: u64 = 4 << 10;
/// Largest chunk size.
pub const MAX_CHUNK_SIZE: u64 = 1 << 20;
/// Default chunk size.
pub const DEFAULT_CHUNK_SIZE: u64 = 64 << 10;
/// Target bytes per window.
pub const WINDOW_BYTES: u64 = 32 << 20;
/// The attached metadata region starts at the data length rounded up to this.
pub const DATA_ALIGN: u64 = 1 << 20;
/// Bytes of data per key group (log2).
const GROUP_BYTES_LOG2: u8 = 30;
const PAGE: u64 = 4096;
const HDR: u64 = HEADER_LEN as u64;

/// How a volume's data is split into chunks, windows and key groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Plaintext bytes in the volume.
    pub data_len: u64,
    /// log2 of the chunk size.
    pub chunk_log2: u8,
    /// log2 of the chunks per key group.
    pub group_log2: u8,
    /// Chunks per window.
    pub window_chunks: u32,
}

impl Geometry {
    /// The geometry for `data_len` bytes in chunks of `chunk_size`, with default window and
    /// group sizes. Fails when the chunk size is not a power of two in range.
    pub fn new(data_len: u64, chunk_size: u64) -> Result<Self, FormatError> {
        if !chunk_size.is_power_of_two() {
            return Err(FormatError::field(
                "chunk size",
                format!("{chunk_size} is not a power of two"),
            ));
        }
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(FormatError::field(
                "chunk size",
                format!("{chunk_size} is out of range (4 KiB to 1 MiB)"),
            ));
        }
        let chunk_log2 = u8::try_from(chunk_size.trailing_zeros())
            .map_err(|_| FormatError::field("chunk size", "out of range"))?;
        let window_chunks = u32::try_from(WINDOW_BYTES >> chunk_log2)
            .map_err(|_| FormatError::field("window", "too many chunks"))?;
        Ok(Geometry {
            data_len,
            chunk_log2,
            group_log2: GROUP_BYTES_LOG2 - chunk_log2,
            window_chunks,
        })
    }

    /// The same geometry with windows of `n` chunks (at least 1, at most the default):
    /// small windows let the crash simulator cover many windows in little memory. The window
    /// size is frozen in the header, so a volume keeps it.
    pub fn with_window_chunks(mut self, n: u32) -> Self {
        self.window_chunks = n.clamp(1, self.window_chunks);
        self
    }

    /// Checks fields read from disk.
    pub fn validate(&self) -> Result<(), FormatError> {
        let expected = Geometry::new(self.data_len, 1u64 << self.chunk_log2.min(63))?;
        if self.chunk_log2 > 20 {
            return Err(FormatError::field("chunk_log2", "out of range"));
        }
        if self.group_log2 > 40 {
            return Err(FormatError::field("group_log2", "out of range"));
        }
        if self.window_chunks == 0 || self.window_chunks > expected.window_chunks.max(1) * 64 {
            return Err(FormatError::field("window_chunks", "out of range"));
        }
        if self.data_len > (1u64 << 56) {
            return Err(FormatError::field("data_len", "larger than 64 PiB"));
        }
        Ok(())
    }

    /// Chunk size in bytes.
    pub fn chunk_size(&self) -> u64 {
        1u64 << self.chunk_log2
    }

    /// Number of chunks (the last one may be partial).
    pub fn n_chunks(&self) -> u64 {
        self.data_len.div_ceil(self.chunk_size())
    }

    /// Byte offset in the data area and plaintext length of chunk `i`.
    pub fn chunk(&self, i: u64) -> (u64, u32) {
        let off = i << self.chunk_log2;
        let len = self.data_len.saturating_sub(off).min(self.chunk_size());
        // len <= chunk_size <= 1 MiB, so it fits in u32.
        (off, u32::try_from(len).unwrap_or(u32::MAX))
    }

    /// The key group of chunk `i`.
    pub fn group(&self, i: u64) -> u64 {
        i >> self.group_log2
    }

    /// Number of windows.
    pub fn n_windows(&self) -> u64 {
        self.n_chunks().div_ceil(u64::from(self.window_chunks))
    }

    /// The chunk range of window `w`.
    pub fn window(&self, w: u64) -> Range<u64> {
        let lo = w.saturating_mul(u64::from(self.window_chunks));
        let hi = lo
            .saturating_add(u64::from(self.window_chunks))
            .min(self.n_chunks());
        lo.min(hi)..hi
    }

    /// Byte range in the data area covered by chunks `r`.
    pub fn byte_range(&self, r: &Range<u64>) -> Range<u64> {
        let lo = (r.start << self.chunk_log2).min(self.data_len);
        let hi = (r.end << self.chunk_log2).min(self.data_len);
        lo..hi
    }

    /// Chunks in one journal slot: a full window, or the whole volume if smaller.
    fn journal_chunks(&self) -> u64 {
        u64::from(self.window_chunks).min(self.n_chunks().max(1))
    }
}

/// Where the metadata lives relative to the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutKind {
    /// Metadata after the data (from the data length rounded up to 1 MiB), in the same file,
    /// which grows to hold it.
    Attached,
    /// Metadata in a separate header file (`--header FILE`).
    Detached,
    /// Metadata in the last bytes of a device (or file) of `device_size` bytes, which do not
    /// grow (`--reserved-tail`): the data area is the first `data_len` bytes, the metadata
    /// region ends exactly at `device_size`, and the bytes in between are left alone.
    Tail {
        /// Size of the device; the metadata region ends here.
        device_size: u64,
    },
}

impl LayoutKind {
    /// The layout byte of the header: 0 attached, 1 detached, 2 tail.
    pub fn to_byte(self) -> u8 {
        match self {
            LayoutKind::Attached => 0,
            LayoutKind::Detached => 1,
            LayoutKind::Tail { .. } => 2,
        }
    }

    /// The lowercase name used in `info` output.
    pub fn name(self) -> &'static str {
        match self {
            LayoutKind::Attached => "attached",
            LayoutKind::Detached => "detached",
            LayoutKind::Tail { .. } => "tail",
        }
    }

    /// True when data and metadata share one device (attached or tail).
    pub fn same_device(self) -> bool {
        !matches!(self, LayoutKind::Detached)
    }
}

/// Byte offsets of every metadata region, in metadata-device coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Attached, detached or tail.
    pub kind: LayoutKind,
    /// Start of the metadata region.
    pub meta_off: u64,
    /// Journal slot 0; slot 1 follows it.
    pub journal_off: u64,
    /// Length of one journal slot.
    pub journal_slot_len: u64,
    /// Start of the tag table.
    pub tag_off: u64,
    /// Length of the tag table (4 KiB aligned).
    pub tag_len: u64,
    /// Header slot A.
    pub hdr_a_off: u64,
    /// Header slot B (the last 4 KiB).
    pub hdr_b_off: u64,
    /// Size of the metadata device: the whole volume when attached or tail, the header file
    /// when detached.
    pub device_size: u64,
}

fn align(v: u64, to: u64) -> Option<u64> {
    v.checked_add(to - 1).map(|x| x / to * to)
}

fn overflow() -> FormatError {
    FormatError::field("data_len", "volume too large")
}

impl Layout {
    /// The layout for `geom` in `kind` placement. A tail layout fails when the device size is
    /// not a multiple of 4 KiB, or when the metadata does not fit between the data area and
    /// the end of the device.
    pub fn compute(geom: &Geometry, kind: LayoutKind) -> Result<Self, FormatError> {
        let jc = geom.journal_chunks();
        let jtags = align(jc * TAG_ENTRY_LEN as u64, PAGE).ok_or_else(overflow)?;
        let journal_slot_len = PAGE + jtags + (jc << geom.chunk_log2);
        let tag_len = geom
            .n_chunks()
            .checked_mul(TAG_ENTRY_LEN as u64)
            .and_then(|t| align(t, PAGE))
            .ok_or_else(overflow)?;
        let meta_len = journal_slot_len
            .checked_mul(2)
            .and_then(|j| j.checked_add(tag_len))
            .and_then(|m| m.checked_add(2 * HDR))
            .ok_or_else(overflow)?;
        let meta_off = match kind {
            LayoutKind::Attached => align(geom.data_len, DATA_ALIGN).ok_or_else(overflow)?,
            LayoutKind::Detached => 0,
            LayoutKind::Tail { device_size } => tail_meta_off(geom, device_size, meta_len)?,
        };
        let journal_off = meta_off;
        let tag_off = journal_off
            .checked_add(2 * journal_slot_len)
            .ok_or_else(overflow)?;
        let hdr_a_off = tag_off.checked_add(tag_len).ok_or_else(overflow)?;
        let hdr_b_off = hdr_a_off + HDR;
        Ok(Layout {
            kind,
            meta_off,
            journal_off,
            journal_slot_len,
            tag_off,
            tag_len,
            hdr_a_off,
            hdr_b_off,
            device_size: hdr_b_off.checked_add(HDR).ok_or_else(overflow)?,
        })
    }

    /// Bytes of metadata (journal slots, tag table and both headers) that `geom` needs.
    pub fn metadata_len(geom: &Geometry) -> Result<u64, FormatError> {
        let l = Layout::compute(geom, LayoutKind::Detached)?;
        Ok(l.device_size)
    }

    /// Offset of journal slot `n` (0 or 1).
    pub fn journal_slot(&self, n: u64) -> u64 {
        self.journal_off + (n % 2) * self.journal_slot_len
    }

    /// Offset of the tag entry of chunk `i`.
    pub fn tag_entry(&self, i: u64) -> u64 {
        self.tag_off + i * TAG_ENTRY_LEN as u64
    }
}

/// Where a tail layout's metadata region of `meta_len` bytes starts on a device of
/// `device_size` bytes: it ends exactly at the device's end and must not overlap the data.
fn tail_meta_off(geom: &Geometry, device_size: u64, meta_len: u64) -> Result<u64, FormatError> {
    if !device_size.is_multiple_of(PAGE) {
        return Err(FormatError::field(
            "device size",
            format!("{device_size} is not a multiple of 4 KiB"),
        ));
    }
    match device_size.checked_sub(meta_len) {
        Some(off) if off >= geom.data_len => Ok(off),
        _ => Err(FormatError::field(
            "tail layout",
            format!(
                "{meta_len} bytes of metadata do not fit between the {}-byte data area and \
                 the end of the {device_size}-byte device",
                geom.data_len
            ),
        )),
    }
}

/// The smallest reserved tail, in whole MiB, that holds the metadata of the data in front of
/// it on a device of `device_size` bytes in chunks of `chunk_size`: the smallest multiple
/// `m` of 1 MiB with `metadata_len(device_size - m) <= m`. None when no tail fits (the
/// device is too small) or the chunk size is invalid.
pub fn min_reserved_tail(device_size: u64, chunk_size: u64) -> Option<u64> {
    const MIB: u64 = 1 << 20;
    // Less room means more data and so more metadata: `fits` holds from some size on.
    let fits = |mib: u64| {
        let m = mib * MIB;
        m <= device_size
            && Geometry::new(device_size - m, chunk_size)
                .and_then(|g| Layout::metadata_len(&g))
                .is_ok_and(|need| need <= m)
    };
    let (mut lo, mut hi) = (1, device_size / MIB);
    if hi == 0 || !fits(hi) {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(hi * MIB)
}

/// Where header slots A and B would be on a metadata device of `size` bytes, if it is big
/// enough to hold them.
pub fn header_offsets(size: u64) -> Option<(u64, u64)> {
    let b = size.checked_sub(HDR)?;
    let a = b.checked_sub(HDR)?;
    Some((a, b))
}

#[cfg(test)]
#[path = "geometry_tests.rs"]
mod tests;
