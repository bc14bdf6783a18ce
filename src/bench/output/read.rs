//! Reading `report.json` back: [`ReportFile`] mirrors what [`crate::bench::model::BenchReport`]
//! serializes (everything but the raw histograms), for `volcrypt report compare` and
//! `volcrypt plan`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::bench::error::BenchError;
use crate::bench::model::{Case, Rep, RunMeta, Sample, REPORT_VERSION};

/// One percentile of a stage's latency, as written to `report.json`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct PercentileFile {
    /// The percentile, 0-100.
    pub percentile: f64,
    /// Its latency, microseconds.
    pub value_us: u64,
}

/// A stage's latency summary, as written to `report.json` (microseconds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LatencyFile {
    /// Recorded latencies.
    pub count: u64,
    /// Smallest.
    pub min_us: u64,
    /// Largest.
    pub max_us: u64,
    /// Mean.
    pub mean_us: f64,
    /// Standard deviation.
    pub stdev_us: f64,
    /// At fio's percentiles.
    pub percentiles: Vec<PercentileFile>,
}

impl LatencyFile {
    /// The latency at percentile `p` (one of fio's list, e.g. `99.9`), if recorded.
    pub fn at(&self, p: f64) -> Option<u64> {
        self.percentiles
            .iter()
            .find(|x| (x.percentile - p).abs() < 1e-9)
            .map(|x| x.value_us)
    }
}

/// One case of `report.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CaseFile {
    /// What was run.
    pub case: Case,
    /// Measured repetitions.
    pub reps: Vec<Rep>,
    /// Median throughput, bytes/s (`kms`: requests/s).
    pub bw_median: f64,
    /// Lowest repetition throughput.
    pub bw_min: f64,
    /// Highest repetition throughput.
    pub bw_max: f64,
    /// Median operations per second.
    pub iops_median: f64,
    /// Latency per stage name.
    pub latency: BTreeMap<String, LatencyFile>,
    /// Throughput every second.
    pub series: Vec<Sample>,
}

/// A whole `report.json`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReportFile {
    /// Layout version (at most [`REPORT_VERSION`]).
    pub report_version: u32,
    /// Provenance.
    pub meta: RunMeta,
    /// Warm-up repetitions per case.
    pub warmup: u32,
    /// Measured repetitions per case.
    pub reps: u32,
    /// Every case, in sweep order.
    pub cases: Vec<CaseFile>,
}

/// Reads `report.json` from the results directory `path` (or from `path` itself when it is a
/// file).
pub fn read_report(path: &Path) -> Result<ReportFile, BenchError> {
    let file: PathBuf = if path.is_dir() {
        path.join("report.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|source| BenchError::Io {
        path: file.clone(),
        source,
    })?;
    let report: ReportFile = serde_json::from_str(&text).map_err(|source| BenchError::Json {
        path: file.clone(),
        source,
    })?;
    if report.report_version > REPORT_VERSION {
        return Err(BenchError::ReportVersion {
            path: file,
            found: report.report_version,
            supported: REPORT_VERSION,
        });
    }
    Ok(report)
}
