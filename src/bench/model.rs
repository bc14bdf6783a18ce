//! The data model of a benchmark run: what the runner measures and every report writer
//! reads (`results/<run-id>/report.json` is this, serialized).
//!
//! A run is a list of [`CaseResult`]s, one per point of the sweep (workload x threads x
//! chunk size x io engine x crypto backend). Each case keeps its repetitions, per-stage
//! latency histograms (microseconds) and a throughput time series sampled every second.
//! Histograms are kept as `hdrhistogram` values for the `.hgrm` files and summarized at fio's
//! percentiles ([`LatencyStats`]) for JSON. Reading `report.json` back
//! ([`crate::bench::output::read_report`]) gives the same types, without the histograms.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::report::LatencyStats;

/// Version of the `report.json` layout (bumped on incompatible changes).
pub const REPORT_VERSION: u32 = 1;

/// Where and with what a run was made: recorded in every report.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RunMeta {
    /// `<UTC yyyymmddThhmmssZ>-<workload or job name>`; the results directory's name.
    pub run_id: String,
    /// volcrypt's version (`CARGO_PKG_VERSION`).
    pub volcrypt_version: String,
    /// `git describe --always --dirty` of the tree the binary was built from, or "unknown".
    pub git_commit: String,
    /// Host name.
    pub host: String,
    /// CPU model name (`/proc/cpuinfo`).
    pub cpu_model: String,
    /// Online CPUs.
    pub cpus: usize,
    /// CPU flags relevant to the cipher (aes, pclmulqdq, avx2, avx512f, vaes, vpclmulqdq,
    /// sha_ni), as the kernel reports them.
    pub cpu_flags: Vec<String>,
    /// `uname -sr`.
    pub kernel: String,
    /// Start time, RFC 3339 UTC.
    pub started: String,
    /// The full spec, as given (TOML text of the job file, or the equivalent of the flags).
    pub spec: String,
}

/// One point of a sweep: everything that was set for it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Case {
    /// `cipher`, `encrypt`, `rekey`, `rewrap`, `decrypt`, `verify` or `kms`.
    pub workload: String,
    /// Job name from the spec (the workload name for flag-given specs).
    pub job: String,
    /// Volume (or buffer) size in bytes; 0 for `kms`.
    pub size: u64,
    /// Cipher threads (for `kms`: concurrent connections).
    pub threads: usize,
    /// Chunk size in bytes; 0 for `kms` and `rewrap`.
    pub chunk_size: u64,
    /// I/O engine (`uring`, `pread`, `mmap`, `null`; `none` for `cipher` and `kms`).
    pub io: String,
    /// Crypto backend (`ring`, `aws-lc`; `none` for `kms`).
    pub backend: String,
    /// `none` or `journal` for in-place operations; `none` otherwise.
    pub resilience: String,
}

impl Case {
    /// A short unique label: `encrypt-t2-c64K-uring-ring` (file names, plot legends).
    pub fn label(&self) -> String {
        let chunk = match self.chunk_size {
            0 => String::new(),
            c if c >= 1 << 20 => format!("-c{}M", c >> 20),
            c => format!("-c{}K", c >> 10),
        };
        format!(
            "{}-t{}{chunk}-{}-{}",
            self.job, self.threads, self.io, self.backend
        )
    }
}

/// One measured repetition (warm-ups are not kept).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq)]
pub struct Rep {
    /// Data bytes processed (for `kms`: 0).
    pub bytes: u64,
    /// Operations: chunks for data workloads, requests for `kms`.
    pub ops: u64,
    /// Wall seconds.
    pub secs: f64,
}

/// One second of a throughput time series.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq)]
pub struct Sample {
    /// Seconds since the measured repetitions started (end of the interval).
    pub t: f64,
    /// Bytes per second over the interval (for `kms`: requests per second).
    pub rate: f64,
}

/// The results of one case.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CaseResult {
    /// What was run.
    pub case: Case,
    /// Measured repetitions, in order.
    pub reps: Vec<Rep>,
    /// Median throughput of the repetitions, bytes/s (for `kms`: requests/s).
    pub bw_median: f64,
    /// Lowest and highest repetition throughput.
    pub bw_min: f64,
    /// Highest repetition throughput.
    pub bw_max: f64,
    /// Median operations per second (chunks/s, or requests/s).
    pub iops_median: f64,
    /// Latency statistics per stage name ([`crate::engine::Stage::name`], plus `request`
    /// for `kms`), microseconds, over all measured repetitions.
    pub latency: BTreeMap<String, LatencyStats>,
    /// Throughput every second, over all measured repetitions back to back.
    pub series: Vec<Sample>,
    /// The histograms behind `latency` (microseconds), for `.hgrm` files; empty when read
    /// back from `report.json`.
    #[serde(skip)]
    pub histograms: BTreeMap<String, Histogram<u64>>,
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BenchReport {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// Provenance.
    pub meta: RunMeta,
    /// Warm-up repetitions per case (not measured).
    pub warmup: u32,
    /// Measured repetitions per case.
    pub reps: u32,
    /// Every case, in sweep order.
    pub cases: Vec<CaseResult>,
}
