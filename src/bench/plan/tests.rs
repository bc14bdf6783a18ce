//! The planner's arithmetic on fixed inputs, against numbers worked out by hand (the
//! comments show the working), and the case selection rule.

use std::collections::BTreeMap;

use super::*;
use crate::bench::model::{Case, RunMeta};
use crate::bench::output::{CaseFile, ReportFile};

const GIB: u64 = 1 << 30;

fn close(got: f64, want: f64, what: &str) {
    let tol = 1e-9 * want.abs().max(1.0);
    assert!((got - want).abs() <= tol, "{what}: got {got}, want {want}");
}

fn case(workload: &str, threads: usize, io: &str, resilience: &str) -> Case {
    Case {
        workload: workload.into(),
        job: workload.into(),
        size: GIB,
        threads,
        chunk_size: 65536,
        io: io.into(),
        backend: "ring".into(),
        resilience: resilience.into(),
    }
}

fn measured(workload: &str, threads: usize, host_rate: f64) -> Measured {
    Measured {
        run_id: "r".into(),
        volcrypt_version: "0.1.0".into(),
        git_commit: "abc".into(),
        host: "h".into(),
        cpu_model: "cpu".into(),
        cpus: threads,
        label: "l".into(),
        case: case(workload, threads, "pread", "journal"),
        host_rate,
        per_core_rate: host_rate / threads as f64,
    }
}

fn fleet(op: Operation, volumes: u64, avg_size: u64, window_hours: f64, cores: usize) -> Fleet {
    Fleet {
        operation: op,
        volumes,
        avg_size,
        window_hours,
        cores_per_host: cores,
        volumes_per_data_key: 1,
        kms_keys: 1,
        runs_per_month: 1.0,
    }
}

fn pricing() -> Pricing {
    Pricing::builtin().unwrap()
}

#[test]
fn encrypt_fleet_fits_in_five_hosts() {
    // 2 GB/s on 4 threads = 500 MB/s per core; 16 cores = 8 GB/s per host.
    let m = measured("encrypt", 4, 2e9);
    let f = fleet(Operation::Encrypt, 10_000, 100 * GIB, 8.0, 16);
    let p = pricing();
    let plan = plan(&m, &f, p.tier(10_000).unwrap(), &p).unwrap();
    let c = &plan.capacity;
    assert_eq!(c.total_bytes, 10_000 * 100 * GIB);
    close(c.host_rate, 8e9, "host rate");
    // 107374182400 B / 8e9 B/s = 13.4217728 s per volume.
    close(c.volume_secs, 13.4217728, "volume secs");
    // 10000 x 13.4217728 s = 134217.728 s = 37.28270222 h; / 8 h = 4.66 -> 5 hosts.
    close(c.host_hours, 134_217.728 / 3600.0, "host hours");
    assert_eq!(c.hosts, 5);
    assert_eq!(c.cores, 80);
    close(c.fleet_hours, 134_217.728 / 3600.0 / 5.0, "fleet hours");
    assert!(c.extrapolated);
    let k = &plan.kms;
    // One GenerateDataKey per volume; the first second: 5 hosts start one volume each.
    assert_eq!(k.requests_per_pass, 10_000);
    assert_eq!(k.generate_data_key_requests, 10_000);
    close(k.peak_rps, 5.0, "peak");
    // 5 hosts x 1/13.4217728 volumes/s.
    close(k.steady_rps, 5.0 / 13.4217728, "steady");
    assert!(k.within_quota);
    close(k.headroom_rps, 9_995.0, "headroom");
    close(k.quota_used_pct, 0.05, "used");
    close(k.min_hours_at_quota, 1.0 / 3600.0, "min hours");
    // 10000 requests are inside the 20000 free ones; 1 key x $1.
    close(plan.cost.billable_requests, 0.0, "billable");
    close(plan.cost.request_cost, 0.0, "request cost");
    close(plan.cost.total, 1.0, "total");
    assert!(plan
        .notes
        .iter()
        .any(|n| n.contains("linear scaling from 4")));
}

