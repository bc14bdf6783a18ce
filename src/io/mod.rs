//! Block I/O engines behind one small trait, and [`LockedBuf`] (mlocked memory for keys). The
//! only module allowed `unsafe` (mmap, ioctl, mlock), and every `unsafe` block carries a
//! `// SAFETY:` comment.
//!
//! [`BlockIo`] is five methods in the spirit of redb's `StorageBackend`: length, positioned
//! read and write, and durability. Engines never grow the device and never retry a failed
//! sync (fsyncgate): after a failed `sync` the engine is poisoned and every later call fails,
//! so the caller stops and the next open recovers. Engines:
//!
//! - `mmap` (default for files): memmap2; also lends [`MappedWindow`]s so the cipher stage can
//!   work on the page cache in place with no copy.
//! - `uring`: io_uring with O_DIRECT, registered file and buffers, queue depth 32 (default
//!   for block devices and large files on disk, when the kernel allows io_uring).
//! - `pread`: positioned `pread`/`pwrite` on the file descriptor; the safe reference engine.
//! - `mem`: an in-memory device with a crash simulator (durable image frozen after sync n).
//! - `null`: reads zeros, discards writes (fio's null engine: measures the harness itself).

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

mod aligned;
mod device;
mod fault;
mod mem;
pub(crate) mod memlock;
mod mmap;
mod null;
mod pread;
mod uring;
mod uring_probe;
#[cfg(test)]
mod uring_tests;

pub use aligned::{AlignedBuf, BUF_ALIGN};
pub use device::{
    allocate, block_device_use, block_info, device_size, in_memory_fs, is_block_device, BlockInfo,
    DeviceUse,
};
pub use fault::{Fault, FaultIo, IoOp};
pub use mem::MemIo;
pub use memlock::LockedBuf;
pub use mmap::{MappedWindow, MmapIo};
pub use null::NullIo;
pub use pread::PreadIo;
pub use uring::UringIo;
pub use uring_probe::{
    choose_auto, dio_align, probe_with, queue_depth, set_queue_depth, setup_error_reason,
    uring_probe, AutoChoice, DioAlign, DEFAULT_QUEUE_DEPTH, DISABLE_ENV, LARGE_FILE,
};

/// The I/O engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// memmap2 mapping of the whole device.
    #[default]
    Mmap,
    /// `pread`/`pwrite` on the file descriptor.
    Pread,
    /// In-memory device (tests).
    Mem,
    /// Zero reads, discarded writes (harness overhead).
    Null,
    /// io_uring with O_DIRECT where the file system supports it, registered files and buffers.
    Uring,
}

impl EngineKind {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Mmap => "mmap",
            EngineKind::Pread => "pread",
            EngineKind::Mem => "mem",
            EngineKind::Null => "null",
            EngineKind::Uring => "uring",
        }
    }
}

impl std::fmt::Display for EngineKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mmap" => Ok(EngineKind::Mmap),
            "pread" => Ok(EngineKind::Pread),
            "mem" => Ok(EngineKind::Mem),
            "null" => Ok(EngineKind::Null),
            "uring" | "io_uring" => Ok(EngineKind::Uring),
            other => Err(format!(
                "unknown io engine '{other}' (expected uring, mmap, pread, mem or null)"
            )),
        }
    }
}

/// I/O failures, with the operation and offset that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// Opening or inspecting a path failed.
    #[error("{path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A read or write failed.
    #[error("{op} of {len} bytes at offset {offset} failed: {source}")]
    Io {
        /// "read" or "write".
        op: &'static str,
        /// Byte offset.
        offset: u64,
        /// Length.
        len: usize,
        /// The OS error.
        source: std::io::Error,
    },
    /// An access beyond the end of the device.
    #[error(
        "{op} of {len} bytes at offset {offset} is beyond the end of the device ({size} bytes)"
    )]
    OutOfRange {
        /// "read" or "write".
        op: &'static str,
        /// Byte offset.
        offset: u64,
        /// Length.
        len: usize,
        /// Device size.
        size: u64,
    },
    /// fdatasync/msync failed. Not retried: the durability of recent writes is unknown.
    #[error("sync failed (not retried; the next open recovers): {0}")]
    Sync(std::io::Error),
    /// A previous sync failed; the engine refuses further work.
    #[error("an earlier sync failed; this device handle is poisoned")]
    Poisoned,
    /// The device was opened read-only.
    #[error("the device is open read-only")]
    ReadOnly,
    /// A mapped window overlaps one already lent out.
    #[error("range {offset}+{len} overlaps a mapped window in use")]
    WindowBusy {
        /// Byte offset.
        offset: u64,
        /// Length.
        len: usize,
    },
    /// The engine cannot run here.
    #[error("io engine '{engine}' is unavailable: {reason}")]
    EngineUnavailable {
        /// Engine name.
        engine: &'static str,
        /// Why.
        reason: String,
    },
}

