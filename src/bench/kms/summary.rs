//! The human summary of a KMS bench run, in fio's shape: one
//! `kms <Op>: IOPS=…, lat (usec): min=…, max=…, avg=…, stdev=…` block per operation with its
//! `clat percentiles (usec):` lines, then the errors by code.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::BenchResult;
use crate::bench::report::{fio_percentile_lines, LatencyStats};

/// fio's IOPS notation: up to 4 digits as is, then `66.4k`, `150k`, `1.2M`.
pub(crate) fn fio_count(v: f64) -> String {
    let (scaled, suffix) = if v < 10_000.0 {
        return format!("{}", v.round() as u64);
    } else if v < 10_000_000.0 {
        (v / 1e3, "k")
    } else {
        (v / 1e6, "M")
    };
    if scaled < 100.0 {
        format!("{scaled:.1}{suffix}")
    } else {
        format!("{}{suffix}", scaled.round() as u64)
    }
}

fn block(
    out: &mut String,
    name: &str,
    req_per_sec: f64,
    requests: u64,
    secs: f64,
    lat: &LatencyStats,
) {
    let _ = writeln!(
        out,
        "kms {name}: IOPS={}, lat (usec): min={}, max={}, avg={:.2}, stdev={:.2}",
        fio_count(req_per_sec),
        lat.min_us,
        lat.max_us,
        lat.mean_us,
        lat.stdev_us
    );
    let _ = writeln!(
        out,
        "    requests: {requests} ok in {:.0}msec ({req_per_sec:.1} req/s)",
        secs * 1000.0
    );
    out.push_str(&fio_percentile_lines(lat));
}

fn counts(out: &mut String, title: &str, map: &BTreeMap<String, u64>) {
    let total: u64 = map.values().sum();
    let _ = write!(out, "  {title}: {total}");
    if !map.is_empty() {
        let list: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = write!(out, " ({})", list.join(", "));
    }
    out.push('\n');
}

/// The text printed after a run (and written to `summary.txt`).
pub fn summary_text(r: &BenchResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "volcrypt bench kms: {} against {}, key {}{}, {} connections, {} client thread{}, \
         {:.1} s measured after {:.1} s warm-up",
        r.workload,
        r.endpoint,
        r.key_id,
        if r.key_created { " (created)" } else { "" },
        r.connections,
        r.client_threads,
        if r.client_threads == 1 { "" } else { "s" },
        r.duration_s,
        r.warmup_s
    );
    for op in &r.operations {
        block(
            &mut out,
            op.operation,
            op.req_per_sec,
            op.requests,
            r.duration_s,
            &op.latency,
        );
    }
    if r.operations.len() > 1 {
        block(
            &mut out,
            "all",
            r.req_per_sec,
            r.requests,
            r.duration_s,
            &r.latency,
        );
    }
    counts(&mut out, "errors by __type (after warm-up)", &r.errors);
    if !r.warmup_errors.is_empty() {
        counts(&mut out, "errors during warm-up", &r.warmup_errors);
    }
    let _ = writeln!(out, "  reconnects: {}", r.reconnects);
    out
}
