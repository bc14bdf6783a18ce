//! `volcrypt report compare A B`: two runs side by side, case by case, with ratios and a
//! verdict per case.
//!
//! Cases are matched by [`Case`] equality (every field: workload, job, size, threads, chunk
//! size, io engine, backend, resilience); a case present in only one run is listed apart. For
//! each matched case, with the threshold `t` percent:
//!
//! - **regression**: B's median throughput is below A's by more than `t` % (ratio B/A
//!   `< 1 - t/100`), or B's p99 latency of the primary stage ([`primary_stage`]: `chunk`,
//!   or `request` for `kms`) is above A's by more than `t` % (`> A x (1 + t/100)`);
//! - **better**: not a regression, and B's throughput is above A's by more than `t` %;
//! - **ok**: otherwise (within the noise band).
//!
//! A missing p99 on either side (no histogram), or a different primary stage, leaves only the
//! throughput test.

use serde::Serialize;

use super::model::{Case, RunMeta};
use super::output::{primary_stage, CaseFile, ReportFile};

/// Default regression threshold, percent.
pub const DEFAULT_THRESHOLD_PCT: f64 = 5.0;

/// The verdict on one matched case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Throughput fell, or p99 latency rose, beyond the threshold.
    Regression,
    /// Throughput rose beyond the threshold, with no latency regression.
    Better,
    /// Within the threshold.
    Ok,
}

impl Verdict {
    /// How the Markdown table shows it.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Better => "better",
            Verdict::Ok => "ok",
        }
    }
}

/// One matched case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// [`Case::label`], made unique within the comparison when needed.
    pub label: String,
    /// The case.
    pub case: Case,
    /// A's median throughput (bytes/s; requests/s for `kms`).
    pub a_bw: f64,
    /// B's median throughput.
    pub b_bw: f64,
    /// `b_bw / a_bw` (absent when A measured 0).
    pub ratio: Option<f64>,
    /// A's p99 latency of the primary stage, microseconds.
    pub a_p99_us: Option<u64>,
    /// B's p99 latency of the primary stage, microseconds.
    pub b_p99_us: Option<u64>,
    /// Why it is a regression (empty otherwise).
    pub reasons: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
}

/// A case present in one run only.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmatched {
    /// [`Case::label`].
    pub label: String,
    /// The case.
    pub case: Case,
}

/// Provenance of one side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// Run id.
    pub run_id: String,
    /// volcrypt version.
    pub volcrypt_version: String,
    /// Git commit.
    pub git_commit: String,
    /// Host.
    pub host: String,
    /// CPU model.
    pub cpu_model: String,
}

impl From<&RunMeta> for Side {
    fn from(m: &RunMeta) -> Self {
        Side {
            run_id: m.run_id.clone(),
            volcrypt_version: m.volcrypt_version.clone(),
            git_commit: m.git_commit.clone(),
            host: m.host.clone(),
            cpu_model: m.cpu_model.clone(),
        }
    }
}

/// The whole comparison (`--json` prints this).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline.
    pub a: Side,
    /// The candidate.
    pub b: Side,
    /// Threshold, percent.
    pub threshold_pct: f64,
    /// Matched cases, in A's order.
    pub rows: Vec<Row>,
    /// Number of rows with [`Verdict::Regression`].
    pub regressions: usize,
    /// Cases only in A.
    pub only_a: Vec<Unmatched>,
    /// Cases only in B.
    pub only_b: Vec<Unmatched>,
    /// Caveats (different hosts or CPUs).
    pub notes: Vec<String>,
}

impl Comparison {
    /// Whether any matched case regressed (the CLI exits 1 then).
    pub fn has_regression(&self) -> bool {
        self.regressions > 0
    }
}

/// Compares `b` against the baseline `a` at `threshold_pct` percent.
pub fn compare(a: &ReportFile, b: &ReportFile, threshold_pct: f64) -> Comparison {
    let t = threshold_pct / 100.0;
    let mut used = vec![false; b.cases.len()];
    let mut rows = Vec::new();
    let mut only_a = Vec::new();
    for ca in &a.cases {
        let found = b
            .cases
            .iter()
            .enumerate()
            .position(|(i, cb)| !used[i] && cb.case == ca.case);
        match found {
            Some(i) => {
                used[i] = true;
                rows.push(row(ca, &b.cases[i], t));
            }
            None => only_a.push(unmatched(ca)),
        }
    }
    let only_b: Vec<Unmatched> = b
        .cases
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(c, _)| unmatched(c))
        .collect();
    disambiguate(&mut rows);
    let mut notes = Vec::new();
    if a.meta.host != b.meta.host {
        notes.push(format!(
            "different hosts: {} vs {}",
            a.meta.host, b.meta.host
        ));
    }
    if a.meta.cpu_model != b.meta.cpu_model {
        notes.push(format!(
            "different CPUs: {} vs {}",
            a.meta.cpu_model, b.meta.cpu_model
        ));
    }
    Comparison {
        a: Side::from(&a.meta),
        b: Side::from(&b.meta),
        threshold_pct,
        regressions: rows
            .iter()
            .filter(|r| r.verdict == Verdict::Regression)
            .count(),
        rows,
        only_a,
        only_b,
        notes,
    }
}

