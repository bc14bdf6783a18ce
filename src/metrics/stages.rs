//! The engine [`Observer`] of one job: stage latencies into the
//! `volcrypt_stage_duration_seconds{op, stage}` histograms, and the bytes of one stage into
//! `volcrypt_bytes_processed_total{op}`.
//!
//! `record` runs per chunk on every cipher thread, so each stage's histogram handle is
//! resolved from the family once (on the stage's first record) and kept in a slot indexed by
//! the stage: the hot path is an atomic load, the histogram's own lock, and a counter add.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use super::{Durations, PairLabel};
use crate::engine::{Observer, Stage};

/// Number of stages, one histogram slot each.
const STAGES: usize = Stage::ALL.len();

/// The slot of `stage` in [`StageObserver::slots`].
fn slot(stage: Stage) -> usize {
    match stage {
        Stage::Read => 0,
        Stage::Chunk => 1,
        Stage::Cipher => 2,
        Stage::JournalCommit => 3,
        Stage::Apply => 4,
        Stage::Checkpoint => 5,
        Stage::KmsCall => 6,
    }
}

/// Records one job's stages (see the module header).
pub(super) struct StageObserver {
    op: &'static str,
    family: Durations<PairLabel>,
    /// Per-stage histogram handles, filled lazily so stages a job never reports render no
    /// empty series.
    slots: [OnceLock<Histogram>; STAGES],
    count_stage: Stage,
    bytes: Counter,
}

impl StageObserver {
    /// An observer for operation `op` counting the bytes of `count_stage` into `bytes`.
    pub(super) fn new(
        op: &'static str,
        family: Durations<PairLabel>,
        count_stage: Stage,
        bytes: Counter,
    ) -> Self {
        StageObserver {
            op,
            family,
            slots: std::array::from_fn(|_| OnceLock::new()),
            count_stage,
            bytes,
        }
    }

    /// The histogram of `stage`, resolved from the family on first use.
    fn histogram(&self, stage: Stage) -> &Histogram {
        self.slots[slot(stage)].get_or_init(|| {
            Histogram::clone(
                &self
                    .family
                    .get_or_create(&[("op", self.op), ("stage", stage.name())]),
            )
        })
    }
}

impl Observer for StageObserver {
    fn record(&self, stage: Stage, elapsed: Duration, bytes: u64) {
        self.histogram(stage).observe(elapsed.as_secs_f64());
        if stage == self.count_stage && bytes > 0 {
            self.bytes.inc_by(bytes);
        }
    }
}
