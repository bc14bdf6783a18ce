//! `volcrypt report compare` and `volcrypt plan` through the binary, on the hand-written
//! results of tests/data/bench/{A,B} (report.json in the model's serialized shape).
//!
//! A vs B at the default 5 %: encrypt t1 -1.25 % (ok), encrypt t2 -13.3 % (REGRESSION),
//! decrypt t2 +6.25 % throughput but p99 chunk latency 110 -> 200 us (REGRESSION), kms +4.2 %
//! (ok); verify only in A, cipher only in B.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use crate::util::{scratch, volcrypt, Run};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bench")
        .join(name)
}

/// Runs `volcrypt plan --results <fixture A> --fleet-volumes V --avg-size S --window W`
/// followed by `extra`.
fn plan(volumes: &str, size: &str, window: &str, extra: &[&dyn AsRef<OsStr>]) -> Run {
    let mut v: Vec<OsString> = ["plan", "--results"].map(OsString::from).to_vec();
    v.push(fixture("A").into_os_string());
    for a in [
        "--fleet-volumes",
        volumes,
        "--avg-size",
        size,
        "--window",
        window,
    ] {
        v.push(a.into());
    }
    v.extend(extra.iter().map(|a| a.as_ref().to_os_string()));
    let args: Vec<&dyn AsRef<OsStr>> = v.iter().map(|a| a as &dyn AsRef<OsStr>).collect();
    volcrypt(&args)
}

fn stdout(r: &Run) -> String {
    String::from_utf8(r.stdout.clone()).expect("utf-8 output")
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_slice(&r.stdout).expect("JSON on stdout")
}