#[test]
fn rekey_with_data_key_reuse_is_capped_by_the_cache() {
    // 500 MB/s on 2 threads = 250 MB/s per core; 8 cores = 2 GB/s per host.
    let m = measured("rekey", 2, 5e8);
    let mut f = fleet(Operation::Rekey, 1_000_000, 8 * GIB, 24.0, 8);
    f.volumes_per_data_key = 1000;
    f.kms_keys = 3;
    let p = pricing();
    let plan = plan(&m, &f, p.tier(20_000).unwrap(), &p).unwrap();
    let c = &plan.capacity;
    // 8589934592 B / 2e9 B/s = 4.294967296 s; x 1e6 = 1193.046 h; / 24 = 49.7 -> 50 hosts.
    close(c.volume_secs, 4.294967296, "volume secs");
    assert_eq!(c.hosts, 50);
    assert_eq!(c.cores, 400);
    close(c.fleet_hours, 4_294_967.296 / 3600.0 / 50.0, "fleet hours");
    let k = &plan.kms;
    // Reuse: min(1000, 2^40 / 2^33 = 128, floor(300 s x 0.2328 volumes/s) + 1 = 70) = 70.
    assert_eq!(k.volumes_per_data_key, 70);
    // ceil(1e6 / 70) = 14286 GenerateDataKey + 1e6 Decrypt.
    assert_eq!(k.generate_data_key_requests, 14_286);
    assert_eq!(k.requests_per_pass, 1_014_286);
    // First second: 50 hosts each start a volume: 50 Decrypt + 50 first data keys.
    close(k.peak_rps, 100.0, "peak");
    // 50 hosts x (2e9 / 8589934592) volumes/s x (1 + 1/70).
    close(
        k.steady_rps,
        50.0 * 2e9 / 8_589_934_592.0 * (1.0 + 1.0 / 70.0),
        "steady",
    );
    assert_eq!(k.quota_rps, 20_000);
    assert!(k.within_quota);
    // (1014286 - 20000) / 10000 x $0.03 = $2.982858; + 3 keys x $1.
    close(plan.cost.billable_requests, 994_286.0, "billable");
    close(plan.cost.request_cost, 2.982858, "request cost");
    close(plan.cost.key_cost, 3.0, "key cost");
    close(plan.cost.total, 5.982858, "total");
    assert!(plan.notes.iter().any(|n| n.contains("capped at 70")));
}

#[test]
fn small_volumes_on_many_hosts_exceed_the_quota() {
    // 1 GB/s on 1 thread; 4 cores = 4 GB/s; 64 MiB volumes: 59.6 volumes/s per host.
    let m = measured("decrypt", 1, 1e9);
    let mut f = fleet(Operation::Decrypt, 10_000_000, 64 << 20, 0.1, 4);
    f.runs_per_month = 30.0;
    f.kms_keys = 0;
    let p = pricing();
    let plan = plan(&m, &f, p.default_tier(), &p).unwrap();
    let c = &plan.capacity;
    let vps = 4e9 / 67_108_864.0;
    close(c.host_volumes_per_sec, vps, "volumes/s");
    // 1e7 x 0.016777216 s = 46.603 h; / 0.1 h -> 467 hosts.
    assert_eq!(c.hosts, 467);
    let k = &plan.kms;
    // 467 hosts x 59.6 volumes/s x 1 Decrypt = 27835.4 req/s, over 10000.
    close(k.peak_rps, 467.0 * vps, "peak");
    close(k.steady_rps, 467.0 * vps, "steady");
    assert!(!k.within_quota);
    close(k.headroom_rps, 10_000.0 - 467.0 * vps, "headroom");
    // 1e7 requests at 10000/s = 1000 s.
    close(k.min_hours_at_quota, 1000.0 / 3600.0, "min hours");
    // 30 runs: 3e8 requests, 299980000 billed = $899.94.
    close(plan.cost.requests_per_month, 3e8, "requests/month");
    close(plan.cost.total, 899.94, "total");
    assert!(plan.notes.iter().any(|n| n.contains("exceed the 10000")));
    let md = markdown(&plan);
    assert!(
        md.contains("| quota status | OVER, headroom -17835.37 req/s"),
        "{md}"
    );
}

