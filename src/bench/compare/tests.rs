//! Unit tests of the comparison: matching by case, verdicts at the threshold, unmatched
//! cases, label disambiguation, the Markdown table.

use std::collections::BTreeMap;

use super::*;
use crate::bench::output::{LatencyFile, PercentileFile};

fn case(threads: usize, io: &str) -> Case {
    Case {
        workload: "encrypt".into(),
        job: "enc".into(),
        size: 1 << 30,
        threads,
        chunk_size: 65536,
        io: io.into(),
        backend: "ring".into(),
        resilience: "journal".into(),
    }
}

/// A case of `bw` bytes/s whose primary stage (`request` for kms, else `chunk`) has `p99`.
fn view(case: Case, bw: f64, p99: Option<u64>) -> CaseFile {
    let mut latency = BTreeMap::new();
    if let Some(v) = p99 {
        let stage = if case.workload == "kms" {
            "request"
        } else {
            "chunk"
        };
        let pct = |percentile, value_us| PercentileFile {
            percentile,
            value_us,
        };
        latency.insert(
            stage.to_string(),
            LatencyFile {
                count: 100,
                min_us: 1,
                max_us: v * 2,
                mean_us: v as f64 / 2.0,
                stdev_us: 1.0,
                percentiles: vec![pct(50.0, v / 2), pct(99.0, v)],
            },
        );
    }
    CaseFile {
        case,
        reps: Vec::new(),
        bw_median: bw,
        bw_min: bw,
        bw_max: bw,
        iops_median: bw / 65536.0,
        latency,
        series: Vec::new(),
        histograms: Default::default(),
    }
}

fn report(run_id: &str, host: &str, cases: Vec<CaseFile>) -> ReportFile {
    ReportFile {
        report_version: 1,
        meta: RunMeta {
            run_id: run_id.into(),
            volcrypt_version: "0.1.0".into(),
            git_commit: "abc".into(),
            host: host.into(),
            cpu_model: "cpu".into(),
            cpus: 4,
            cpu_flags: Vec::new(),
            kernel: "Linux".into(),
            started: "2026-11-29T00:00:00Z".into(),
            spec: String::new(),
        },
        warmup: 0,
        reps: 1,
        cases,
    }
}

#[test]
fn verdicts_at_the_threshold() {
    let a = report(
        "a",
        "h",
        vec![
            view(case(1, "pread"), 1000e6, Some(100)),
            view(case(2, "pread"), 1000e6, Some(100)),
            view(case(4, "pread"), 1000e6, Some(100)),
            view(case(8, "pread"), 1000e6, Some(100)),
            view(case(16, "pread"), 1000e6, Some(100)),
            view(case(32, "pread"), 1000e6, None),
        ],
    );
    let b = report(
        "b",
        "h",
        vec![
            // -4 %: within 5 %.
            view(case(1, "pread"), 960e6, Some(100)),
            // -6 %: regression.
            view(case(2, "pread"), 940e6, Some(100)),
            // Same throughput, p99 +10 %: regression.
            view(case(4, "pread"), 1000e6, Some(110)),
            // +10 %, p99 +5 % exactly: better (not above the threshold).
            view(case(8, "pread"), 1100e6, Some(105)),
            // p99 five times A's: regression.
            view(case(16, "pread"), 1000e6, Some(500)),
            // p99 unknown on A: only throughput counts.
            view(case(32, "pread"), 1000e6, Some(500)),
        ],
    );
    let c = compare(&a, &b, 5.0);
    let verdicts: Vec<Verdict> = c.rows.iter().map(|r| r.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Ok,
            Verdict::Regression,
            Verdict::Regression,
            Verdict::Better,
            Verdict::Regression,
            Verdict::Ok,
        ]
    );
    assert_eq!(c.regressions, 3);
    assert!(c.has_regression());
    assert!((c.rows[1].ratio.unwrap() - 0.94).abs() < 1e-12);
    assert!(c.rows[1].reasons[0].contains("throughput -6.0 %"));
    assert!(c.rows[2].reasons[0].contains("p99 chunk latency +10.0 %"));
    assert_eq!(c.rows[4].b_p99_us, Some(500));
    assert!(c.notes.is_empty());
    // With a 15 % threshold only the 5x p99 rise remains.
    let loose = compare(&a, &b, 15.0);
    assert_eq!(loose.regressions, 1);
    assert_eq!(loose.rows[4].verdict, Verdict::Regression);
}

