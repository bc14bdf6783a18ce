//! The io_uring engine: O_DIRECT where the file system supports it, the file registered with
//! every ring, window buffers registered as fixed buffers, and up to `queue_depth` requests in
//! flight per call.
//!
//! - **Alignment.** O_DIRECT needs offsets, lengths and memory aligned as `statx`'s
//!   `STATX_DIOALIGN` reports (for a block device, its logical block size). Aligned requests
//!   go through the ring on the O_DIRECT descriptor. Requests aligned on disk but not in
//!   memory (a header in a `Vec`) are bounced through a small aligned buffer. Unaligned
//!   pieces (the partial last block of a file, 32-byte tag entries) use a second, buffered
//!   descriptor; the kernel keeps the two coherent (a direct I/O writes back and invalidates
//!   cached pages of its range first), and `fdatasync` covers both, as they share the inode.
//! - **Queue depth.** A call is split into 1 MiB requests, `queue_depth` (default 32) in
//!   flight, like `fio --bs=1M --iodepth=32`. Every call waits for all its requests before
//!   it returns, also on error: the kernel never writes into memory we gave back.
//! - **Ordering.** [`BlockIo::write_sync_at`] submits the write *linked* (`IOSQE_IO_LINK`) to
//!   an `fdatasync`, so the sync starts only after the write completed, in one system call:
//!   this is how the journal commit and the header checkpoint make their bytes durable.
//! - **Rings.** Each thread that calls in takes a ring from a small pool (the pipeline's
//!   reader and writer run at once), so reads and writes overlap instead of sharing a lock.
//!
//! [`crate::io::uring_probe`] decides whether this engine can run at all.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::aligned::{AlignedBuf, BUF_ALIGN};
use super::uring_probe::{dio_align, queue_depth, uring_probe, DioAlign};
use super::{check_range, BlockIo, EngineKind, IoError};

mod ring;
use ring::{lock, Dir, FixedList, Ring};

/// Bytes per request (fio's `--bs=1M`).
const SEGMENT: usize = 1 << 20;
/// Requests aligned on disk but not in memory, up to this size, are bounced.
const BOUNCE_MAX: usize = 8 << 20;
/// Most buffers registered at once (the pipeline registers three windows per pass).
const MAX_FIXED: usize = 16;

/// A file or block device behind io_uring.
pub struct UringIo {
    rings: Mutex<Vec<Ring>>,
    fixed: Mutex<FixedList>,
    direct: File,
    buffered: File,
    align: DioAlign,
    size: u64,
    writable: bool,
    qd: u32,
    poisoned: AtomicBool,
}

impl std::fmt::Debug for UringIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UringIo")
            .field("align", &self.align)
            .field("size", &self.size)
            .field("qd", &self.qd)
            .finish_non_exhaustive()
    }
}

impl UringIo {
    /// Opens `file` (already opened and locked by the caller) through io_uring. The data
    /// descriptor is reopened with O_DIRECT when the file system supports it.
    pub fn open(file: File, path: &Path, size: u64, writable: bool) -> Result<UringIo, IoError> {
        uring_probe().map_err(|reason| IoError::EngineUnavailable {
            engine: "uring",
            reason,
        })?;
        let at = |source| IoError::Path {
            path: path.to_owned(),
            source,
        };
        let mut align = dio_align(&file);
        let direct = match align {
            DioAlign::Direct { .. } => {
                // Same inode even if the path was renamed meanwhile.
                let proc = format!("/proc/self/fd/{}", file.as_raw_fd());
                let reopen = |p: &Path| {
                    OpenOptions::new()
                        .read(true)
                        .write(writable)
                        .custom_flags(libc::O_DIRECT)
                        .open(p)
                };
                match reopen(Path::new(&proc)).or_else(|_| reopen(path)) {
                    Ok(f) => f,
                    Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                        align = DioAlign::Buffered;
                        file.try_clone().map_err(at)?
                    }
                    Err(e) => return Err(at(e)),
                }
            }
            DioAlign::Buffered => file.try_clone().map_err(at)?,
        };
        Ok(UringIo {
            rings: Mutex::new(Vec::new()),
            fixed: Mutex::new(FixedList::default()),
            direct,
            buffered: file,
            align,
            size,
            writable,
            qd: queue_depth(),
            poisoned: AtomicBool::new(false),
        })
    }

    /// True when data goes through O_DIRECT (bypassing the page cache).
    pub fn is_direct(&self) -> bool {
        matches!(self.align, DioAlign::Direct { .. })
    }

    fn live(&self) -> Result<(), IoError> {
        if self.poisoned.load(Ordering::Acquire) {
            Err(IoError::Poisoned)
        } else {
            Ok(())
        }
    }

    /// Splits `offset..offset+len` into an unaligned head, an aligned middle (if the memory
    /// there is aligned too) and an unaligned tail.
    fn split(&self, ptr: usize, len: usize, offset: u64) -> Option<(usize, usize)> {
        let DioAlign::Direct { offset: oa, mem } = self.align else {
            return Some((0, len));
        };
        let start = offset.div_ceil(oa) * oa;
        let end = (offset + len as u64) / oa * oa;
        if end <= start {
            return None;
        }
        let head = (start - offset) as usize;
        let mid = (end - start) as usize;
        (ptr + head).is_multiple_of(mem).then_some((head, mid))
    }

    fn direct_write(&self, buf: &[u8], offset: u64, sync: bool) -> Result<(), IoError> {
        let io_err = |source| IoError::Io {
            op: "write",
            offset,
            len: buf.len(),
            source,
        };
        match self.split(buf.as_ptr() as usize, buf.len(), offset) {
            Some((head, mid)) => {
                let tail = head + mid;
                if head > 0 {
                    self.buffered
                        .write_all_at(&buf[..head], offset)
                        .map_err(io_err)?;
                }
                if tail < buf.len() {
                    let at = offset + tail as u64;
                    self.buffered
                        .write_all_at(&buf[tail..], at)
                        .map_err(io_err)?;
                }
                // The kernel only reads through this pointer for a write.
                let ptr = buf[head..].as_ptr().cast_mut();
                if sync {
                    self.linked(ptr, mid, offset + head as u64)
                } else {
                    self.rw(Dir::Write, ptr, mid, offset + head as u64)
                        .map_err(io_err)
                }
            }
            None if self.bounceable(buf.len(), offset) => {
                let mut b = AlignedBuf::zeroed(buf.len());
                b.copy_from_slice(buf);
                self.direct_write(&b, offset, sync)
            }
            None => {
                self.buffered.write_all_at(buf, offset).map_err(io_err)?;
                if sync {
                    self.sync()?;
                }
                Ok(())
            }
        }
    }

    /// True when a page-aligned bounce buffer would make the request direct-I/O ready: a
    /// non-empty extent aligned on disk, and a memory alignment a page satisfies.
    fn bounceable(&self, len: usize, offset: u64) -> bool {
        match self.align {
            DioAlign::Direct { offset: oa, mem } => {
                len > 0
                    && len <= BOUNCE_MAX
                    && mem <= BUF_ALIGN
                    && offset.is_multiple_of(oa)
                    && (len as u64).is_multiple_of(oa)
            }
            DioAlign::Buffered => false,
        }
    }
}

