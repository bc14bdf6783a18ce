//! The `pread`/`pwrite` engine: positioned I/O on the file descriptor. No `unsafe`.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{check_range, BlockIo, EngineKind, IoError};

/// Positioned reads and writes on a file or block device.
#[derive(Debug)]
pub struct PreadIo {
    file: File,
    size: u64,
    writable: bool,
    poisoned: AtomicBool,
}

impl PreadIo {
    /// Wraps `file`, whose size is `size`.
    pub fn new(file: File, size: u64, writable: bool) -> Self {
        PreadIo {
            file,
            size,
            writable,
            poisoned: AtomicBool::new(false),
        }
    }

    fn live(&self) -> Result<(), IoError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(IoError::Poisoned)
        } else {
            Ok(())
        }
    }
}

impl BlockIo for PreadIo {
    fn kind(&self) -> EngineKind {
        EngineKind::Pread
    }

    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        self.live()?;
        check_range("read", offset, buf.len(), self.size)?;
        self.file
            .read_exact_at(buf, offset)
            .map_err(|source| IoError::Io {
                op: "read",
                offset,
                len: buf.len(),
                source,
            })
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError> {
        self.live()?;
        if !self.writable {
            return Err(IoError::ReadOnly);
        }
        check_range("write", offset, buf.len(), self.size)?;
        self.file
            .write_all_at(buf, offset)
            .map_err(|source| IoError::Io {
                op: "write",
                offset,
                len: buf.len(),
                source,
            })
    }

    fn sync(&self) -> Result<(), IoError> {
        self.live()?;
        if !self.writable {
            return Ok(());
        }
        self.file.sync_data().map_err(|e| {
            self.poisoned.store(true, Ordering::Release);
            IoError::Sync(e)
        })
    }

    fn prefetch(&self, offset: u64, len: u64) {
        let (Ok(off), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return;
        };
        // Best effort: readahead hint; errors are irrelevant.
        let _ = rustix_fadvise(&self.file, off, len);
    }
}

fn rustix_fadvise(file: &File, off: i64, len: i64) -> i32 {
    use std::os::unix::io::AsRawFd;
    #[allow(unsafe_code)]
    // SAFETY:
    // - posix_fadvise only reads its integer arguments and the fd, which `file` keeps open;
    // - it touches no memory of ours.
    unsafe {
        libc::posix_fadvise(file.as_raw_fd(), off, len, libc::POSIX_FADV_WILLNEED)
    }
}