#[test]
fn matches_by_every_field_and_lists_the_rest() {
    let mut other = case(2, "pread");
    other.resilience = "none".into();
    let a = report(
        "a",
        "h1",
        vec![
            view(case(2, "pread"), 1e9, Some(10)),
            view(case(2, "uring"), 1e9, Some(10)),
        ],
    );
    let b = report(
        "b",
        "h2",
        vec![
            view(other.clone(), 2e9, Some(10)),
            view(case(2, "pread"), 1e9, Some(10)),
        ],
    );
    let c = compare(&a, &b, 5.0);
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].case, case(2, "pread"));
    assert_eq!(c.rows[0].verdict, Verdict::Ok);
    assert_eq!(c.only_a.len(), 1);
    assert_eq!(c.only_a[0].case, case(2, "uring"));
    assert_eq!(c.only_b.len(), 1);
    assert_eq!(c.only_b[0].case, other);
    assert!(!c.has_regression());
    assert_eq!(c.notes, ["different hosts: h1 vs h2"]);
    let md = markdown(&c);
    assert!(md.contains("Only in A:\n- enc-t2-c64K-uring-ring"), "{md}");
    assert!(md.contains("Only in B:\n- enc-t2-c64K-pread-ring (encrypt, 1073741824 B, none)"));
    assert!(md.contains("note: different hosts"));
}

#[test]
fn same_labels_are_told_apart() {
    let mut none = case(2, "pread");
    none.resilience = "none".into();
    let a = report(
        "a",
        "h",
        vec![
            view(case(2, "pread"), 1e9, None),
            view(none.clone(), 2e9, None),
        ],
    );
    let c = compare(&a, &a.clone(), 5.0);
    assert_eq!(c.rows.len(), 2);
    assert_ne!(c.rows[0].label, c.rows[1].label);
    assert!(c.rows[1].label.ends_with("(encrypt, 1073741824 B, none)"));
    assert!(c.rows.iter().all(|r| r.ratio == Some(1.0)));
}

#[test]
fn markdown_table_and_json() {
    let a = report("a", "h", vec![view(case(2, "pread"), 1000e6, Some(80))]);
    let b = report("b", "h", vec![view(case(2, "pread"), 500e6, Some(90))]);
    let c = compare(&a, &b, 5.0);
    let md = markdown(&c);
    assert!(md.contains("| case | A | B | B/A | p99 A/B (µs) | verdict |"));
    assert!(
        md.contains(
            "| enc-t2-c64K-pread-ring | 1000.0 MB/s | 500.0 MB/s | 0.500 | 80/90 | REGRESSION \
             (throughput -50.0 %; p99 chunk latency +12.5 %) |"
        ),
        "{md}"
    );
    assert!(md.contains("1 case(s) compared, 1 regression(s)."));
    let j = serde_json::to_value(&c).unwrap();
    assert_eq!(j["regressions"], 1);
    assert_eq!(j["rows"][0]["verdict"], "regression");
    assert_eq!(j["rows"][0]["ratio"], 0.5);
    assert_eq!(j["a"]["run_id"], "a");
}

#[test]
fn zero_baseline_and_kms_units() {
    let mut k = case(32, "none");
    k.workload = "kms".into();
    let a = report("a", "h", vec![view(k.clone(), 0.0, None)]);
    let b = report("b", "h", vec![view(k.clone(), 5000.0, None)]);
    let c = compare(&a, &b, 5.0);
    assert_eq!(c.rows[0].ratio, None);
    assert_eq!(c.rows[0].verdict, Verdict::Ok);
    assert_eq!(rate(&k, 5000.0), "5000 req/s");
    assert!(markdown(&c).contains("| 0 req/s | 5000 req/s | - | -/- | ok |"));
}

#[test]
fn kms_cases_compare_request_latency() {
    let mut k = case(32, "none");
    k.workload = "kms".into();
    let a = report("a", "h", vec![view(k.clone(), 1000.0, Some(1000))]);
    let b = report("b", "h", vec![view(k, 1000.0, Some(1200))]);
    let c = compare(&a, &b, 5.0);
    assert_eq!(c.rows[0].verdict, Verdict::Regression);
    assert_eq!(c.rows[0].reasons, ["p99 request latency +20.0 %"]);
    assert_eq!(p99(&b.cases[0]), Some(("request", 1200)));
}
