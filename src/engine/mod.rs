//! Job execution: the only module that combines format, crypto, keys and io.
//!
//! An operation opens (or creates) a volume, unlocks its key through a
//! [`KeyProvider`](crate::keys::KeyProvider), then runs the window pipeline: a reader thread
//! loads windows, a rayon pool seals or opens their chunks in parallel, and a writer thread
//! writes them back, syncs, and checkpoints progress in the header. Bounded channels and a
//! fixed pool of window buffers keep memory bounded whatever the volume size. Library code
//! here never prints; progress goes through the [`Progress`] trait.

mod cipher;
mod common;
#[cfg(test)]
mod crash_tests;
mod create;
mod decrypt;
mod encrypt;
mod error;
mod files;
mod info;
mod journal;
pub mod observe;
mod pipeline;
mod placement;
pub mod raw;
mod read;
mod rekey;
mod resume;
mod rewrap;
mod volume;

pub use decrypt::decrypt;
pub use encrypt::{encrypt, encrypt_reserved_tail};
pub use error::EngineError;
pub use info::{info, InfoReport, KeyslotInfo, SlotInfo};
pub use observe::{Observer, Stage};
pub use read::{cat, verify, VerifyReport};
pub use rekey::rekey;
pub use resume::resume;
pub use rewrap::{rewrap, RewrapReport};

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::crypto::Backend;
use crate::format::Resilience;
use crate::io::EngineKind;

/// A volume: its data path, and its detached header file if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeRef {
    /// The file or block device holding the data.
    pub path: PathBuf,
    /// The detached header file (`--header`), if any.
    pub header: Option<PathBuf>,
}

impl VolumeRef {
    /// An attached volume at `path`.
    pub fn attached(path: impl Into<PathBuf>) -> Self {
        VolumeRef {
            path: path.into(),
            header: None,
        }
    }
}

/// Receives progress while an operation runs (a terminal bar, a daemon's job record).
pub trait Progress: Send + Sync {
    /// Called once with the total bytes and the bytes already done (on resume).
    fn begin(&self, total: u64, done: u64);
    /// Called after each window with the bytes it covered.
    fn advance(&self, bytes: u64);
    /// Called once at the end.
    fn finish(&self);
}

/// Options shared by every operation.
#[derive(Clone)]
pub struct RunOptions {
    /// Cipher threads.
    pub threads: usize,
    /// I/O engine for files and devices.
    pub io: EngineKind,
    /// AES-GCM implementation.
    pub backend: Backend,
    /// Crash protection for in-place operations.
    pub resilience: Resilience,
    /// Progress receiver.
    pub progress: Option<Arc<dyn Progress>>,
    /// Set to stop after the current window (SIGINT/SIGTERM).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Receives per-stage timings (benchmarks, metrics); `None`: nothing is timed.
    pub observer: Option<Arc<dyn Observer>>,
    /// A cipher pool shared with other passes (the daemon runs every job on one pool);
    /// `None`: each pass makes its own pool of `threads` workers.
    pub pool: Option<Arc<rayon::ThreadPool>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            io: EngineKind::Mmap,
            backend: Backend::Ring,
            // Safe by default: in-place operations journal every window.
            resilience: Resilience::Journal,
            progress: None,
            cancel: None,
            observer: None,
            pool: None,
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("threads", &self.threads)
            .field("io", &self.io)
            .field("backend", &self.backend)
            .field("resilience", &self.resilience)
            .finish_non_exhaustive()
    }
}

/// What an operation did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// The operation.
    pub op: &'static str,
    /// Data bytes processed in this run.
    pub bytes: u64,
    /// Chunks processed in this run.
    pub chunks: u64,
    /// Wall time of the data pass.
    #[serde(serialize_with = "secs")]
    pub elapsed: Duration,
    /// I/O engine used.
    pub engine: EngineKind,
    /// The engine with its settings, e.g. `uring (O_DIRECT, 512-byte alignment, QD 32)`.
    pub io: String,
    /// Crypto backend used.
    pub backend: Backend,
    /// Cipher threads.
    pub threads: usize,
    /// Chunk index the run resumed from, if it resumed.
    pub resumed_from: Option<u64>,
    /// True when stopped by a signal before finishing (resumable).
    pub interrupted: bool,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Summary {
    /// Throughput in bytes per second.
    pub fn bytes_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.bytes as f64 / s
        } else {
            0.0
        }
    }
}
