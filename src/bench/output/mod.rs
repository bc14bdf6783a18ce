//! The files of a benchmark run: [`write_all`] turns a [`BenchReport`] into everything under
//! `results/<run-id>/`, and [`read_report`] reads `report.json` back.
//!
//! | file | module | what |
//! |---|---|---|
//! | `summary.txt` | [`fio`] | fio's normal output per case (`write: IOPS=…, BW=…`, clat percentiles) |
//! | `report.json` | here | the [`BenchReport`] itself (`schemas/bench-report.schema.json`) |
//! | `fio.json` | [`fio_json`] | fio's `--output-format=json` shape (`schemas/fio.schema.json`) |
//! | `results.csv` | [`csv`] | one row per case and repetition |
//! | `<label>-<stage>.hgrm` | here | HdrHistogram percentile distributions, microseconds |
//! | `report.md` | [`markdown`] | provenance, tables, links to the plots and files |
//! | `*.svg` | [`svg`] | throughput vs threads and chunk size, latency percentiles, throughput over time |
//!
//! Every file records the provenance of [`crate::bench::model::RunMeta`] (version, commit,
//! host, CPU model and flags, kernel, spec); `results.csv` names the run in every row.

pub mod csv;
pub mod fio;
pub mod fio_json;
pub mod markdown;
mod read;
pub mod svg;
mod svg_chart;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_util;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::error::BenchError;
use super::model::{BenchReport, Case};
use super::report::hgrm;

pub use read::{read_report, CaseFile, LatencyFile, PercentileFile, ReportFile};

/// Order in which stages are listed: the engine's pipeline order, then anything else by name.
const STAGE_ORDER: [&str; 8] = [
    "request",
    "read",
    "chunk",
    "cipher",
    "journal_commit",
    "apply",
    "checkpoint",
    "kms_call",
];

/// How fio would name a case's data direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Data read and checked (`verify`).
    Read,
    /// Data written (`encrypt`, `rekey`, `rewrap`, `decrypt`, `cipher`).
    Write,
    /// KMS requests (`kms`): no data bytes, throughput in requests/s.
    Requests,
}

impl Direction {
    /// The direction of `case`'s workload.
    pub fn of(case: &Case) -> Self {
        match case.workload.as_str() {
            "verify" => Direction::Read,
            "kms" => Direction::Requests,
            _ => Direction::Write,
        }
    }

    /// fio's name for it (`read`, `write`), or `requests`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Read => "read",
            Direction::Write => "write",
            Direction::Requests => "requests",
        }
    }
}

/// The stage whose latency stands for one operation of the case (fio's `clat`): `request`
/// for `kms`, else `chunk` (one chunk sealed or opened), else the first stage recorded.
pub fn primary_stage<'a, T>(workload: &str, latency: &'a BTreeMap<String, T>) -> Option<&'a str> {
    let preferred = if workload == "kms" {
        "request"
    } else {
        "chunk"
    };
    latency
        .get_key_value(preferred)
        .or_else(|| ordered_stages(latency).into_iter().next())
        .map(|(k, _)| k.as_str())
}

/// The stages of `latency` in pipeline order: `request`, `read`, `chunk`, `cipher`,
/// `journal_commit`, `apply`, `checkpoint`, `kms_call`, then any other by name.
pub fn ordered_stages<T>(latency: &BTreeMap<String, T>) -> Vec<(&String, &T)> {
    let mut v: Vec<(&String, &T)> = latency.iter().collect();
    v.sort_by_key(|(k, _)| {
        let rank = STAGE_ORDER.iter().position(|s| s == k);
        (rank.unwrap_or(STAGE_ORDER.len()), (*k).clone())
    });
    v
}

/// `s` made safe as part of a file name: ASCII letters, digits, `.`, `_` and `-` are kept,
/// anything else becomes `_`.
pub fn file_safe(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => c,
            _ => '_',
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        format!("_{out}")
    } else {
        out
    }
}

/// One name per case, in order: its [`Case::label`] made [`file_safe`], with `-2`, `-3`, …
/// appended where two cases would otherwise share one (the label leaves out size and
/// resilience). Used for `.hgrm` file names and plot legends.
pub fn case_names(cases: &[Case]) -> Vec<String> {
    let mut seen = HashSet::new();
    cases
        .iter()
        .map(|c| {
            let base = file_safe(&c.label());
            let mut name = base.clone();
            let mut n = 1;
            while !seen.insert(name.clone()) {
                n += 1;
                name = format!("{base}-{n}");
            }
            name
        })
        .collect()
}

/// Writes every results file of `report` into `dir` (created if missing) and returns their
/// paths, in writing order: `report.json`, `fio.json`, `summary.txt`, `results.csv`, the
/// `.hgrm` files, the SVG plots, and last `report.md` (which links the rest).
pub fn write_all(report: &BenchReport, dir: &Path) -> Result<Vec<PathBuf>, BenchError> {
    std::fs::create_dir_all(dir).map_err(|source| BenchError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let cases: Vec<Case> = report.cases.iter().map(|c| c.case.clone()).collect();
    let names = case_names(&cases);
    let mut written = Vec::new();
    let mut put = |name: &str, text: &str| -> Result<(), BenchError> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| BenchError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
        Ok(())
    };

    let json = serde_json::to_string_pretty(report).map_err(|source| BenchError::Json {
        path: dir.join("report.json"),
        source,
    })?;
    put("report.json", &(json + "\n"))?;
    let fio = serde_json::to_string_pretty(&fio_json::render(report)).map_err(|source| {
        BenchError::Json {
            path: dir.join("fio.json"),
            source,
        }
    })?;
    put("fio.json", &(fio + "\n"))?;
    put("summary.txt", &fio::summary(report))?;
    put("results.csv", &csv::render(report))?;

    let mut hgrms = Vec::new();
    for (result, name) in report.cases.iter().zip(&names) {
        for (stage, h) in ordered_stages(&result.histograms) {
            let file = format!("{name}-{}.hgrm", file_safe(stage));
            put(&file, &hgrm(h, 1.0, 5))?;
            hgrms.push(file);
        }
    }

    let plots = svg::render_all(report, &names)?;
    for p in &plots {
        put(&p.file, &p.svg)?;
    }
    put(
        "report.md",
        &markdown::render(report, &names, &plots, &hgrms),
    )?;
    Ok(written)
}
