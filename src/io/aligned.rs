//! Page-aligned, reusable I/O buffers: what O_DIRECT needs (memory aligned to the device's
//! DIO alignment, at most a page) and what io_uring can register as fixed buffers.
//!
//! An [`AlignedBuf`] owns its memory through an `Arc`, so an engine that registered it with
//! the kernel can keep the memory alive (a [`Pinned`] handle) for as long as the
//! registration lasts, even after the pipeline dropped the buffer. The engine never reads or
//! writes through its handle; it only hands the address to the kernel for the I/O the
//! buffer's owner asks for.

use std::alloc::Layout;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::Arc;

/// Alignment of every [`AlignedBuf`]: a page, which covers any DIO memory alignment.
pub const BUF_ALIGN: usize = 4096;

/// One zero-initialized, page-aligned allocation.
#[derive(Debug)]
struct Region {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: a Region is a plain heap allocation; it is freed once, by the last Arc owner, and
// only the unique AlignedBuf creates references into it.
#[allow(unsafe_code)]
unsafe impl Send for Region {}
// SAFETY: shared `&Region`s only read `ptr` and `layout`, never the memory behind them.
#[allow(unsafe_code)]
unsafe impl Sync for Region {}

impl Region {
    fn new(cap: usize) -> Region {
        let size = cap.max(1).div_ceil(BUF_ALIGN) * BUF_ALIGN;
        let Ok(layout) = Layout::from_size_align(size, BUF_ALIGN) else {
            // Only for sizes near usize::MAX, which no caller can have allocated anyway.
            std::alloc::handle_alloc_error(Layout::new::<u8>());
        };
        #[allow(unsafe_code)]
        // SAFETY: `layout` has a non-zero size (at least BUF_ALIGN).
        let raw = unsafe { std::alloc::alloc_zeroed(layout) };
        match NonNull::new(raw) {
            Some(ptr) => Region { ptr, layout },
            None => std::alloc::handle_alloc_error(layout),
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        #[allow(unsafe_code)]
        // SAFETY: `ptr` came from `alloc_zeroed(self.layout)` and is freed only here, once,
        // when the last owner drops.
        unsafe {
            std::alloc::dealloc(self.ptr.as_ptr(), self.layout)
        }
    }
}

/// A growable, page-aligned byte buffer (like a `Vec<u8>` that never moves while in use).
#[derive(Debug)]
pub struct AlignedBuf {
    region: Arc<Region>,
    len: usize,
}

/// Keeps a buffer's memory alive for a kernel registration; exposes only its address.
#[derive(Debug, Clone)]
pub(crate) struct Pinned {
    region: Arc<Region>,
}

impl Pinned {
    /// Start address and capacity of the memory.
    pub(crate) fn span(&self) -> (usize, usize) {
        (self.region.ptr.as_ptr() as usize, self.region.layout.size())
    }
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes.
    pub fn zeroed(len: usize) -> AlignedBuf {
        AlignedBuf {
            region: Arc::new(Region::new(len)),
            len,
        }
    }

    /// Bytes available without reallocating.
    pub fn capacity(&self) -> usize {
        self.region.layout.size()
    }

    /// Sets the length to `len`. Within the capacity the memory is kept (bytes keep their
    /// old values, so callers overwrite them); beyond it, a new zeroed allocation is made.
    pub fn resize(&mut self, len: usize) {
        if len > self.capacity() {
            self.region = Arc::new(Region::new(len));
        }
        self.len = len;
    }

    /// A handle that keeps this memory alive for a kernel registration.
    pub(crate) fn pin(&self) -> Pinned {
        Pinned {
            region: Arc::clone(&self.region),
        }
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        #[allow(unsafe_code)]
        // SAFETY: the region holds at least `len` initialized (zeroed at allocation) bytes,
        // lives as long as `self`, and nothing else creates references into it (a `Pinned`
        // handle only reads the address).
        unsafe {
            std::slice::from_raw_parts(self.region.ptr.as_ptr(), self.len)
        }
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        #[allow(unsafe_code)]
        // SAFETY: as in `deref`; `&mut self` makes this the only reference, since
        // `AlignedBuf` is not `Clone` and `Pinned` never dereferences the memory.
        unsafe {
            std::slice::from_raw_parts_mut(self.region.ptr.as_ptr(), self.len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_resizable() {
        let mut b = AlignedBuf::zeroed(10_000);
        assert_eq!(b.len(), 10_000);
        assert_eq!(b.capacity(), 12_288);
        assert_eq!(b.as_ptr() as usize % BUF_ALIGN, 0);
        assert!(b.iter().all(|&x| x == 0));
        b[9_999] = 7;
        let before = b.as_ptr();
        b.resize(12_288);
        assert_eq!(b.as_ptr(), before, "within capacity the memory stays");
        assert_eq!(b[9_999], 7);
        b.resize(1 << 20);
        assert_eq!(b.len(), 1 << 20);
        assert_eq!(b.as_ptr() as usize % BUF_ALIGN, 0);
        let (addr, cap) = b.pin().span();
        assert_eq!((addr, cap), (b.as_ptr() as usize, 1 << 20));
        let empty = AlignedBuf::zeroed(0);
        assert!(empty.is_empty());
        assert_eq!(empty.capacity(), BUF_ALIGN);
    }

    #[test]
    fn pinned_memory_outlives_the_buffer() {
        let b = AlignedBuf::zeroed(4096);
        let p = b.pin();
        drop(b);
        assert_eq!(p.span().1, 4096);
    }
}
