//! `summary.txt`: fio's normal (human) output, one job block per case, plus a
//! `cryptsetup benchmark`-style table for the memory-only `cipher` cases.
//!
//! Per case (fio's `show_thread_status_normal` / `show_ddir_status` / `show_group_stats`):
//!
//! ```text
//! encrypt: (groupid=0, jobs=2): err= 0: encrypt-t2-c64K-uring-ring
//!   write: IOPS=9857, BW=616MiB/s (646MB/s)(1848MiB/3000msec)
//!    bw (  MiB/s): min=  590, max=  640, avg=616.21, stdev=20.11, samples=3
//!   stage chunk: seal/open of one chunk
//!     clat (usec): min=40, max=1200, avg=101.50, stdev=20.30, samples=29568
//!     clat percentiles (usec):
//!      |  1.00th=[   60], …
//! Run status group 0 (all jobs):
//!   WRITE: bw=616MiB/s (646MB/s), 590MiB/s-640MiB/s (619MB/s-671MB/s), io=1848MiB (1938MB), run=980-1020msec
//! ```
//!
//! `BW` is the median of the measured repetitions; `io` and the `(…/…msec)` runtime are the
//! totals over them; the `bw` line summarizes the one-second time series. `kms` cases print
//! `requests: IOPS=…` instead (requests/s; no bytes).

use std::fmt::Write as _;

use super::{ordered_stages, Direction};
use crate::bench::model::{BenchReport, CaseResult};
use crate::bench::report::{fio_percentile_lines, LatencyStats};

/// fio's `num2str` with `base` 1: `num` in at most `maxlen` digits, scaled by 1000 (`pow2`
/// false: `k`, `M`, …) or 1024 (`Ki`, `Mi`, …), with as many decimals as fit, then `unit`.
/// fio prints IOPS and bandwidth with `maxlen` 4 (`sig_figs`): `623KiB/s`, `30.4MiB`.
pub fn num2str(num: u64, maxlen: usize, pow2: bool, unit: &str) -> String {
    const SI: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    const IEC: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    let prefixes = if pow2 { &IEC } else { &SI };
    let thousand: u64 = if pow2 { 1024 } else { 1000 };
    let mut num = num;
    let mut post = 0usize;
    let mut modulo: Option<u64> = None;
    let mut carry = false;
    while post < prefixes.len() && num.to_string().len() > maxlen {
        let m = num % thousand;
        modulo = Some(m);
        num /= thousand;
        carry = m >= thousand / 2;
        post += 1;
    }
    if post >= prefixes.len() {
        post = 0;
    }
    let Some(modulo) = modulo else {
        return format!("{num}{}{unit}", prefixes[post]);
    };
    let digits = num.to_string().len();
    if maxlen <= digits + 1 {
        let num = if carry { num + 1 } else { num };
        return format!("{num}{}{unit}", prefixes[post]);
    }
    let decimals = maxlen - digits - 1;
    let frac = format!("{:.*}", decimals, modulo as f64 / thousand as f64);
    let num = if frac.starts_with('1') { num + 1 } else { num };
    let frac = frac.get(2..).unwrap_or("");
    format!("{num}.{frac}{}{unit}", prefixes[post])
}

