//! The rings behind [`UringIo`]: a small pool (one ring per calling thread at a time),
//! registration of the file and of the fixed buffers, building and submitting entries, and
//! the two submission paths: `rw` (requests of 1 MiB, `queue_depth` in flight, short
//! transfers resubmitted) and `linked` (a write linked to an `fdatasync`). Every path waits
//! for all its requests before it returns, also on error.

use std::os::unix::io::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard, PoisonError};

use io_uring::{opcode, squeue, types, IoUring};

use super::{UringIo, SEGMENT};
use crate::io::aligned::Pinned;
use crate::io::{BlockIo, IoError};

pub(super) struct Ring {
    ring: IoUring,
    /// The generation of the fixed-buffer list this ring has registered.
    gen: u64,
    fixed_bufs: bool,
    fixed_file: bool,
}

#[derive(Default)]
pub(super) struct FixedList {
    pub(super) gen: u64,
    pub(super) pins: Vec<Pinned>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Dir {
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
    pub(super) fn rw(&self, d: Dir, ptr: *mut u8, len: usize, offset: u64) -> std::io::Result<()> {
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
    pub(super) fn linked(&self, ptr: *mut u8, len: usize, offset: u64) -> Result<(), IoError> {
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
