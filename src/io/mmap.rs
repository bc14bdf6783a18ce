//! The mmap engine (memmap2): the whole device mapped shared, reads and writes are memcpy,
//! durability is `msync(MS_SYNC)`.
//!
//! It also lends [`MappedWindow`]s: a mutable slice of the mapping for one range, so the
//! cipher stage seals or opens chunks directly in the page cache with no extra copy. Loans are
//! tracked, and an overlapping loan, read or write is refused, so no two `&mut` views of the
//! same bytes exist inside this process.
//!
//! Resident memory: the pages of a mapped window stay mapped until the process exits, so
//! `RssFile` grows with the volume. They are page cache (clean after each window's msync), the
//! kernel reclaims them under pressure, and anonymous memory stays bounded. Unmapping each
//! window after use (MADV_DONTNEED) was measured at -14 % throughput on tmpfs, so it is not
//! done.
//!
//! The remaining hazard of any shared mapping is another *process* truncating or writing the
//! file while it is mapped (SIGBUS, torn reads). volcrypt documents that a volume must not be
//! used by anything else during an operation, and the engine layer holds an exclusive `flock`.

use std::fs::File;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use memmap2::{MmapOptions, MmapRaw};

use super::{check_range, BlockIo, EngineKind, IoError};

/// A shared mapping of a whole file or block device.
#[derive(Debug)]
pub struct MmapIo {
    map: Option<MmapRaw>,
    size: u64,
    writable: bool,
    loans: Mutex<Vec<(u64, u64)>>,
    poisoned: AtomicBool,
}

impl MmapIo {
    /// Maps `size` bytes of `file` (read-write when `writable`).
    pub fn new(file: &File, size: u64, writable: bool) -> std::io::Result<Self> {
        let map = if size == 0 {
            None
        } else {
            let len = usize::try_from(size)
                .map_err(|_| std::io::Error::other("device too large to map"))?;
            let opts = {
                let mut o = MmapOptions::new();
                o.len(len);
                o
            };
            Some(if writable {
                opts.map_raw(file)?
            } else {
                opts.map_raw_read_only(file)?
            })
        };
        Ok(MmapIo {
            map,
            size,
            writable,
            loans: Mutex::new(Vec::new()),
            poisoned: AtomicBool::new(false),
        })
    }

    fn live(&self) -> Result<(), IoError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(IoError::Poisoned)
        } else {
            Ok(())
        }
    }

    fn loans(&self) -> std::sync::MutexGuard<'_, Vec<(u64, u64)>> {
        // A panic while holding this lock cannot leave the list inconsistent (push/retain
        // only), so a poisoned lock is still usable.
        self.loans.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn check_free(&self, offset: u64, len: usize) -> Result<(), IoError> {
        let end = offset.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        if self.loans().iter().any(|&(lo, hi)| offset < hi && lo < end) {
            return Err(IoError::WindowBusy { offset, len });
        }
        Ok(())
    }

    /// Base pointer plus `offset`, after the caller checked the range.
    fn ptr(&self, offset: u64) -> Option<*mut u8> {
        let map = self.map.as_ref()?;
        let off = usize::try_from(offset).ok()?;
        // `wrapping_add` keeps this safe; `check_range` already bounded `offset` by the length.
        Some(map.as_mut_ptr().wrapping_add(off))
    }

    fn flush(&self, offset: u64, len: u64) -> Result<(), IoError> {
        self.live()?;
        let (Some(map), true) = (self.map.as_ref(), self.writable) else {
            return Ok(());
        };
        let end = offset.saturating_add(len).min(self.size);
        let (Ok(off), Ok(n)) = (
            usize::try_from(offset),
            usize::try_from(end - offset.min(end)),
        ) else {
            return Err(IoError::OutOfRange {
                op: "sync",
                offset,
                len: 0,
                size: self.size,
            });
        };
        if n == 0 {
            return Ok(());
        }
        map.flush_range(off, n).map_err(|e| {
            self.poisoned.store(true, Ordering::Release);
            IoError::Sync(e)
        })
    }
}

impl BlockIo for MmapIo {
    fn kind(&self) -> EngineKind {
        EngineKind::Mmap
    }

