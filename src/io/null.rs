//! The null engine: reads return zeros and writes vanish, like fio's `null` ioengine. It
//! measures the harness and cipher without any storage cost.

use super::{check_range, BlockIo, EngineKind, IoError};

/// A device of a given size that stores nothing.
#[derive(Debug)]
pub struct NullIo {
    size: u64,
}

impl NullIo {
    /// A null device of `size` bytes.
    pub fn new(size: u64) -> Self {
        NullIo { size }
    }
}

impl BlockIo for NullIo {
    fn kind(&self) -> EngineKind {
        EngineKind::Null
    }

    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        check_range("read", offset, buf.len(), self.size)?;
        buf.fill(0);
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError> {
        check_range("write", offset, buf.len(), self.size)
    }

    fn sync(&self) -> Result<(), IoError> {
        Ok(())
    }
}