/// A byte-addressable device: a regular file, a block device, memory or nothing.
pub trait BlockIo: Send + Sync {
    /// The engine behind this handle.
    fn kind(&self) -> EngineKind;
    /// Size in bytes. Engines never grow the device.
    fn len(&self) -> u64;
    /// True for a zero-length device.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads exactly `buf.len()` bytes at `offset`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), IoError>;
    /// Writes all of `buf` at `offset`.
    fn write_at(&self, buf: &[u8], offset: u64) -> Result<(), IoError>;
    /// Makes every completed write durable. Never retried by callers.
    fn sync(&self) -> Result<(), IoError>;
    /// Writes `buf` at `offset`, then makes `sync` (a range that includes the write)
    /// durable; the sync starts only once the write completed (io_uring links the two).
    fn write_sync_at(&self, buf: &[u8], offset: u64, sync: Range<u64>) -> Result<(), IoError> {
        self.write_at(buf, offset)?;
        self.sync_range(sync.start, sync.end - sync.start)
    }
    /// The engine and its settings, for reports (`uring (O_DIRECT, ..., QD 32)`).
    fn detail(&self) -> String {
        self.kind().name().to_owned()
    }
    /// Offers window buffers for registration with the kernel (io_uring fixed buffers);
    /// other engines ignore it. The engine keeps the memory alive while registered.
    fn register_buffers(&self, bufs: &[&AlignedBuf]) {
        let _ = bufs;
    }
    /// Makes completed writes in `offset..offset+len` durable (may sync more).
    fn sync_range(&self, offset: u64, len: u64) -> Result<(), IoError> {
        let _ = (offset, len);
        self.sync()
    }
    /// Lends `offset..offset+len` as a mutable slice of the mapping, for engines that have
    /// one (`Ok(None)` otherwise). Overlapping loans are refused.
    fn map_window(&self, offset: u64, len: usize) -> Result<Option<MappedWindow<'_>>, IoError> {
        let _ = (offset, len);
        Ok(None)
    }
    /// Hints that `offset..offset+len` will be read soon.
    fn prefetch(&self, offset: u64, len: u64) {
        let _ = (offset, len);
    }
}

/// Checks that `offset..offset+len` lies inside a device of `size` bytes.
pub(crate) fn check_range(
    op: &'static str,
    offset: u64,
    len: usize,
    size: u64,
) -> Result<(), IoError> {
    let end = u64::try_from(len).ok().and_then(|l| offset.checked_add(l));
    match end {
        Some(end) if end <= size => Ok(()),
        _ => Err(IoError::OutOfRange {
            op,
            offset,
            len,
            size,
        }),
    }
}

/// Wraps an open file (regular or block device) in the engine `kind`. `Mem` and `Null` are
/// not file engines and are refused here; build them with [`MemIo`] / [`NullIo`].
pub fn from_file(
    file: File,
    path: &Path,
    kind: EngineKind,
    writable: bool,
) -> Result<Arc<dyn BlockIo>, IoError> {
    let size = device_size(&file).map_err(|source| IoError::Path {
        path: path.to_owned(),
        source,
    })?;
    match kind {
        EngineKind::Pread => Ok(Arc::new(PreadIo::new(file, size, writable))),
        EngineKind::Mmap => Ok(Arc::new(MmapIo::new(&file, size, writable).map_err(
            |source| IoError::Path {
                path: path.to_owned(),
                source,
            },
        )?)),
        EngineKind::Uring => Ok(Arc::new(UringIo::open(file, path, size, writable)?)),
        EngineKind::Mem | EngineKind::Null => Err(IoError::EngineUnavailable {
            engine: kind.name(),
            reason: "not a file engine".into(),
        }),
    }
}