impl BlockIo for UringIo {
    fn kind(&self) -> EngineKind {
        EngineKind::Uring
    }

    fn len(&self) -> u64 {
        self.size
    }

    fn detail(&self) -> String {
        match self.align {
            DioAlign::Direct { offset, .. } => {
                format!("uring (O_DIRECT, {offset}-byte alignment, QD {})", self.qd)
            }
            DioAlign::Buffered => format!("uring (buffered: no O_DIRECT here, QD {})", self.qd),
        }
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError> {
        self.live()?;
        check_range("read", offset, buf.len(), self.size)?;
        let len = buf.len();
        let io_err = |source| IoError::Io {
            op: "read",
            offset,
            len,
            source,
        };
        match self.split(buf.as_ptr() as usize, len, offset) {
            Some((head, mid)) => {
                let tail = head + mid;
                if head > 0 {
                    self.buffered
                        .read_exact_at(&mut buf[..head], offset)
                        .map_err(io_err)?;
                }
                if tail < len {
                    let at = offset + tail as u64;
                    self.buffered
                        .read_exact_at(&mut buf[tail..], at)
                        .map_err(io_err)?;
                }
                let ptr = buf[head..].as_mut_ptr();
                self.rw(Dir::Read, ptr, mid, offset + head as u64)
                    .map_err(io_err)
            }
            None if self.bounceable(len, offset) => {
                let mut b = AlignedBuf::zeroed(len);
                self.read_at(&mut b, offset)?;
                buf.copy_from_slice(&b);
                Ok(())
            }
            None => self.buffered.read_exact_at(buf, offset).map_err(io_err),
        }
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError> {
        self.live()?;
        if !self.writable {
            return Err(IoError::ReadOnly);
        }
        check_range("write", offset, buf.len(), self.size)?;
        self.direct_write(buf, offset, false)
    }

    fn write_sync_at(
        &self,
        buf: &[u8],
        offset: u64,
        _sync: std::ops::Range<u64>,
    ) -> Result<(), IoError> {
        self.live()?;
        if !self.writable {
            return Err(IoError::ReadOnly);
        }
        check_range("write", offset, buf.len(), self.size)?;
        // fdatasync covers the whole file, so any range the caller names is included.
        self.direct_write(buf, offset, true)
    }

    fn sync(&self) -> Result<(), IoError> {
        self.live()?;
        if !self.writable {
            return Ok(());
        }
        self.buffered.sync_data().map_err(|e| {
            self.poisoned.store(true, Ordering::Release);
            IoError::Sync(e)
        })
    }

    fn register_buffers(&self, bufs: &[&AlignedBuf]) {
        let mut fixed = lock(&self.fixed);
        let mut changed = false;
        for b in bufs {
            let p = b.pin();
            if !fixed.pins.iter().any(|q| q.span() == p.span()) {
                fixed.pins.push(p);
                changed = true;
            }
        }
        if changed {
            let excess = fixed.pins.len().saturating_sub(MAX_FIXED);
            fixed.pins.drain(..excess);
            fixed.gen += 1;
        }
    }
}