#[test]
fn compare_flags_regressions_with_exit_code_1() {
    let (a, b) = (fixture("A"), fixture("B"));
    let r = volcrypt(&[&"report", &"compare", &a, &b]);
    assert_eq!(r.code, 1, "a regression exits 1; stderr: {}", r.stderr);
    let md = stdout(&r);
    for needle in [
        "| case | A | B | B/A | p99 A/B (µs) | verdict |",
        "| encrypt-t1-c64K-pread-ring | 800.0 MB/s | 790.0 MB/s | 0.988 | 120/121 | ok |",
        "| encrypt-t2-c64K-pread-ring | 1500.0 MB/s | 1300.0 MB/s | 0.867 | 130/131 | REGRESSION \
         (throughput -13.3 %) |",
        "| decrypt-t2-c64K-pread-ring | 1600.0 MB/s | 1700.0 MB/s | 1.062 | 110/200 | REGRESSION \
         (p99 chunk latency +81.8 %) |",
        "| kms-t32-none-none | 12000 req/s | 12500 req/s | 1.042 | 4000/3900 | ok |",
        "4 case(s) compared, 2 regression(s).",
        "Only in A:\n- verify-t2-c64K-uring-ring",
        "Only in B:\n- cipher-t2-c64K-none-ring",
        "20261129T120000Z-fixture",
        "v0.1.0-11-gbbbbbbb",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
}

#[test]
fn compare_threshold_and_json() {
    let (a, b) = (fixture("A"), fixture("B"));
    // At 20 % only the p99 rise (+81.8 %) is left.
    let r = volcrypt(&[
        &"report",
        &"compare",
        &a,
        &b,
        &"--threshold",
        &"20",
        &"--json",
    ]);
    assert_eq!(r.code, 1, "stderr: {}", r.stderr);
    let j = json(&r);
    assert_eq!(j["regressions"], 1);
    assert_eq!(j["threshold_pct"], 20.0);
    let verdicts: Vec<&str> = j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["ok", "ok", "regression", "ok"]);
    assert_eq!(j["only_a"][0]["case"]["workload"], "verify");
    assert_eq!(j["only_b"][0]["case"]["workload"], "cipher");
    // At 100 % nothing regresses: exit 0.
    let r = volcrypt(&[&"report", &"compare", &a, &b, &"--threshold", &"100"]);
    r.ok();
    assert!(stdout(&r).contains("0 regression(s)"));
    // A run against itself: every ratio is 1, exit 0; a report.json path works as well.
    let r = volcrypt(&[&"report", &"compare", &a, &a.join("report.json"), &"--json"]);
    r.ok();
    let j = json(&r);
    assert_eq!(j["regressions"], 0);
    assert!(j["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|row| row["ratio"] == 1.0));
}

#[test]
fn compare_refuses_what_is_not_a_report() {
    let dir = scratch();
    let r = volcrypt(&[&"report", &"compare", &fixture("A"), &dir.path()]);
    r.fails(1, &["report.json"]);
    let bad = dir.path().join("report.json");
    std::fs::write(&bad, "{\"report_version\": 1}").unwrap();
    let r = volcrypt(&[&"report", &"compare", &fixture("A"), &bad]);
    r.fails(1, &["report.json", "missing field `meta`"]);
    let r = volcrypt(&[
        &"report",
        &"compare",
        &fixture("A"),
        &fixture("B"),
        &"--threshold",
        &"0",
    ]);
    r.fails(2, &["--threshold"]);
}

/// Fixture A's best encrypt case: 1.5 GB/s with 2 threads on a 2-CPU host. 1000 volumes of
/// 100 GiB: 107374182400 / 1.5e9 = 71.583 s each, 19.884 host-hours; a 10 h window needs 2
/// hosts (4 cores), done in 9.942 h. 1000 GenerateDataKey (inside the free 20000): $1 for 1
/// key. Peak: 2 hosts start a volume each in the first second.
#[test]
fn plan_from_results_gives_the_expected_numbers() {
    let r = plan(
        "1000",
        "100G",
        "10",
        &[&"--json", &"--kms-quota", &"100000"],
    );
    r.ok();
    let j = json(&r);
    let close = |v: &serde_json::Value, want: f64| {
        let got = v.as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{got} != {want}"
        );
    };
    assert_eq!(j["measured"]["label"], "encrypt-t2-c64K-pread-ring");
    close(&j["measured"]["per_core_rate"], 7.5e8);
    assert_eq!(j["fleet"]["cores_per_host"], 2);
    close(&j["capacity"]["volume_secs"], 107_374_182_400.0 / 1.5e9);
    close(
        &j["capacity"]["host_hours"],
        107_374_182_400.0 / 1.5e9 * 1000.0 / 3600.0,
    );
    assert_eq!(j["capacity"]["hosts"], 2);
    assert_eq!(j["capacity"]["cores"], 4);
    assert_eq!(j["capacity"]["extrapolated"], false);
    assert_eq!(j["kms"]["requests_per_pass"], 1000);
    close(&j["kms"]["peak_rps"], 2.0);
    assert_eq!(j["kms"]["quota_rps"], 100_000);
    assert_eq!(j["kms"]["within_quota"], true);
    close(&j["cost"]["total"], 1.0);

    // Markdown (the default), with 8 cores per host: 6 GB/s, one host.
    let r = plan(
        "1000",
        "100G",
        "10",
        &[&"--cores-per-host", &"8", &"--region", &"eu-west-2"],
    );
    r.ok();
    let md = stdout(&r);
    for needle in [
        "# volcrypt plan: encrypt of 1000 volumes x 100.00 GiB in 10 h",
        "| one host (8 cores) | 6000.0 MB/s |",
        "| **hosts** (window 10 h) | **1** |",
        "| quota tier | 20000 req/s",
        "| quota status | OK",
        "| **total** | | **1.00** |",
        "linear scaling from 2 measured thread(s) to 8 cores",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
}

#[test]
fn plan_pricing_override_and_errors() {
    let dir = scratch();
    let pricing = dir.path().join("pricing.toml");
    let text = include_str!("../../data/kms-pricing.toml")
        .replace("price_per_10k = 0.03", "price_per_10k = 1.0")
        .replace("free_per_month = 20000", "free_per_month = 0");
    std::fs::write(&pricing, text).unwrap();
    let r = plan(
        "1000",
        "1G",
        "1",
        &[
            &"--operation",
            &"decrypt",
            &"--kms-keys",
            &"2",
            &"--pricing",
            &pricing,
            &"--json",
        ],
    );
    r.ok();
    let j = json(&r);
    assert_eq!(j["measured"]["case"]["workload"], "decrypt");
    // 1000 Decrypt at $1 per 10000 = $0.10, + 2 keys x $1.
    let total = j["cost"]["total"].as_f64().unwrap();
    assert!((total - 2.1).abs() < 1e-9, "{total}");

    plan("10", "1G", "1", &[&"--operation", &"rekey"])
        .fails(1, &["no usable rekey case", "encrypt-t1-c64K-pread-ring"]);
    plan("10", "1G", "1", &[&"--kms-quota", &"30000"]).fails(1, &["10000, 20000, 100000"]);
    plan("10", "1G", "1", &[&"--operation", &"cat"]).fails(2, &["unknown operation 'cat'"]);
    plan("0", "1G", "1", &[]).fails(2, &["--fleet-volumes"]);
    plan("10", "1G", "0", &[]).fails(2, &["--window"]);
    std::fs::write(&pricing, "source = 1").unwrap();
    plan("10", "1G", "1", &[&"--pricing", &pricing]).fails(1, &["pricing data"]);
}
