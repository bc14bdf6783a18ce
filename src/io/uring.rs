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
use std::sync::{Mutex, MutexGuard, PoisonError};

use io_uring::{opcode, squeue, types, IoUring};

use super::aligned::{AlignedBuf, Pinned, BUF_ALIGN};
use super::uring_probe::{dio_align, queue_depth, uring_probe, DioAlign};
use super::{check_range, BlockIo, EngineKind, IoError};

/// Bytes per request (fio's `--bs=1M`).
const SEGMENT: usize = 1 << 20;
/// Requests aligned on disk but not in memory, up to this size, are bounced.
const BOUNCE_MAX: usize = 8 << 20;
/// Most buffers registered at once (the pipeline registers three windows per pass).
const MAX_FIXED: usize = 16;

struct Ring {
    ring: IoUring,
    /// The generation of the fixed-buffer list this ring has registered.
    gen: u64,
    fixed_bufs: bool,
    fixed_file: bool,
}

#[derive(Default)]
struct FixedList {
    gen: u64,
    pins: Vec<Pinned>,
}

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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Read,
    Write,
}

/// Builds one read or write entry on the ring's file (registered slot 0, or the raw fd).
fn rw_entry(
    r: &Ring,
    fd: i32,
    d: Dir,
    ptr: *mut u8,
    len: u32,
    off: u64,
    buf: Option<u16>,
) -> squeue::Entry {
    macro_rules! build {
        ($fd:expr) => {
            match (d, buf) {
                (Dir::Read, Some(i)) => {
                    opcode::ReadFixed::new($fd, ptr, len, i).offset(off).build()
                }
                (Dir::Read, None) => opcode::Read::new($fd, ptr, len).offset(off).build(),
                (Dir::Write, Some(i)) => opcode::WriteFixed::new($fd, ptr, len, i)
                    .offset(off)
                    .build(),
                (Dir::Write, None) => opcode::Write::new($fd, ptr, len).offset(off).build(),
            }
        };
    }
    if r.fixed_file {
        build!(types::Fixed(0))
    } else {
        build!(types::Fd(fd))
    }
}

fn fsync_entry(r: &Ring, fd: i32) -> squeue::Entry {
    let flags = types::FsyncFlags::DATASYNC;
    if r.fixed_file {
        opcode::Fsync::new(types::Fixed(0)).flags(flags).build()
    } else {
        opcode::Fsync::new(types::Fd(fd)).flags(flags).build()
    }
}

