//! Tests of the runner: reductions, and small whole runs through the library.

use super::*;

fn rep(bytes: u64, ops: u64, secs: f64) -> Rep {
    Rep { bytes, ops, secs }
}

fn case(workload: &str) -> Case {
    Case {
        workload: workload.into(),
        job: workload.into(),
        size: 100,
        threads: 1,
        chunk_size: 0,
        io: "none".into(),
        backend: "none".into(),
        resilience: "none".into(),
    }
}

#[test]
fn medians() {
    assert_eq!(median(&[]), 0.0);
    assert_eq!(median(&[3.0]), 3.0);
    assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
}

#[test]
fn aggregate_reduces_repetitions() {
    let reps = vec![rep(100, 10, 1.0), rep(100, 10, 2.0), rep(100, 10, 0.5)];
    let r = aggregate(case("encrypt"), reps.clone(), BTreeMap::new(), Vec::new());
    assert_eq!((r.bw_median, r.bw_min, r.bw_max), (100.0, 50.0, 200.0));
    assert_eq!(r.iops_median, 10.0);
    assert_eq!(r.reps, reps);
    // kms: bandwidth is requests per second.
    let k = aggregate(
        case("kms"),
        vec![rep(0, 300, 3.0)],
        BTreeMap::new(),
        Vec::new(),
    );
    assert_eq!((k.bw_median, k.iops_median), (100.0, 100.0));
    let empty = aggregate(case("encrypt"), Vec::new(), BTreeMap::new(), Vec::new());
    assert_eq!((empty.bw_min, empty.bw_max), (0.0, 0.0));
}

fn spec(out: &std::path::Path, extra: &[(&'static str, &str)]) -> Spec {
    let mut flags = vec![
        ("workload", "cipher,encrypt".to_owned()),
        ("size", "1M".to_owned()),
        ("threads", "1".to_owned()),
        ("io", "null".to_owned()),
        ("resilience", "none".to_owned()),
        ("warmup", "1".to_owned()),
        ("reps", "2".to_owned()),
        ("out", out.display().to_string()),
    ];
    flags.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    Spec::from_flags(&flags).unwrap()
}

#[test]
fn a_small_run_measures_and_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let s = spec(tmp.path(), &[]);
    let mut events = Vec::new();
    let out = run(&s, None, &mut |e| {
        events.push(match e {
            Event::Start { case, .. } => format!("start {}", case.label()),
            Event::Done { result, .. } => format!("done {}", result.case.label()),
            Event::Skipped { case, .. } => format!("skip {}", case.label()),
        })
    })
    .unwrap();
    assert_eq!(
        events,
        [
            "start cipher-t1-c64K-none-ring",
            "done cipher-t1-c64K-none-ring",
            "start encrypt-t1-c64K-null-ring",
            "done encrypt-t1-c64K-null-ring",
        ]
    );
    assert!(!out.cancelled);
    assert!(out.dir.starts_with(tmp.path()));
    assert!(out.dir.join("report.json").is_file());
    assert!(!out.files.is_empty());
    let r = &out.report;
    assert_eq!((r.warmup, r.reps, r.cases.len()), (1, 2, 2));
    assert_eq!(r.meta.spec, s.text);
    for c in &r.cases {
        assert_eq!(c.reps.len(), 2, "warm-ups are not kept");
        assert!(c.reps.iter().all(|x| x.bytes == 1 << 20 && x.ops == 16));
        assert!(c.bw_median > 0.0 && c.bw_min <= c.bw_median && c.bw_median <= c.bw_max);
        assert_eq!(c.histograms["chunk"].len(), 2 * 16, "{}", c.case.label());
        assert_eq!(c.latency["chunk"].count, 32);
        assert!(!c.series.is_empty());
    }
    let null = &r.cases[1].latency;
    for stage in ["read", "cipher", "apply", "checkpoint"] {
        assert!(
            null.contains_key(stage),
            "{stage} missing: {:?}",
            null.keys()
        );
    }
}

#[test]
fn a_cancelled_run_keeps_what_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let s = spec(tmp.path(), &[]);
    let flag = Arc::new(AtomicBool::new(true));
    let out = run(&s, Some(flag), &mut |_| {}).unwrap();
    assert!(out.cancelled);
    assert!(out.report.cases.is_empty());
}
