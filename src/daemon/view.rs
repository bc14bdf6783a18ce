//! What the API returns for a job: the stored [`JobRecord`] plus live figures computed from
//! it and, for a running job, from its progress counters: percent, chunks, throughput, ETA.

use serde::Serialize;

use super::control::Snapshot;
use super::model::JobRecord;

/// A job as `GET /v1/jobs/{id}` returns it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    /// The stored record (flattened: `id`, `spec`, `state`, `bytes_done`, ...).
    #[serde(flatten)]
    pub record: JobRecord,
    /// Chunks done (from bytes and the chunk size).
    pub chunks_done: u64,
    /// Chunks the operation covers.
    pub chunks_total: u64,
    /// Percent done, 0 to 100.
    pub percent: f64,
    /// Throughput of the current run, bytes per second (0 when not running).
    pub bytes_per_sec: f64,
    /// Seconds left at that throughput (`null` when unknown).
    pub eta_secs: Option<f64>,
}

fn chunks(bytes: u64, chunk: u64) -> u64 {
    if chunk == 0 {
        0
    } else {
        bytes.div_ceil(chunk)
    }
}

impl JobView {
    /// The view of `record`, with `live` progress when the job runs.
    pub fn of(mut record: JobRecord, live: Option<Snapshot>) -> JobView {
        let mut rate = 0.0;
        if let Some(l) = live {
            if l.total > 0 {
                record.bytes_total = l.total;
            }
            record.bytes_done = record.bytes_done.max(l.done);
            rate = if l.paused { 0.0 } else { l.bytes_per_sec };
        }
        if record.state == super::model::JobState::Succeeded {
            // Rewrap touches no data, and a job found finished after a restart did its
            // work in an earlier run: done is done.
            record.bytes_done = record.bytes_total;
        }
        let (done, total) = (
            record.bytes_done.min(record.bytes_total),
            record.bytes_total,
        );
        let percent = if total > 0 {
            done as f64 * 100.0 / total as f64
        } else if record.state == super::model::JobState::Succeeded {
            100.0
        } else {
            0.0
        };
        let eta_secs = (rate > 0.0).then(|| (total - done) as f64 / rate);
        JobView {
            chunks_done: chunks(done, record.chunk_size),
            chunks_total: chunks(total, record.chunk_size),
            percent,
            bytes_per_sec: rate,
            eta_secs,
            record,
        }
    }
}
