//! A hand-built [`BenchReport`] for the writer tests: a `cipher` sweep over chunk sizes and
//! backends, an `encrypt` thread sweep with every engine stage, a one-point `verify`, a `kms`
//! case, and a job whose name needs quoting and whose label collides with another case's.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::bench::model::{BenchReport, Case, CaseResult, Rep, RunMeta, Sample, REPORT_VERSION};
use crate::bench::report::LatencyStats;

/// A case with the given settings.
#[allow(clippy::too_many_arguments)]
pub fn case(
    workload: &str,
    job: &str,
    size: u64,
    threads: usize,
    chunk: u64,
    io: &str,
    backend: &str,
    resilience: &str,
) -> Case {
    Case {
        workload: workload.into(),
        job: job.into(),
        size,
        threads,
        chunk_size: chunk,
        io: io.into(),
        backend: backend.into(),
        resilience: resilience.into(),
    }
}

/// A histogram of `n` latencies spread around `base` µs, with a tail to `base * 20`.
fn histogram(base: u64, n: u64) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for i in 0..n {
        let v = base + (i * 7919) % (base.max(1) * 2);
        h.record(v).unwrap();
    }
    h.record(base * 20).unwrap();
    h
}

/// The result of `case` at `bw` bytes/s (requests/s for `kms`), with `reps` repetitions, one
/// histogram per stage of `stages` (`(name, base µs)`) and `seconds` time-series samples.
pub fn result(
    case: Case,
    bw: f64,
    reps: usize,
    stages: &[(&str, u64)],
    seconds: usize,
) -> CaseResult {
    let kms = case.workload == "kms";
    let per_rep_secs = 1.25;
    let reps: Vec<Rep> = (0..reps)
        .map(|i| {
            let rate = bw * (1.0 + 0.02 * i as f64);
            let secs = per_rep_secs;
            let (bytes, ops) = if kms {
                (0, (rate * secs) as u64)
            } else {
                let bytes = (rate * secs) as u64;
                (bytes, bytes / case.chunk_size.max(1))
            };
            Rep { bytes, ops, secs }
        })
        .collect();
    let histograms: BTreeMap<String, Histogram<u64>> = stages
        .iter()
        .map(|(s, base)| (s.to_string(), histogram(*base, 2000)))
        .collect();
    let latency = histograms
        .iter()
        .map(|(k, h)| (k.clone(), LatencyStats::from_histogram(h)))
        .collect();
    let series = (0..seconds)
        .map(|i| Sample {
            t: (i + 1) as f64,
            rate: bw * (0.95 + 0.01 * (i % 7) as f64),
        })
        .collect();
    let iops = if kms {
        bw
    } else {
        bw / case.chunk_size.max(1) as f64
    };
    CaseResult {
        case,
        reps,
        bw_median: bw * 1.02,
        bw_min: bw,
        bw_max: bw * 1.04,
        iops_median: iops,
        latency,
        series,
        histograms,
    }
}

/// Provenance of the fixture.
pub fn meta() -> RunMeta {
    RunMeta {
        run_id: "20250101T000000Z-fixture".into(),
        volcrypt_version: "0.1.0".into(),
        git_commit: "abc1234-dirty".into(),
        host: "testhost".into(),
        cpu_model: "Test CPU, model 1 @ 3.0GHz".into(),
        cpus: 2,
        cpu_flags: vec!["aes".into(), "pclmulqdq".into(), "avx2".into()],
        kernel: "Linux 6.1.0".into(),
        started: "2025-01-01T00:00:00Z".into(),
        spec: "[global]\nreps = 3\nwarmup = 1\n\n[[job]]\nname = \"encrypt\"\nworkload = \"encrypt\"\nthreads = [1, 2, 4]\n".into(),
    }
}

/// A report of the given cases.
pub fn report(cases: Vec<CaseResult>) -> BenchReport {
    BenchReport {
        report_version: REPORT_VERSION,
        meta: meta(),
        warmup: 1,
        reps: 3,
        cases,
    }
}

/// The full fixture (see the module documentation).
pub fn full() -> BenchReport {
    let mib = f64::from(1u32 << 20);
    let all_stages = [
        ("read", 900),
        ("chunk", 60),
        ("cipher", 700),
        ("journal_commit", 2500),
        ("apply", 800),
        ("checkpoint", 1500),
    ];
    let mut cases = Vec::new();
    for backend in ["ring", "aws-lc"] {
        for chunk in [4096u64, 65536, 1 << 20] {
            let c = case(
                "cipher",
                "cipher",
                64 << 20,
                1,
                chunk,
                "none",
                backend,
                "none",
            );
            let bw = 2000.0 * mib * (1.0 + (chunk as f64).log2() / 40.0);
            cases.push(result(c, bw, 3, &[("chunk", 30)], 0));
        }
    }
    for threads in [1usize, 2, 4] {
        let c = case(
            "encrypt",
            "encrypt",
            256 << 20,
            threads,
            65536,
            "uring",
            "ring",
            "journal",
        );
        cases.push(result(c, 600.0 * mib * threads as f64, 3, &all_stages, 4));
    }
    let c = case(
        "verify",
        "verify",
        256 << 20,
        2,
        65536,
        "pread",
        "aws-lc",
        "none",
    );
    cases.push(result(
        c,
        1500.0 * mib,
        3,
        &[("read", 400), ("chunk", 40)],
        2,
    ));
    let c = case("kms", "kms", 0, 8, 0, "none", "none", "none");
    cases.push(result(c, 5200.0, 3, &[("request", 1500)], 3));
    // Needs CSV quoting, Markdown escaping and a file-safe name; two cases share a label.
    for size in [1u64 << 20, 2 << 20] {
        let c = case(
            "rekey",
            "odd,job|name",
            size,
            1,
            65536,
            "mmap",
            "ring",
            "none",
        );
        cases.push(result(c, 300.0 * mib, 1, &[("chunk", 80)], 1));
    }
    report(cases)
}
