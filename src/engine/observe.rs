//! Per-stage timings of a data pass, for benchmarks and metrics.
//!
//! A pass reports each stage of each window to an [`Observer`] (when one is set in
//! [`RunOptions`](super::RunOptions)): the read, every chunk's seal/open, the journal commit,
//! the apply (write in place or to the output) and the checkpoint (tag entries, sync, header
//! commit). The bench harness turns these into latency histograms and a throughput time
//! series; the daemon into Prometheus metrics. Without an observer nothing is timed.

use std::time::{Duration, Instant};

/// A stage of the window pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading a window (and its tag entries) from the source.
    Read,
    /// Sealing or opening one chunk (per chunk, on a cipher thread; below 16 KiB chunks,
    /// one chunk in every 16 KiB is sampled).
    Chunk,
    /// The cipher stage of a whole window.
    Cipher,
    /// Writing and syncing the window's journal record.
    JournalCommit,
    /// Writing the window in place or to the output.
    Apply,
    /// Tag entries, sync and header commit after a window (the checkpoint fsync).
    Checkpoint,
    /// A KMS call (recorded by key providers that time themselves).
    KmsCall,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 7] = [
        Stage::Read,
        Stage::Chunk,
        Stage::Cipher,
        Stage::JournalCommit,
        Stage::Apply,
        Stage::Checkpoint,
        Stage::KmsCall,
    ];

    /// The name used in reports (`journal_commit`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "read",
            Stage::Chunk => "chunk",
            Stage::Cipher => "cipher",
            Stage::JournalCommit => "journal_commit",
            Stage::Apply => "apply",
            Stage::Checkpoint => "checkpoint",
            Stage::KmsCall => "kms_call",
        }
    }
}

/// Receives stage timings. Called from the reader, cipher and writer threads at once.
pub trait Observer: Send + Sync {
    /// `stage` took `elapsed` and covered `bytes` data bytes (0 when not applicable).
    fn record(&self, stage: Stage, elapsed: Duration, bytes: u64);
}

/// Times `f` as `stage` when an observer is set.
pub(crate) fn timed<T>(
    obs: Option<&dyn Observer>,
    stage: Stage,
    bytes: u64,
    f: impl FnOnce() -> T,
) -> T {
    match obs {
        None => f(),
        Some(o) => {
            let t = Instant::now();
            let r = f();
            o.record(stage, t.elapsed(), bytes);
            r
        }
    }
}