#[test]
fn rewrap_is_planned_in_volumes_per_second() {
    // 50 rewraps/s with 8 threads; 8 cores: 50 volumes/s per host.
    let m = measured("rewrap", 8, 50.0);
    let f = fleet(Operation::Rewrap, 100_000, 0, 1.0, 8);
    let p = pricing();
    let plan = plan(&m, &f, p.default_tier(), &p).unwrap();
    let c = &plan.capacity;
    assert_eq!(c.total_bytes, 0);
    close(c.volume_secs, 0.02, "volume secs");
    close(c.host_hours, 2000.0 / 3600.0, "host hours");
    assert_eq!(c.hosts, 1);
    assert!(!c.extrapolated);
    let k = &plan.kms;
    assert_eq!(k.requests_per_pass, 100_000);
    assert_eq!(k.generate_data_key_requests, 0);
    close(k.peak_rps, 50.0, "peak");
    // 100000 - 20000 free = 80000 x $0.03 / 10000 = $0.24 + $1.
    close(plan.cost.total, 1.24, "total");
    let md = markdown(&plan);
    assert!(md.contains("| calls per volume | 1 ReEncrypt |"), "{md}");
    assert!(!md.contains("| data |"));
}

#[test]
fn bad_fleets_are_refused() {
    let m = measured("encrypt", 4, 2e9);
    let p = pricing();
    let t = p.default_tier();
    for (f, why) in [
        (fleet(Operation::Encrypt, 0, GIB, 1.0, 4), "fleet-volumes"),
        (fleet(Operation::Encrypt, 1, 0, 1.0, 4), "avg-size"),
        (fleet(Operation::Encrypt, 1, GIB, 0.0, 4), "window"),
        (fleet(Operation::Encrypt, 1, GIB, f64::NAN, 4), "window"),
        (fleet(Operation::Encrypt, 1, GIB, 1.0, 0), "cores-per-host"),
    ] {
        let e = plan(&m, &f, t, &p).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
}

#[test]
fn one_volume_longer_than_the_window_is_flagged() {
    // 1 TiB at 100 MB/s: about 3 h, window 1 h.
    let m = measured("verify", 1, 1e8);
    let f = fleet(Operation::Verify, 2, 1 << 40, 1.0, 1);
    let p = pricing();
    let plan = plan(&m, &f, p.default_tier(), &p).unwrap();
    assert!(plan
        .notes
        .iter()
        .any(|n| n.contains("longer than the 1 h window")));
    assert_eq!(plan.kms.calls_per_volume.decrypt, 1);
}

fn view(cases: Vec<(Case, f64)>) -> ReportFile {
    ReportFile {
        report_version: 1,
        meta: RunMeta {
            run_id: "run".into(),
            volcrypt_version: "0.1.0".into(),
            git_commit: "abc".into(),
            host: "h".into(),
            cpu_model: "cpu".into(),
            cpus: 8,
            cpu_flags: Vec::new(),
            kernel: "Linux".into(),
            started: "2026-11-29T00:00:00Z".into(),
            spec: String::new(),
        },
        warmup: 0,
        reps: 1,
        cases: cases
            .into_iter()
            .map(|(case, bw)| CaseFile {
                case,
                reps: Vec::new(),
                bw_median: bw,
                bw_min: bw,
                bw_max: bw,
                iops_median: bw / 65536.0,
                latency: BTreeMap::new(),
                series: Vec::new(),
                histograms: Default::default(),
            })
            .collect(),
    }
}

#[test]
fn selection_takes_the_fastest_real_case() {
    let v = view(vec![
        (case("encrypt", 1, "pread", "journal"), 1e9),
        (case("encrypt", 8, "uring", "journal"), 3e9),
        (case("encrypt", 4, "pread", "journal"), 3e9),
        (case("encrypt", 8, "null", "journal"), 9e9),
        (case("encrypt", 8, "pread", "none"), 2.5e9),
        (case("decrypt", 8, "pread", "journal"), 8e9),
    ]);
    let any = Filters::default();
    // Tie at 3 GB/s: fewer threads wins; the null engine is left out.
    let m = select(&v, Operation::Encrypt, &any).unwrap();
    assert_eq!(m.case, case("encrypt", 4, "pread", "journal"));
    close(m.per_core_rate, 7.5e8, "per core");
    assert_eq!(m.cpus, 8);
    let null = Filters {
        io: Some("null".into()),
        resilience: None,
    };
    close(
        select(&v, Operation::Encrypt, &null).unwrap().host_rate,
        9e9,
        "null",
    );
    let none = Filters {
        io: None,
        resilience: Some("none".into()),
    };
    let m = select(&v, Operation::Encrypt, &none).unwrap();
    assert_eq!(m.case.resilience, "none");
    let e = select(&v, Operation::Rekey, &any).unwrap_err().to_string();
    assert!(e.contains("no usable rekey case"), "{e}");
    assert!(e.contains("decrypt-t8-c64K-pread-ring (decrypt)"), "{e}");
    let e = select(&v, Operation::Decrypt, &none)
        .unwrap_err()
        .to_string();
    assert!(e.contains("with resilience none"), "{e}");
}

#[test]
fn operations_parse_and_cost_the_documented_calls() {
    let calls = |s: &str| {
        let c = s.parse::<Operation>().unwrap().kms_calls();
        (c.generate_data_key, c.decrypt, c.re_encrypt)
    };
    assert_eq!(calls("encrypt"), (1, 0, 0));
    assert_eq!(calls("rekey"), (1, 1, 0));
    assert_eq!(calls("rewrap"), (0, 0, 1));
    assert_eq!(calls("decrypt"), (0, 1, 0));
    assert_eq!(calls("verify"), (0, 1, 0));
    assert!("cat"
        .parse::<Operation>()
        .unwrap_err()
        .contains("expected encrypt"));
}

#[test]
fn markdown_has_the_tables_and_json_the_numbers() {
    let m = measured("encrypt", 4, 2e9);
    let f = fleet(Operation::Encrypt, 10_000, 100 * GIB, 8.0, 16);
    let p = pricing();
    let plan = plan(&m, &f, p.tier(100_000).unwrap(), &p).unwrap();
    let md = markdown(&plan);
    for needle in [
        "# volcrypt plan: encrypt of 10000 volumes x 100.00 GiB in 8 h",
        "| data | 976.56 TiB |",
        "| one host (16 cores) | 8000.0 MB/s |",
        "| one volume on one host | 13.4 s |",
        "| **hosts** (window 8 h) | **5** |",
        "| cores | 80 |",
        "| fleet time with 5 host(s) | 7.46 h |",
        "| calls per volume | 1 GenerateDataKey |",
        "| **peak requests/s** | **5.00** |",
        "| quota tier | 100000 req/s (US East (N. Virginia)",
        "| quota status | OK, headroom 99995.00 req/s (0.01 % used) |",
        "| **total** | | **1.00** |",
        "## Monthly KMS cost (USD)",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    let j = serde_json::to_value(&plan).unwrap();
    assert_eq!(j["capacity"]["hosts"], 5);
    assert_eq!(j["kms"]["quota_rps"], 100_000);
    assert_eq!(j["fleet"]["operation"], "encrypt");
    assert_eq!(j["cost"]["total"], 1.0);
}
