//! Memory that is kept out of swap: [`LockedBuf`], a fixed, page-aligned heap buffer that is
//! `mlock`ed once when made and wiped, `munlock`ed and freed when dropped.
//!
//! The data-key cache keeps its plaintext keys in one of these. Locking is best effort: an
//! unprivileged process may lock at most `RLIMIT_MEMLOCK` bytes (`ulimit -l`), and a refused
//! `mlock` (EPERM, ENOMEM) leaves an ordinary buffer whose [`LockedBuf::lock_error`] says why,
//! so the caller can warn and carry on. The buffer is also excluded from core dumps
//! (`MADV_DONTDUMP`, best effort).
//!
//! The allocation is rounded up to whole pages and page-aligned, so no other data shares a
//! locked page: `munlock` on drop can never unlock someone else's memory (locks do not nest).
//! This file owns the `unsafe` of that; it must not know what the bytes mean.

use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

use zeroize::Zeroize;

/// A fixed-size byte buffer, locked in memory where the OS allows it, wiped on drop.
pub struct LockedBuf {
    ptr: NonNull<u8>,
    /// The usable length.
    len: usize,
    /// The allocation: `len` rounded up to whole pages (`None` when `len` is 0).
    layout: Option<Layout>,
    locked: bool,
    lock_error: Option<String>,
}

impl std::fmt::Debug for LockedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockedBuf")
            .field("len", &self.len)
            .field("locked", &self.locked)
            .field("lock_error", &self.lock_error)
            .finish_non_exhaustive()
    }
}

// SAFETY: `LockedBuf` owns its allocation exclusively (like a `Box<[u8]>`); shared references
// only ever read it and mutation needs `&mut self`, so moving or sharing it across threads is
// as safe as for a `Box<[u8]>`.
#[allow(unsafe_code)]
unsafe impl Send for LockedBuf {}
// SAFETY: as above: `&LockedBuf` gives read-only access to plain bytes.
#[allow(unsafe_code)]
unsafe impl Sync for LockedBuf {}

fn page_size() -> usize {
    #[allow(unsafe_code)]
    // SAFETY: sysconf has no memory-safety preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p)
        .ok()
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096)
}

impl LockedBuf {
    /// A zeroed buffer of `len` bytes, `mlock`ed if the OS allows. Never fails for lack of
    /// lock permission: see [`Self::is_locked`] and [`Self::lock_error`].
    pub fn new(len: usize) -> Self {
        Self::build(len, true)
    }

    /// A zeroed buffer of `len` bytes that is not locked (the caller opted out).
    pub fn unlocked(len: usize) -> Self {
        Self::build(len, false)
    }

    fn build(len: usize, lock: bool) -> Self {
        if len == 0 {
            return LockedBuf {
                ptr: NonNull::dangling(),
                len: 0,
                layout: None,
                locked: false,
                lock_error: None,
            };
        }
        let page = page_size();
        let size = len.div_ceil(page).saturating_mul(page);
        let Ok(layout) = Layout::from_size_align(size, page) else {
            handle_alloc_error(Layout::new::<u8>())
        };
        #[allow(unsafe_code)]
        // SAFETY: `layout` has a non-zero size (len > 0) and a power-of-two alignment.
        let raw = unsafe { alloc_zeroed(layout) };
        let Some(ptr) = NonNull::new(raw) else {
            handle_alloc_error(layout)
        };
        let mut buf = LockedBuf {
            ptr,
            len,
            layout: Some(layout),
            locked: false,
            lock_error: None,
        };
        #[allow(unsafe_code)]
        // SAFETY: `ptr..ptr+size` is our own live, page-aligned allocation.
        unsafe {
            // Best effort: a failure only means the keys may appear in a core dump.
            let _ = libc::madvise(ptr.as_ptr().cast(), size, libc::MADV_DONTDUMP);
        }
        if lock {
            #[allow(unsafe_code)]
            // SAFETY: as above; mlock only changes the residency of our own pages.
            let rc = unsafe { libc::mlock(ptr.as_ptr().cast(), size) };
            if rc == 0 {
                buf.locked = true;
            } else {
                buf.lock_error = Some(std::io::Error::last_os_error().to_string());
            }
        }
        buf
    }

    /// True when the buffer is locked in memory.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Why locking was refused (the OS error), when it was attempted and failed.
    pub fn lock_error(&self) -> Option<&str> {
        self.lock_error.as_deref()
    }

    /// The usable length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-length buffer.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        #[allow(unsafe_code)]
        // SAFETY: `ptr` is valid for `len` initialized (zeroed at allocation) bytes for as
        // long as `self` lives (dangling but with `len == 0` for an empty buffer).
        unsafe {
            std::slice::from_raw_parts(self.ptr.as_ptr(), self.len)
        }
    }

    /// The bytes, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        #[allow(unsafe_code)]
        // SAFETY: as in `as_slice`, and `&mut self` makes this the only reference.
        unsafe {
            std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len)
        }
    }
}

impl Drop for LockedBuf {
    fn drop(&mut self) {
        let Some(layout) = self.layout else { return };
        // Volatile writes: the wipe is not optimized away before the free.
        self.as_mut_slice().zeroize();
        #[allow(unsafe_code)]
        // SAFETY: `ptr` was allocated with exactly `layout` and is freed once, here; the
        // munlock covers the same pages the mlock did.
        unsafe {
            if self.locked {
                let _ = libc::munlock(self.ptr.as_ptr().cast(), layout.size());
            }
            dealloc(self.ptr.as_ptr(), layout);
        }
    }
}

/// Makes later `mlock` calls of this process fail as they do for an unprivileged user with
/// `ulimit -l 0`: sets `RLIMIT_MEMLOCK` to 0 and, when running as root (which may lock
/// regardless), drops to uid/gid 65534. Irreversible; only for a test's child process.
#[cfg(test)]
pub(crate) fn refuse_mlock_in_this_process() -> Result<(), String> {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    #[allow(unsafe_code)]
    // SAFETY: plain system calls on this process with valid arguments.
    unsafe {
        if libc::setrlimit(libc::RLIMIT_MEMLOCK, &zero) != 0 {
            return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
        }
        if libc::geteuid() == 0 && (libc::setgid(65534) != 0 || libc::setuid(65534) != 0) {
            return Err(format!(
                "dropping root: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_is_zeroed_writable_and_page_aligned() {
        let mut b = LockedBuf::new(100);
        assert_eq!(b.len(), 100);
        assert!(b.as_slice().iter().all(|&x| x == 0));
        b.as_mut_slice()[99] = 7;
        assert_eq!(b.as_slice()[99], 7);
        assert_eq!(b.as_slice().as_ptr() as usize % page_size(), 0);
        // Either locked, or unlocked with the reason.
        assert!(b.is_locked() != b.lock_error().is_some(), "{b:?}");
    }

    #[test]
    fn empty_and_unlocked_buffers() {
        let e = LockedBuf::new(0);
        assert!(e.is_empty() && !e.is_locked() && e.lock_error().is_none());
        assert!(e.as_slice().is_empty());
        let u = LockedBuf::unlocked(64);
        assert!(!u.is_locked() && u.lock_error().is_none());
        assert_eq!(u.as_slice().len(), 64);
    }
}