/// A rate or count rounded to a whole number (negative and non-finite values are 0).
fn whole(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

/// `616MiB/s (646MB/s)`: a byte rate in fio's binary units with the decimal in parentheses.
fn bw_pair(bytes_per_sec: f64) -> String {
    let bw = whole(bytes_per_sec);
    format!(
        "{} ({})",
        num2str(bw, 4, true, "B/s"),
        num2str(bw, 4, false, "B/s")
    )
}

/// Mean and standard deviation (population) of `xs`; zeros when empty.
pub(crate) fn mean_stdev(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// What a stage's latency measures, for the summary.
fn stage_description(stage: &str) -> &'static str {
    match stage {
        "read" => "read of one window",
        "chunk" => "seal/open of one chunk",
        "cipher" => "seal/open of one window",
        "journal_commit" => "journal write + sync of one window",
        "apply" => "in-place write of one window",
        "checkpoint" => "checkpoint fsync",
        "kms_call" => "one KMS call",
        "request" => "one KMS request",
        _ => "",
    }
}

/// fio's `display_lat` line: `    clat (usec): min=…, max=…, avg=…, stdev=…`.
fn clat_line(s: &LatencyStats) -> String {
    format!(
        "    clat (usec): min={}, max={}, avg={:5.2}, stdev={:5.2}, samples={}\n",
        num2str(s.min_us, 6, false, ""),
        num2str(s.max_us, 6, false, ""),
        s.mean_us,
        s.stdev_us,
        s.count
    )
}

/// The job block of one case (see the module documentation).
fn case_block(out: &mut String, group: usize, r: &CaseResult, name: &str) {
    let c = &r.case;
    let dir = Direction::of(c);
    let _ = writeln!(
        out,
        "{}: (groupid={group}, jobs={}): err= 0: {name}",
        c.job, c.threads
    );
    let bytes: u64 = r.reps.iter().map(|x| x.bytes).sum();
    let ops: u64 = r.reps.iter().map(|x| x.ops).sum();
    let ms: u64 = whole(r.reps.iter().map(|x| x.secs).sum::<f64>() * 1000.0);
    let iops = num2str(whole(r.iops_median), 4, false, "");
    let rates: Vec<f64> = r.series.iter().map(|s| s.rate).collect();
    let (avg, dev) = mean_stdev(&rates);
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    if dir == Direction::Requests {
        let total = num2str(ops, 4, false, "");
        let _ = writeln!(out, "  requests: IOPS={iops}, ({total}/{ms}msec)");
        if !rates.is_empty() {
            let _ = writeln!(
                out,
                "   iops        : min={:5}, max={:5}, avg={avg:.2}, stdev={dev:.2}, samples={}",
                whole(lo),
                whole(hi),
                rates.len()
            );
        }
    } else {
        let io = num2str(bytes, 4, true, "B");
        let _ = writeln!(
            out,
            "  {}: IOPS={iops}, BW={}({io}/{ms}msec)",
            dir.name(),
            bw_pair(r.bw_median)
        );
        if !rates.is_empty() {
            let mib = f64::from(1u32 << 20);
            let _ = writeln!(
                out,
                "   bw (  MiB/s): min={:5}, max={:5}, avg={:.2}, stdev={:.2}, samples={}",
                whole(lo / mib),
                whole(hi / mib),
                avg / mib,
                dev / mib,
                rates.len()
            );
        }
    }
    for (stage, stats) in ordered_stages(&r.latency) {
        let _ = writeln!(out, "  stage {stage}: {}", stage_description(stage));
        out.push_str(&clat_line(stats));
        out.push_str(&fio_percentile_lines(stats));
    }
    let _ = writeln!(out, "Run status group {group} (all jobs):");
    let ms_of = |x: f64| whole(x * 1000.0);
    let run_lo = r.reps.iter().map(|x| ms_of(x.secs)).min().unwrap_or(0);
    let run_hi = r.reps.iter().map(|x| ms_of(x.secs)).max().unwrap_or(0);
    if dir == Direction::Requests {
        let _ = writeln!(
            out,
            "  REQUESTS: rate={}/s, {}/s-{}/s, requests={}, run={run_lo}-{run_hi}msec",
            num2str(whole(r.bw_median), 4, false, ""),
            num2str(whole(r.bw_min), 4, false, ""),
            num2str(whole(r.bw_max), 4, false, ""),
            num2str(ops, 4, false, "")
        );
    } else {
        let (lo, hi) = (whole(r.bw_min), whole(r.bw_max));
        let _ = writeln!(
            out,
            "  {:>5}: bw={}, {}-{} ({}-{}), io={} ({}), run={run_lo}-{run_hi}msec",
            dir.name().to_uppercase(),
            bw_pair(r.bw_median),
            num2str(lo, 4, true, "B/s"),
            num2str(hi, 4, true, "B/s"),
            num2str(lo, 4, false, "B/s"),
            num2str(hi, 4, false, "B/s"),
            num2str(bytes, 4, true, "B"),
            num2str(bytes, 4, false, "B"),
        );
    }
    out.push('\n');
}

/// `cryptsetup benchmark`'s table for the `cipher` cases (MiB/s, memory only), or nothing.
fn cipher_table(report: &BenchReport) -> String {
    let rows: Vec<&CaseResult> = report
        .cases
        .iter()
        .filter(|r| r.case.workload == "cipher")
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from("# Tests are approximate using memory only (no storage IO).\n");
    out.push_str("#     Algorithm |       Key |    Chunk | Threads |  Backend |      Throughput\n");
    for r in rows {
        let c = &r.case;
        let _ = writeln!(
            out,
            "{:>15} {:>11} {:>10} {:>9} {:>10} {:>11.1} MiB/s",
            "aes-256-gcm",
            "256b",
            num2str(c.chunk_size, 4, true, "B"),
            c.threads,
            c.backend,
            r.bw_median / f64::from(1u32 << 20)
        );
    }
    out.push('\n');
    out
}

/// The whole `summary.txt`: a provenance header, the `cipher` table, one block per case,
/// and the spec.
pub fn summary(report: &BenchReport) -> String {
    let m = &report.meta;
    let mut out = format!(
        "volcrypt-{} (commit {}) bench run {}\n",
        m.volcrypt_version, m.git_commit, m.run_id
    );
    let _ = writeln!(out, "host: {}, kernel: {}", m.host, m.kernel);
    let _ = writeln!(
        out,
        "cpu: {} ({} CPUs), flags: {}",
        m.cpu_model,
        m.cpus,
        m.cpu_flags.join(" ")
    );
    let _ = writeln!(
        out,
        "started: {}, warm-up runs: {}, measured repetitions: {}\n",
        m.started, report.warmup, report.reps
    );
    out.push_str(&cipher_table(report));
    let cases: Vec<_> = report.cases.iter().map(|r| r.case.clone()).collect();
    let names = super::case_names(&cases);
    for (group, (r, name)) in report.cases.iter().zip(&names).enumerate() {
        case_block(&mut out, group, r, name);
    }
    out.push_str("spec:\n");
    for line in m.spec.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num2str_matches_fio() {
        // Values from fio's documented output (HOWTO "Interpreting the output").
        assert_eq!(num2str(623 * 1024 + 900, 4, true, "B/s"), "624KiB/s");
        assert_eq!(num2str(638_000, 4, false, "B/s"), "638kB/s");
        assert_eq!(num2str(1231 * 1024, 4, true, "B/s"), "1231KiB/s");
        assert_eq!(num2str(88, 4, false, ""), "88");
        assert_eq!(num2str(31_876_710, 4, true, "B"), "30.4MiB");
        assert_eq!(num2str(12_345, 4, false, ""), "12.3k");
        assert_eq!(num2str(0, 4, false, ""), "0");
        assert_eq!(num2str(64 << 20, 4, true, "B"), "64.0MiB");
        assert_eq!(num2str(67_108_864, 4, false, "B"), "67.1MB");
        assert_eq!(num2str(999_999, 6, false, ""), "999999");
        // 1.9995k rounds its decimals up into the integer part, as fio does.
        assert_eq!(num2str(19_999, 4, false, ""), "20.0k");
    }

    #[test]
    fn mean_and_stdev() {
        assert_eq!(mean_stdev(&[]), (0.0, 0.0));
        let (m, s) = mean_stdev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert!(
            (m - 5.0).abs() < 1e-12 && (s - 2.0).abs() < 1e-12,
            "{m} {s}"
        );
    }
}
