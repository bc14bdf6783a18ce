//! `fio.json`: the run in the shape of fio's `--output-format=json`, so tools that read fio
//! results read ours (`schemas/fio.schema.json`).
//!
//! Top level: `"fio version"` (`volcrypt-<version>`), `timestamp` (Unix seconds of the start),
//! `timestamp_ms`, `time`, `"global options"` (the run's provenance and full spec, as strings
//! like fio's options) and `jobs`, one per case. A job has `jobname`, `groupid` (the case's
//! index), `error`, `"job options"` (the case's settings) and `read` + `write` + `trim`
//! (data workloads; the unused directions are zeros, as in fio) or `mixed` alone (`kms`,
//! as fio's `unified_rw_reporting`). Each direction has `io_bytes`, `io_kbytes`, `bw_bytes`,
//! `bw` (KiB/s), `iops`, `runtime` (ms), `total_ios`, `slat_ns` / `clat_ns` / `lat_ns`
//! (`clat_ns.percentile` at fio's list, keys `"%f"`), and the time-series statistics
//! `bw_min` … `iops_samples`. `clat` is the case's primary stage ([`super::primary_stage`]);
//! every stage is also under the job's `volcrypt.stages`, in the same `clat_ns` shape.
//!
//! Throughput (`bw`, `bw_bytes`, `iops`) is the median repetition; `io_bytes`, `total_ios`
//! and `runtime` are totals over the measured repetitions.

use serde_json::{json, Map, Value};

use super::fio::mean_stdev;
use super::{ordered_stages, primary_stage, Direction};
use crate::bench::model::{BenchReport, CaseResult};
use crate::bench::report::LatencyStats;

