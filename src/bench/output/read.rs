//! Reading `report.json` back into the model ([`BenchReport`], histograms left empty), for
//! `volcrypt report compare` and `volcrypt plan`; a newer layout version is refused.

use std::path::{Path, PathBuf};

use crate::bench::error::BenchError;
use crate::bench::model::{BenchReport, CaseResult, REPORT_VERSION};
use crate::bench::report::{LatencyStats, Percentile};

/// A whole `report.json`: the model, without the raw histograms.
pub type ReportFile = BenchReport;
/// One case of `report.json`.
pub type CaseFile = CaseResult;
/// A stage's latency summary in `report.json` (microseconds).
pub type LatencyFile = LatencyStats;
/// One percentile of a stage's latency in `report.json`.
pub type PercentileFile = Percentile;

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