fn unmatched(c: &CaseFile) -> Unmatched {
    Unmatched {
        label: c.case.label(),
        case: c.case.clone(),
    }
}

/// The primary stage's name and its 99th percentile (microseconds), if recorded.
pub fn p99(c: &CaseFile) -> Option<(&str, u64)> {
    let stage = primary_stage(&c.case.workload, &c.latency)?;
    let stats = c.latency.get(stage).filter(|s| s.count > 0)?;
    Some((stage, stats.at(99.0)?))
}

/// One matched case; `t` is the threshold as a fraction.
fn row(a: &CaseFile, b: &CaseFile, t: f64) -> Row {
    let ratio = (a.bw_median > 0.0).then(|| b.bw_median / a.bw_median);
    let (pa, pb) = (p99(a), p99(b));
    let (a_p99, b_p99) = (pa.map(|p| p.1), pb.map(|p| p.1));
    let mut reasons = Vec::new();
    if let Some(r) = ratio.filter(|r| *r < 1.0 - t) {
        reasons.push(format!("throughput {:+.1} %", (r - 1.0) * 100.0));
    }
    // Compared only when both runs summarize the same stage.
    if let (Some((stage, pa)), Some((stage_b, pb))) = (pa, pb) {
        if stage == stage_b && pb as f64 > pa as f64 * (1.0 + t) {
            let rise = if pa == 0 {
                "from 0".to_string()
            } else {
                format!("{:+.1} %", (pb as f64 / pa as f64 - 1.0) * 100.0)
            };
            reasons.push(format!("p99 {stage} latency {rise}"));
        }
    }
    let verdict = if !reasons.is_empty() {
        Verdict::Regression
    } else if ratio.is_some_and(|r| r > 1.0 + t) {
        Verdict::Better
    } else {
        Verdict::Ok
    };
    Row {
        label: a.case.label(),
        case: a.case.clone(),
        a_bw: a.bw_median,
        b_bw: b.bw_median,
        ratio,
        a_p99_us: a_p99,
        b_p99_us: b_p99,
        reasons,
        verdict,
    }
}

/// [`Case::label`] omits the workload, size and resilience; when two rows share a label,
/// those are appended to each of them.
fn disambiguate(rows: &mut [Row]) {
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    for r in rows.iter_mut() {
        if labels.iter().filter(|l| **l == r.label).count() > 1 {
            r.label = format!(
                "{} ({}, {} B, {})",
                r.label, r.case.workload, r.case.size, r.case.resilience
            );
        }
    }
}

/// A throughput for a table cell: MB/s (10^6 bytes, as fio's second figure) for data
/// workloads, req/s for `kms`.
pub fn rate(case: &Case, v: f64) -> String {
    if case.workload == "kms" {
        format!("{v:.0} req/s")
    } else {
        format!("{:.1} MB/s", v / 1e6)
    }
}

fn opt_us(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn side_line(name: &str, s: &Side) -> String {
    format!(
        "- {name}: `{}` (volcrypt {}, commit {}, host {}, {})\n",
        s.run_id, s.volcrypt_version, s.git_commit, s.host, s.cpu_model
    )
}

/// The comparison as Markdown: provenance, the side-by-side table, unmatched cases.
pub fn markdown(c: &Comparison) -> String {
    let mut out = String::from("# volcrypt report compare\n\n");
    out.push_str(&side_line("A (baseline)", &c.a));
    out.push_str(&side_line("B", &c.b));
    out.push_str(&format!(
        "- threshold: {} % (REGRESSION: throughput down, or p99 latency up, by more)\n",
        c.threshold_pct
    ));
    for n in &c.notes {
        out.push_str(&format!("- note: {n}\n"));
    }
    out.push_str(
        "\n| case | A | B | B/A | p99 A/B (µs) | verdict |\n|---|---:|---:|---:|---:|---|\n",
    );
    for r in &c.rows {
        let ratio = r
            .ratio
            .map_or_else(|| "-".to_string(), |x| format!("{x:.3}"));
        let why = if r.reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", r.reasons.join("; "))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {ratio} | {}/{} | {}{why} |\n",
            r.label,
            rate(&r.case, r.a_bw),
            rate(&r.case, r.b_bw),
            opt_us(r.a_p99_us),
            opt_us(r.b_p99_us),
            r.verdict.word(),
        ));
    }
    out.push_str(&format!(
        "\n{} case(s) compared, {} regression(s).\n",
        c.rows.len(),
        c.regressions
    ));
    for (name, list) in [("A", &c.only_a), ("B", &c.only_b)] {
        if !list.is_empty() {
            out.push_str(&format!("\nOnly in {name}:\n"));
            for u in list {
                out.push_str(&format!(
                    "- {} ({}, {} B, {})\n",
                    u.label, u.case.workload, u.case.size, u.case.resilience
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