/// Submits and waits for at least `want` completions, retrying interrupted waits.
fn enter(r: &Ring, want: usize) -> std::io::Result<()> {
    loop {
        match r.ring.submit_and_wait(want) {
            Ok(_) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Pushes one entry, submitting queued ones first if the submission queue is full.
fn push(r: &mut Ring, e: &squeue::Entry) -> std::io::Result<()> {
    loop {
        #[allow(unsafe_code)]
        // SAFETY: every entry we build points at memory of the caller of `rw`/`linked`
        // (a `&[u8]`/`&mut [u8]` borrowed for the whole call), and those functions return
        // only after every submitted entry has completed (see `drain`), so the buffer
        // outlives the I/O. Fixed buffer indices refer to registered memory kept alive
        // by `FixedList`.
        let pushed = unsafe { r.ring.submission().push(e) };
        if pushed.is_ok() {
            return Ok(());
        }
        r.ring.submit()?;
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

    fn new_ring(&self) -> std::io::Result<Ring> {
        let ring = IoUring::new(self.qd.max(2).next_power_of_two())?;
        let fixed_file = ring
            .submitter()
            .register_files(&[self.direct.as_raw_fd()])
            .is_ok();
        Ok(Ring {
            ring,
            gen: u64::MAX,
            fixed_bufs: false,
            fixed_file,
        })
    }

    /// Takes a ring whose registered buffers are current, and the fixed-buffer index that
    /// covers `span`, if any.
    fn checkout(&self, span: (usize, usize)) -> std::io::Result<(Ring, Option<u16>)> {
        let popped = lock(&self.rings).pop();
        let mut r = match popped {
            Some(r) => r,
            None => self.new_ring()?,
        };
        let fixed = lock(&self.fixed);
        if r.gen != fixed.gen {
            if r.fixed_bufs {
                let _ = r.ring.submitter().unregister_buffers();
            }
            let iov: Vec<libc::iovec> = fixed
                .pins
                .iter()
                .map(|p| {
                    let (addr, len) = p.span();
                    libc::iovec {
                        iov_base: addr as *mut libc::c_void,
                        iov_len: len,
                    }
                })
                .collect();
            #[allow(unsafe_code)]
            // SAFETY: each iovec describes a live allocation kept alive by a `Pinned` in
            // `self.fixed` for as long as any ring may use it (pins are only dropped when
            // the generation changes, and a ring re-registers before its next use).
            let registered = unsafe { r.ring.submitter().register_buffers(&iov) };
            r.fixed_bufs = !iov.is_empty() && registered.is_ok();
            r.gen = fixed.gen;
        }
        let index = if r.fixed_bufs {
            fixed.pins.iter().position(|p| {
                let (addr, cap) = p.span();
                span.0 >= addr && span.0 + span.1 <= addr + cap
            })
        } else {
            None
        };
        Ok((r, index.and_then(|i| u16::try_from(i).ok())))
    }

    fn checkin(&self, r: Ring) {
        lock(&self.rings).push(r);
    }

    /// Runs a read or write of `len` bytes at `ptr` through the ring, `qd` requests in
    /// flight, resubmitting short transfers. Returns after every request completed.
    fn rw(&self, d: Dir, ptr: *mut u8, len: usize, offset: u64) -> std::io::Result<()> {
        let (mut r, buf) = self.checkout((ptr as usize, len))?;
        let fd = self.direct.as_raw_fd();
        let mut todo: Vec<(usize, usize)> = (0..len.div_ceil(SEGMENT))
            .rev()
            .map(|i| (i * SEGMENT, SEGMENT.min(len - i * SEGMENT)))
            .collect();
        let mut inflight: Vec<(usize, usize)> = Vec::new();
        let mut err: Option<std::io::Error> = None;
        loop {
            while err.is_none() && inflight.len() < self.qd as usize {
                let Some((pos, n)) = todo.pop() else { break };
                let Ok(n32) = u32::try_from(n) else {
                    err = Some(std::io::Error::from_raw_os_error(libc::EINVAL));
                    break;
                };
                // `pos < len`, so the pointer stays inside the caller's buffer.
                let e = rw_entry(
                    &r,
                    fd,
                    d,
                    ptr.wrapping_add(pos),
                    n32,
                    offset + pos as u64,
                    buf,
                )
                .user_data(pos as u64);
                if let Err(e) = push(&mut r, &e) {
                    err = Some(e);
                    break;
                }
                inflight.push((pos, n));
            }
            if inflight.is_empty() {
                break;
            }
            drain_or_abort(enter(&r, 1));
            for cqe in r.ring.completion() {
                let pos = usize::try_from(cqe.user_data()).unwrap_or(usize::MAX);
                let Some(i) = inflight.iter().position(|&(p, _)| p == pos) else {
                    continue;
                };
                let (_, n) = inflight.swap_remove(i);
                let res = cqe.result();
                if res < 0 {
                    err.get_or_insert(std::io::Error::from_raw_os_error(-res));
                } else if res == 0 {
                    err.get_or_insert(std::io::ErrorKind::UnexpectedEof.into());
                } else if (res as usize) < n {
                    todo.push((pos + res as usize, n - res as usize));
                }
            }
        }
        self.checkin(r);
        err.map_or(Ok(()), Err)
    }

    /// One write linked to an `fdatasync`: the sync runs only once the write completed.
    /// Falls back to [`Self::rw`] + sync when the write came back short (the kernel then
    /// cancels the linked sync).
    fn linked(&self, ptr: *mut u8, len: usize, offset: u64) -> Result<(), IoError> {
        let io_err = |source| IoError::Io {
            op: "write",
            offset,
            len,
            source,
        };
        let Ok(n32) = u32::try_from(len) else {
            self.rw(Dir::Write, ptr, len, offset).map_err(io_err)?;
            return self.sync();
        };
        let (mut r, buf) = self.checkout((ptr as usize, len)).map_err(io_err)?;
        let fd = self.direct.as_raw_fd();
        let w = rw_entry(&r, fd, Dir::Write, ptr, n32, offset, buf)
            .flags(squeue::Flags::IO_LINK)
            .user_data(1);
        let s = fsync_entry(&r, fd).user_data(2);
        {
            let mut sq = r.ring.submission();
            // Every call drains its ring before giving it back, so the queue is empty here;
            // check anyway, before pushing anything, so that nothing is half-submitted.
            if sq.capacity() - sq.len() < 2 {
                drop(sq);
                self.checkin(r);
                return Err(io_err(std::io::Error::from_raw_os_error(libc::EBUSY)));
            }
            #[allow(unsafe_code)]
            // SAFETY: as in `push`: the write's buffer is borrowed by our caller for this
            // whole call, and we return only after both entries completed (below).
            unsafe {
                let _ = sq.push(&w);
                let _ = sq.push(&s);
            }
        }
        drain_or_abort(enter(&r, 2));
        let (mut wres, mut sres) = (None, None);
        let mut seen = 0;
        while seen < 2 {
            for cqe in r.ring.completion() {
                seen += 1;
                match cqe.user_data() {
                    1 => wres = Some(cqe.result()),
                    _ => sres = Some(cqe.result()),
                }
            }
            if seen < 2 {
                drain_or_abort(enter(&r, 1));
            }
        }
        self.checkin(r);
        let written = wres.unwrap_or(-libc::EIO);
        if written < 0 {
            return Err(io_err(std::io::Error::from_raw_os_error(-written)));
        }
        let written = written as usize;
        if written < len {
            let rest = ptr.wrapping_add(written);
            self.rw(Dir::Write, rest, len - written, offset + written as u64)
                .map_err(io_err)?;
            return self.sync();
        }
        match sres.unwrap_or(-libc::EIO) {
            0 => Ok(()),
            e => {
                self.poisoned.store(true, Ordering::Release);
                Err(IoError::Sync(std::io::Error::from_raw_os_error(-e)))
            }
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

/// Waits for in-flight requests. If the kernel refuses even that, memory we are about to give
/// back may still be written by the device: stopping the process is the only safe answer.
fn drain_or_abort(r: std::io::Result<()>) {
    if let Err(e) = r {
        if e.raw_os_error() == Some(libc::EBUSY) || e.raw_os_error() == Some(libc::EAGAIN) {
            // Completion queue full: the caller reaps and calls again.
            return;
        }
        eprintln!("volcrypt: io_uring_enter failed with requests in flight ({e}); aborting");
        std::process::abort();
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