    fn len(&self) -> u64 {
        self.size
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        self.live()?;
        check_range("read", offset, buf.len(), self.size)?;
        self.check_free(offset, buf.len())?;
        let Some(src) = self.ptr(offset) else {
            return Ok(()); // zero-length device, zero-length read
        };
        #[allow(unsafe_code)]
        // SAFETY:
        // - `check_range` proved offset + len <= size, the mapped length, so the source range
        //   is inside the live mapping, which lives as long as `self`;
        // - `check_free` proved no MappedWindow (the only &mut view) overlaps the range;
        // - `buf` is a distinct allocation, so the ranges cannot overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len())
        };
        Ok(())
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError> {
        self.live()?;
        if !self.writable {
            return Err(IoError::ReadOnly);
        }
        check_range("write", offset, buf.len(), self.size)?;
        self.check_free(offset, buf.len())?;
        let Some(dst) = self.ptr(offset) else {
            return Ok(());
        };
        #[allow(unsafe_code)]
        // SAFETY:
        // - the range is inside the writable mapping (`check_range`, `writable`);
        // - no MappedWindow overlaps it (`check_free`), so no &mut slice aliases it;
        // - `buf` is caller memory outside the mapping's loaned ranges.
        unsafe {
            std::ptr::copy_nonoverlapping(buf.as_ptr(), dst, buf.len())
        };
        Ok(())
    }

    fn sync(&self) -> Result<(), IoError> {
        self.flush(0, self.size)
    }

    fn sync_range(&self, offset: u64, len: u64) -> Result<(), IoError> {
        self.flush(offset, len)
    }

    fn map_window(&self, offset: u64, len: usize) -> Result<Option<MappedWindow<'_>>, IoError> {
        self.live()?;
        if !self.writable {
            return Ok(None);
        }
        check_range("map", offset, len, self.size)?;
        let Some(ptr) = self.ptr(offset) else {
            return Ok(None);
        };
        let end = offset.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        {
            let mut loans = self.loans();
            if loans.iter().any(|&(lo, hi)| offset < hi && lo < end) {
                return Err(IoError::WindowBusy { offset, len });
            }
            loans.push((offset, end));
        }
        if let (Some(map), Ok(off)) = (self.map.as_ref(), usize::try_from(offset)) {
            // Start reading the window from disk ahead of the cipher (a no-op for pages that
            // are already cached). Deliberately not MADV_POPULATE_WRITE: populating 4 KiB
            // pages costs ~0.7 us each on this class of VM and, done here, serialises the
            // whole pass on this one thread; faulting them in from the cipher threads runs in
            // parallel (results/core-20261129T075235Z/investigation.md).
            let _ = map.advise_range(memmap2::Advice::WillNeed, off, len);
        }
        Ok(Some(MappedWindow {
            io: self,
            ptr,
            len,
            offset,
        }))
    }

    fn prefetch(&self, offset: u64, len: u64) {
        if let (Some(map), Ok(off), Ok(n)) = (
            self.map.as_ref(),
            usize::try_from(offset),
            usize::try_from(len.min(self.size.saturating_sub(offset))),
        ) {
            let _ = map.advise_range(memmap2::Advice::WillNeed, off, n);
        }
    }
}

/// A mutable loan of one range of an [`MmapIo`] mapping. Returned to the engine on drop.
pub struct MappedWindow<'a> {
    io: &'a MmapIo,
    ptr: *mut u8,
    len: usize,
    offset: u64,
}

impl std::fmt::Debug for MappedWindow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MappedWindow({}+{})", self.offset, self.len)
    }
}

#[allow(unsafe_code)]
// SAFETY:
// - the window is the unique &mut view of its range (loans never overlap), so moving it to
//   another thread cannot create aliasing; the mapping itself is Send + Sync.
unsafe impl Send for MappedWindow<'_> {}

impl Deref for MappedWindow<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        #[allow(unsafe_code)]
        // SAFETY:
        // - ptr..ptr+len was range-checked against the mapping, which outlives 'a;
        // - the loan registry guarantees no overlapping &mut exists while this window lives.
        unsafe {
            std::slice::from_raw_parts(self.ptr, self.len)
        }
    }
}

impl DerefMut for MappedWindow<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        #[allow(unsafe_code)]
        // SAFETY:
        // - as in `deref`; `&mut self` makes this the only live slice of the range.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr, self.len)
        }
    }
}

impl Drop for MappedWindow<'_> {
    fn drop(&mut self) {
        let key = (self.offset, self.offset + self.len as u64);
        self.io.loans().retain(|&l| l != key);
    }
}
