//! `results.csv`: one row per case and measured repetition (RFC 4180: comma-separated, fields
//! with commas, quotes or line breaks quoted, `\n` line ends), with a header row.
//!
//! Each row names its run (`run_id`, version, commit, host), so CSV files of many runs can be
//! concatenated. `mb_s` is the repetition's bytes / secs / 10^6 (0 for `kms`); `ops_s` its
//! chunks (or requests) per second. `lat_stage` is the case's primary stage
//! ([`super::primary_stage`]: `chunk`, or `request` for `kms`) and `lat_p50_us` /
//! `lat_p99_us` its percentiles over all the case's repetitions (the same in each of its
//! rows). A case without repetitions gets one row with the repetition columns empty.

use std::fmt::Write as _;

use super::primary_stage;
use crate::bench::model::{BenchReport, Rep};

/// The header row's column names, in order.
pub const COLUMNS: [&str; 22] = [
    "run_id",
    "volcrypt_version",
    "git_commit",
    "host",
    "label",
    "workload",
    "job",
    "size",
    "threads",
    "chunk_size",
    "io",
    "backend",
    "resilience",
    "rep",
    "bytes",
    "ops",
    "secs",
    "mb_s",
    "ops_s",
    "lat_stage",
    "lat_p50_us",
    "lat_p99_us",
];

/// `s` as one CSV field: quoted (with inner quotes doubled) when it holds a comma, a quote or
/// a line break.
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `a / b`, or 0 when `b` is not positive.
fn per(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// The whole `results.csv`.
pub fn render(report: &BenchReport) -> String {
    let m = &report.meta;
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for r in &report.cases {
        let c = &r.case;
        let stage = primary_stage(&c.workload, &r.latency);
        let stats = stage.and_then(|s| r.latency.get(s));
        let pct = |p: f64| {
            stats
                .and_then(|s| s.at(p))
                .map_or(String::new(), |v| v.to_string())
        };
        let fixed = [
            field(&m.run_id),
            field(&m.volcrypt_version),
            field(&m.git_commit),
            field(&m.host),
            field(&c.label()),
            field(&c.workload),
            field(&c.job),
            c.size.to_string(),
            c.threads.to_string(),
            c.chunk_size.to_string(),
            field(&c.io),
            field(&c.backend),
            field(&c.resilience),
        ]
        .join(",");
        let tail = [field(stage.unwrap_or("")), pct(50.0), pct(99.0)].join(",");
        let reps: Vec<Option<(usize, &Rep)>> = if r.reps.is_empty() {
            vec![None]
        } else {
            r.reps.iter().enumerate().map(Some).collect()
        };
        for rep in reps {
            let middle = match rep {
                Some((i, x)) => format!(
                    "{},{},{},{:.6},{:.3},{:.3}",
                    i + 1,
                    x.bytes,
                    x.ops,
                    x.secs,
                    per(x.bytes as f64, x.secs) / 1e6,
                    per(x.ops as f64, x.secs)
                ),
                None => ",,,,,".to_string(),
            };
            let _ = writeln!(out, "{fixed},{middle},{tail}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
