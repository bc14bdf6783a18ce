//! Little-endian field access at fixed offsets, bounds-checked, for the format's codecs.

use super::FormatError;

/// A read-only view that returns [`FormatError::Truncated`] instead of panicking.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Reader { buf, what }
    }

    pub(crate) fn bytes(&self, off: usize, len: usize) -> Result<&'a [u8], FormatError> {
        off.checked_add(len)
            .and_then(|end| self.buf.get(off..end))
            .ok_or(FormatError::Truncated {
                what: self.what,
                need: u64::try_from(off.saturating_add(len)).unwrap_or(u64::MAX),
                have: u64::try_from(self.buf.len()).unwrap_or(u64::MAX),
            })
    }

    pub(crate) fn array<const N: usize>(&self, off: usize) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(off, N)?);
        Ok(out)
    }

    pub(crate) fn u8(&self, off: usize) -> Result<u8, FormatError> {
        Ok(self.array::<1>(off)?[0])
    }

    pub(crate) fn u16(&self, off: usize) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(self.array(off)?))
    }

    pub(crate) fn u32(&self, off: usize) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array(off)?))
    }

    pub(crate) fn u64(&self, off: usize) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array(off)?))
    }

    /// Fails unless `len` bytes at `off` are all zero (reserved space).
    pub(crate) fn zeros(
        &self,
        off: usize,
        len: usize,
        field: &'static str,
    ) -> Result<(), FormatError> {
        if self.bytes(off, len)?.iter().all(|&b| b == 0) {
            Ok(())
        } else {
            Err(FormatError::field(field, "reserved bytes are not zero"))
        }
    }
}

/// A fixed-size output buffer written at explicit offsets. Callers lay out constant offsets
/// inside the buffer they allocated, so out-of-range writes are programming errors; they are
/// ignored here (and caught by the round-trip tests) rather than panicking.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf }
    }

    pub(crate) fn put(&mut self, off: usize, data: &[u8]) {
        if let Some(dst) = off
            .checked_add(data.len())
            .and_then(|end| self.buf.get_mut(off..end))
        {
            dst.copy_from_slice(data);
        }
    }

    pub(crate) fn u8(&mut self, off: usize, v: u8) {
        self.put(off, &[v]);
    }

    pub(crate) fn u16(&mut self, off: usize, v: u16) {
        self.put(off, &v.to_le_bytes());
    }

    pub(crate) fn u32(&mut self, off: usize, v: u32) {
        self.put(off, &v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, off: usize, v: u64) {
        self.put(off, &v.to_le_bytes());
    }
}