/// A rate rounded to a whole number (negative and non-finite values are 0).
fn whole(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

/// `x`, or 0 when it is not finite (JSON has no NaN).
fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Seconds since the Unix epoch of an RFC 3339 UTC time (`2025-01-02T03:04:05Z`, fractional
/// seconds allowed), or `None` if `s` is not one.
pub fn unix_seconds(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

/// fio's latency object in nanoseconds: `{min, max, mean, stddev, N}`, plus `percentile`
/// (keys formatted `%f`, as fio does) when `percentiles` is set.
fn lat_ns(s: Option<&LatencyStats>, percentiles: bool) -> Value {
    let mut o = Map::new();
    let (min, max, mean, dev, n) = s.map_or((0, 0, 0.0, 0.0, 0), |s| {
        (s.min_us, s.max_us, s.mean_us, s.stdev_us, s.count)
    });
    o.insert("min".into(), json!(min.saturating_mul(1000)));
    o.insert("max".into(), json!(max.saturating_mul(1000)));
    o.insert("mean".into(), json!(finite(mean * 1000.0)));
    o.insert("stddev".into(), json!(finite(dev * 1000.0)));
    o.insert("N".into(), json!(n));
    if percentiles {
        let p: Map<String, Value> = s
            .map(|s| {
                s.percentiles
                    .iter()
                    .map(|p| {
                        let key = format!("{:.6}", p.percentile);
                        (key, json!(p.value_us.saturating_mul(1000)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        o.insert("percentile".into(), Value::Object(p));
    }
    Value::Object(o)
}

/// One direction object; `r` is `None` for an unused direction (all zeros).
fn direction(r: Option<&CaseResult>) -> Value {
    let Some(r) = r else {
        return direction_of(0, 0, 0.0, 0.0, 0, None, &[], &[]);
    };
    let bytes: u64 = r.reps.iter().map(|x| x.bytes).sum();
    let ops: u64 = r.reps.iter().map(|x| x.ops).sum();
    let ms = whole(r.reps.iter().map(|x| x.secs).sum::<f64>() * 1000.0);
    let clat = primary_stage(&r.case.workload, &r.latency).and_then(|k| r.latency.get(k));
    let rates: Vec<f64> = r.series.iter().map(|s| s.rate).collect();
    let (bw_series, iops_series): (Vec<f64>, Vec<f64>) = match Direction::of(&r.case) {
        Direction::Requests => (Vec::new(), rates),
        _ if r.case.chunk_size > 0 => {
            let chunk = r.case.chunk_size as f64;
            let iops = rates.iter().map(|b| b / chunk).collect();
            (rates, iops)
        }
        _ => (rates, Vec::new()),
    };
    let bw_bytes = match Direction::of(&r.case) {
        Direction::Requests => 0.0,
        _ => r.bw_median,
    };
    direction_of(
        bytes,
        ops,
        bw_bytes,
        r.iops_median,
        ms,
        clat,
        &bw_series,
        &iops_series,
    )
}

/// Builds a direction object from its numbers; `bw_series` in bytes/s, `iops_series` in
/// operations/s (fio's `bw_*` statistics are KiB/s).
#[allow(clippy::too_many_arguments)]
fn direction_of(
    bytes: u64,
    ops: u64,
    bw_bytes: f64,
    iops: f64,
    runtime_ms: u64,
    clat: Option<&LatencyStats>,
    bw_series: &[f64],
    iops_series: &[f64],
) -> Value {
    let kib: Vec<f64> = bw_series.iter().map(|b| b / 1024.0).collect();
    let (bw_mean, bw_dev) = mean_stdev(&kib);
    let (iops_mean, iops_dev) = mean_stdev(iops_series);
    let lo = |xs: &[f64]| whole(xs.iter().copied().fold(f64::INFINITY, f64::min));
    let hi = |xs: &[f64]| whole(xs.iter().copied().fold(0.0, f64::max));
    json!({
        "io_bytes": bytes,
        "io_kbytes": bytes / 1024,
        "bw_bytes": whole(bw_bytes),
        "bw": whole(bw_bytes) / 1024,
        "iops": finite(iops),
        "runtime": runtime_ms,
        "total_ios": ops,
        "short_ios": 0,
        "drop_ios": 0,
        "slat_ns": lat_ns(None, false),
        "clat_ns": lat_ns(clat, true),
        "lat_ns": lat_ns(clat, false),
        "bw_min": lo(&kib),
        "bw_max": hi(&kib),
        "bw_agg": if kib.is_empty() { 0.0 } else { 100.0 },
        "bw_mean": finite(bw_mean),
        "bw_dev": finite(bw_dev),
        "bw_samples": kib.len(),
        "iops_min": lo(iops_series),
        "iops_max": hi(iops_series),
        "iops_mean": finite(iops_mean),
        "iops_stddev": finite(iops_dev),
        "iops_samples": iops_series.len(),
    })
}

/// One job (case).
fn job(group: usize, r: &CaseResult) -> Value {
    let c = &r.case;
    let dir = Direction::of(c);
    let rw = match dir {
        Direction::Read => "read",
        Direction::Write => "write",
        Direction::Requests => "requests",
    };
    let mut o = Map::new();
    o.insert("jobname".into(), json!(c.job));
    o.insert("groupid".into(), json!(group));
    o.insert("error".into(), json!(0));
    o.insert("eta".into(), json!(0));
    let secs: f64 = r.reps.iter().map(|x| x.secs).sum();
    o.insert("elapsed".into(), json!(whole(secs.ceil())));
    o.insert(
        "job options".into(),
        json!({
            "name": c.label(),
            "rw": rw,
            "bs": c.chunk_size.to_string(),
            "numjobs": c.threads.to_string(),
            "size": c.size.to_string(),
            "ioengine": c.io,
            "workload": c.workload,
            "backend": c.backend,
            "resilience": c.resilience,
        }),
    );
    match dir {
        Direction::Requests => {
            o.insert("mixed".into(), direction(Some(r)));
        }
        Direction::Read => {
            o.insert("read".into(), direction(Some(r)));
            o.insert("write".into(), direction(None));
            o.insert("trim".into(), direction(None));
        }
        Direction::Write => {
            o.insert("read".into(), direction(None));
            o.insert("write".into(), direction(Some(r)));
            o.insert("trim".into(), direction(None));
        }
    }
    let stages: Map<String, Value> = ordered_stages(&r.latency)
        .into_iter()
        .map(|(k, s)| (k.clone(), lat_ns(Some(s), true)))
        .collect();
    o.insert(
        "volcrypt".into(),
        json!({
            "label": c.label(),
            "bw_median": finite(r.bw_median),
            "bw_min": finite(r.bw_min),
            "bw_max": finite(r.bw_max),
            "reps": r.reps.len(),
            "stages": stages,
        }),
    );
    Value::Object(o)
}

/// The whole `fio.json` document.
pub fn render(report: &BenchReport) -> Value {
    let m = &report.meta;
    let ts = unix_seconds(&m.started).unwrap_or(0);
    json!({
        "fio version": format!("volcrypt-{}", m.volcrypt_version),
        "timestamp": ts,
        "timestamp_ms": ts.saturating_mul(1000),
        "time": m.started,
        "global options": {
            "run_id": m.run_id,
            "volcrypt_version": m.volcrypt_version,
            "git_commit": m.git_commit,
            "host": m.host,
            "cpu_model": m.cpu_model,
            "cpus": m.cpus.to_string(),
            "cpu_flags": m.cpu_flags.join(" "),
            "kernel": m.kernel,
            "warmup": report.warmup.to_string(),
            "reps": report.reps.to_string(),
            "spec": m.spec,
        },
        "jobs": report.cases.iter().enumerate().map(|(i, r)| job(i, r)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_of_rfc3339() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            unix_seconds("2024-02-29T12:34:56.789Z"),
            Some(1_709_210_096)
        );
        assert_eq!(unix_seconds("2024-13-01T00:00:00Z"), None);
        assert_eq!(unix_seconds("yesterday"), None);
    }

    #[test]
    fn percentile_keys_are_fios() {
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        h.record(250).unwrap();
        let s = LatencyStats::from_histogram(&h);
        let v = lat_ns(Some(&s), true);
        assert_eq!(v["percentile"]["99.990000"], json!(250_000));
        assert_eq!(v["percentile"]["1.000000"], json!(250_000));
        assert_eq!(v["N"], json!(1));
        assert_eq!(v["min"], json!(250_000));
    }
}
