//! `report.md`: the run for people. Provenance (every [`crate::bench::model::RunMeta`]
//! field), a table of cases (throughput median and min-max, IOPS, p50 / p99 / p99.9 of the
//! primary stage), per-stage latencies, the plots, links to the other files, and the full
//! spec in a code block.

use std::fmt::Write as _;

use super::svg::{fmt_size, Plot};
use super::{ordered_stages, primary_stage, Direction};
use crate::bench::model::{BenchReport, CaseResult};

/// `s` safe inside a table cell: `|` escaped, line breaks made spaces.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A code fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// Throughput of a case for the table: `1234.5 MB/s`, or `5678 req/s` for `kms`.
fn rate(r: &CaseResult, v: f64) -> String {
    match Direction::of(&r.case) {
        Direction::Requests => format!("{v:.0} req/s"),
        _ => format!("{:.1} MB/s", v / 1e6),
    }
}

/// A percentile of the case's primary stage, or `-`.
fn pct(r: &CaseResult, p: f64) -> String {
    primary_stage(&r.case.workload, &r.latency)
        .and_then(|s| r.latency.get(s))
        .and_then(|s| s.at(p))
        .map_or("-".into(), |v| v.to_string())
}

/// The provenance table.
fn provenance(out: &mut String, report: &BenchReport) {
    let m = &report.meta;
    let rows = [
        ("run", m.run_id.clone()),
        ("volcrypt", m.volcrypt_version.clone()),
        ("commit", m.git_commit.clone()),
        ("host", m.host.clone()),
        ("CPU", format!("{} ({} CPUs)", m.cpu_model, m.cpus)),
        ("CPU flags", m.cpu_flags.join(" ")),
        ("kernel", m.kernel.clone()),
        ("started", m.started.clone()),
        (
            "warm-up / measured repetitions",
            format!("{} / {}", report.warmup, report.reps),
        ),
    ];
    out.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
    }
    out.push('\n');
}

/// The cases table.
fn cases_table(out: &mut String, report: &BenchReport, names: &[String]) {
    out.push_str("## Results\n\n");
    out.push_str(
        "Throughput is the median of the measured repetitions (min-max beside it); latency is \
         the case's primary stage (`chunk`: one chunk sealed or opened; `request`: one KMS \
         request), in µs.\n\n",
    );
    out.push_str(
        "| case | job | workload | size | threads | chunk | io | backend | resilience | throughput | \
         min-max | IOPS | stage | p50 µs | p99 µs | p99.9 µs |\n",
    );
    out.push_str("|---|---|---|---:|---:|---:|---|---|---|---:|---:|---:|---|---:|---:|---:|\n");
    for (r, name) in report.cases.iter().zip(names) {
        let c = &r.case;
        let chunk = if c.chunk_size == 0 {
            "-".to_string()
        } else {
            fmt_size(c.chunk_size as f64)
        };
        let range = match Direction::of(c) {
            Direction::Requests => format!("{:.0}-{:.0}", r.bw_min, r.bw_max),
            _ => format!("{:.1}-{:.1}", r.bw_min / 1e6, r.bw_max / 1e6),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} | {} | {} | {} |",
            cell(name),
            cell(&c.job),
            cell(&c.workload),
            fmt_size(c.size as f64),
            c.threads,
            chunk,
            cell(&c.io),
            cell(&c.backend),
            cell(&c.resilience),
            rate(r, r.bw_median),
            range,
            r.iops_median,
            primary_stage(&c.workload, &r.latency).unwrap_or("-"),
            pct(r, 50.0),
            pct(r, 99.0),
            pct(r, 99.9),
        );
    }
    out.push('\n');
}

/// Per-stage latencies of every case.
fn stages_table(out: &mut String, report: &BenchReport, names: &[String]) {
    if report.cases.iter().all(|r| r.latency.is_empty()) {
        return;
    }
    out.push_str("## Stage latencies (µs)\n\n");
    out.push_str("| case | stage | count | mean | p50 | p99 | p99.9 | max |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (r, name) in report.cases.iter().zip(names) {
        for (stage, s) in ordered_stages(&r.latency) {
            let at = |p: f64| s.at(p).map_or("-".into(), |v| v.to_string());
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {} | {} | {} | {} |",
                cell(name),
                cell(stage),
                s.count,
                s.mean_us,
                at(50.0),
                at(99.0),
                at(99.9),
                s.max_us
            );
        }
    }
    out.push('\n');
}

/// The whole `report.md`; `plots` and `hgrms` are the files written beside it.
pub fn render(report: &BenchReport, names: &[String], plots: &[Plot], hgrms: &[String]) -> String {
    let mut out = format!("# volcrypt bench: {}\n\n", report.meta.run_id);
    provenance(&mut out, report);
    cases_table(&mut out, report, names);
    stages_table(&mut out, report, names);
    if !plots.is_empty() {
        out.push_str("## Plots\n\n");
        for p in plots {
            let _ = writeln!(out, "![{}]({})\n", p.title, p.file);
        }
    }
    out.push_str("## Files\n\n");
    out.push_str("- [summary.txt](summary.txt): fio-style summary\n");
    out.push_str(
        "- [report.json](report.json): the full report (`schemas/bench-report.schema.json`)\n",
    );
    out.push_str("- [fio.json](fio.json): fio's JSON shape (`schemas/fio.schema.json`)\n");
    out.push_str("- [results.csv](results.csv): one row per case and repetition\n");
    for h in hgrms {
        let _ = writeln!(
            out,
            "- [{h}]({h}): HdrHistogram percentile distribution (µs)"
        );
    }
    let spec = &report.meta.spec;
    let f = fence(spec);
    let _ = write!(out, "\n## Spec\n\n{f}toml\n{spec}");
    if !spec.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "{f}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_fences() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("has ```` four"), "`````");
    }
}
