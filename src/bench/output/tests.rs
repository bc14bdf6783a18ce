//! Tests of [`super::write_all`] on the hand-built fixture: every file is written and
//! parses (JSON, CSV column counts, Markdown tables, well-formed SVG with drawn lines), and
//! `report.json` reads back. One test also leaves the fixture's files in
//! `target/bench-fixture/` for `tests/bench/test_report_schema.py` to check against the JSON
//! schemas.

use std::path::Path;

use super::fixture::{case, full, report, result};
use super::tests_util::{check_svg, names, parse_csv, read, texts, tmp};
use super::*;

#[test]
fn writes_every_file() {
    let dir = tmp();
    let written = write_all(&full(), dir.path()).unwrap();
    let files = names(dir.path(), &written);
    for f in [
        "report.json",
        "fio.json",
        "summary.txt",
        "results.csv",
        "report.md",
        "throughput-vs-threads.svg",
        "throughput-vs-chunk.svg",
        "latency-percentiles.svg",
        "throughput-over-time.svg",
        "kms-vs-connections.svg",
        "kms-over-time.svg",
        "encrypt-t2-c64K-uring-ring-journal_commit.hgrm",
        "kms-t8-none-none-request.hgrm",
        "odd_job_name-t1-c64K-mmap-ring-chunk.hgrm",
        "odd_job_name-t1-c64K-mmap-ring-2-chunk.hgrm",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} not in {files:?}");
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    // 6 cipher + 3 encrypt x 6 stages + verify 2 + kms 1 + 2 odd = 29 histograms.
    assert_eq!(files.iter().filter(|f| f.ends_with(".hgrm")).count(), 29);
    let h = read(dir.path(), "encrypt-t1-c64K-uring-ring-chunk.hgrm");
    assert!(
        h.starts_with("       Value     Percentile TotalCount"),
        "{h}"
    );
    assert!(h.contains("Total count    =         2001]"), "{h}");
}

#[test]
fn report_json_reads_back() {
    let dir = tmp();
    let r = full();
    write_all(&r, dir.path()).unwrap();
    let back = read_report(dir.path()).unwrap();
    assert_eq!(back.meta, r.meta);
    assert_eq!((back.warmup, back.reps), (1, 3));
    assert_eq!(back.cases.len(), r.cases.len());
    for (a, b) in back.cases.iter().zip(&r.cases) {
        assert_eq!(a.case, b.case);
        assert_eq!(a.reps, b.reps);
        assert_eq!(a.series, b.series);
        assert_eq!(a.bw_median, b.bw_median);
        assert_eq!(a.latency.len(), b.latency.len());
        for (k, s) in &b.latency {
            assert_eq!(a.latency[k].at(99.9), s.at(99.9), "{k}");
            assert_eq!(a.latency[k].count, s.count);
        }
    }
    // The file itself works too; a newer layout is refused.
    assert!(read_report(&dir.path().join("report.json")).is_ok());
    let text = read(dir.path(), "report.json").replacen(
        "\"report_version\": 1",
        "\"report_version\": 99",
        1,
    );
    std::fs::write(dir.path().join("report.json"), text).unwrap();
    assert!(matches!(
        read_report(dir.path()),
        Err(BenchError::ReportVersion { found: 99, .. })
    ));
    assert!(matches!(
        read_report(&dir.path().join("nope")),
        Err(BenchError::Io { .. })
    ));
}

#[test]
fn fio_json_has_fios_shape() {
    let dir = tmp();
    let r = full();
    write_all(&r, dir.path()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&read(dir.path(), "fio.json")).unwrap();
    assert_eq!(v["fio version"], "volcrypt-0.1.0");
    assert_eq!(v["timestamp"], 1_735_689_600);
    assert_eq!(v["global options"]["spec"], r.meta.spec.as_str());
    let jobs = v["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), r.cases.len());
    let enc = &jobs[7]; // encrypt, 2 threads
    assert_eq!(enc["jobname"], "encrypt");
    assert_eq!(enc["groupid"], 7);
    assert_eq!(enc["job options"]["numjobs"], "2");
    let w = &enc["write"];
    let bw = r.cases[7].bw_median.round() as u64;
    assert_eq!(w["bw_bytes"], bw);
    assert_eq!(w["bw"], bw / 1024);
    assert_eq!(enc["read"]["io_bytes"], 0);
    let pct = w["clat_ns"]["percentile"].as_object().unwrap();
    assert_eq!(pct.len(), 17);
    let p999 = r.cases[7].latency["chunk"].at(99.9).unwrap() * 1000;
    assert_eq!(pct["99.900000"], p999);
    assert_eq!(w["bw_samples"], 4);
    assert_eq!(enc["volcrypt"]["stages"].as_object().unwrap().len(), 6);
    let verify = &jobs[9];
    assert!(verify["read"]["io_bytes"].as_u64().unwrap() > 0);
    let kms = &jobs[10];
    assert!(kms.get("write").is_none());
    assert_eq!(kms["mixed"]["iops"], r.cases[10].iops_median);
    assert_eq!(kms["mixed"]["io_bytes"], 0);
}

#[test]
fn csv_rows_have_every_column() {
    let dir = tmp();
    let mut r = full();
    r.cases[0].reps.clear();
    write_all(&r, dir.path()).unwrap();
    let records = parse_csv(&read(dir.path(), "results.csv"));
    assert_eq!(records[0], csv::COLUMNS.to_vec());
    let expected: usize = r.cases.iter().map(|c| c.reps.len().max(1)).sum();
    assert_eq!(records.len(), 1 + expected);
    for rec in &records {
        assert_eq!(rec.len(), csv::COLUMNS.len(), "{rec:?}");
    }
    // The case without repetitions has empty repetition fields; the odd job name survives.
    assert_eq!(records[1][13], "");
    let odd: Vec<_> = records.iter().filter(|x| x[6] == "odd,job|name").collect();
    assert_eq!(odd.len(), 2);
    let enc = records
        .iter()
        .find(|x| x[4] == "encrypt-t4-c64K-uring-ring")
        .unwrap();
    let mbs: f64 = enc[17].parse().unwrap();
    assert!((mbs - 4.0 * 600.0 * 1.048_576).abs() < 1.0, "{mbs}");
    assert_eq!(enc[19], "chunk");
    assert!(enc[20].parse::<u64>().unwrap() <= enc[21].parse::<u64>().unwrap());
}

#[test]
fn markdown_has_provenance_tables_and_links() {
    let dir = tmp();
    let r = full();
    write_all(&r, dir.path()).unwrap();
    let md = read(dir.path(), "report.md");
    for needle in [
        "# volcrypt bench: 20250101T000000Z-fixture",
        "| commit | abc1234-dirty |",
        "| CPU flags | aes pclmulqdq avx2 |",
        "| kernel | Linux 6.1.0 |",
        "![Throughput vs threads](throughput-vs-threads.svg)",
        "![Latency by percentile (primary stage)](latency-percentiles.svg)",
        "[fio.json](fio.json)",
        "```toml\n[global]\nreps = 3\n",
        "odd,job\\|name",
    ] {
        assert!(md.contains(needle), "{needle} missing:\n{md}");
    }
    // The results table: a header, a separator and one row per case, all as wide.
    let table: Vec<&str> = md
        .lines()
        .skip_while(|l| !l.starts_with("| case | job | workload"))
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(table.len(), 2 + r.cases.len());
    let width = |l: &str| l.replace("\\|", "").matches('|').count();
    assert!(
        table.iter().all(|l| width(l) == width(table[0])),
        "{table:#?}"
    );
    assert!(
        table[2 + 7].contains("| 1283.5 MB/s | 1258.3-1308.6 | 19200 | chunk |"),
        "{}",
        table[9]
    );
}

#[test]
fn summary_has_fios_shape() {
    let dir = tmp();
    write_all(&full(), dir.path()).unwrap();
    let s = read(dir.path(), "summary.txt");
    assert!(
        s.starts_with("volcrypt-0.1.0 (commit abc1234-dirty)"),
        "{s}"
    );
    assert!(s.contains("# Tests are approximate using memory only (no storage IO)."));
    assert!(s.contains("\nencrypt: (groupid=7, jobs=2): err= 0: encrypt-t2-c64K-uring-ring\n"));
    // 600 MiB/s x 2 x 1.02 median; 3 reps x 1.25 s.
    assert!(
        s.contains("\n  write: IOPS=19.2k, BW=1224MiB/s (1283MB/s)(4590MiB/3750msec)\n"),
        "{s}"
    );
    assert!(s.contains("\n  read: IOPS="), "verify reads");
    assert!(
        s.contains("\n  requests: IOPS=5200, (19.9k/3750msec)\n"),
        "{s}"
    );
    assert!(s.contains("    clat percentiles (usec):\n     |  1.00th=["));
    assert!(s.contains("\n  stage journal_commit: journal write + sync of one window\n"));
    assert!(
        s.contains("\nRun status group 7 (all jobs):\n  WRITE: bw=1224MiB/s"),
        "{s}"
    );
    assert!(s.ends_with("  threads = [1, 2, 4]\n"), "spec at the end");
}

#[test]
fn svg_plots_are_well_formed_and_drawn() {
    let dir = tmp();
    let written = write_all(&full(), dir.path()).unwrap();
    let svgs: Vec<_> = written
        .iter()
        .filter(|p| p.extension() == Some("svg".as_ref()))
        .collect();
    assert_eq!(svgs.len(), 6);
    for p in svgs {
        let text = std::fs::read_to_string(p).unwrap();
        let counts = check_svg(&text);
        let drawn = ["path", "polyline", "line", "circle"]
            .iter()
            .map(|k| counts.get(*k).copied().unwrap_or(0))
            .sum::<usize>();
        assert!(drawn > 10, "{p:?}: {counts:?}");
        assert!(
            counts.get("text").copied().unwrap_or(0) > 5,
            "{p:?}: {counts:?}"
        );
        assert_eq!(counts.get("desc"), Some(&1));
        assert!(text.contains("threads = [1, 2, 4]"), "spec in <desc>");
        assert!(
            texts(&text)[0].starts_with("volcrypt 0.1.0 (abc1234-dirty) · testhost"),
            "footer"
        );
    }
    let threads = texts(&read(dir.path(), "throughput-vs-threads.svg"));
    assert!(
        threads.iter().any(|t| t == "Throughput vs threads"),
        "{threads:?}"
    );
    assert!(
        threads
            .iter()
            .any(|t| t == "encrypt c64K uring ring journal"),
        "legend: {threads:?}"
    );
    assert!(
        threads
            .iter()
            .any(|t| t == "odd,job|name c64K mmap ring 2M"),
        "legend: {threads:?}"
    );
    let chunk = texts(&read(dir.path(), "throughput-vs-chunk.svg"));
    assert!(
        chunk.iter().any(|t| t == "64K") && chunk.iter().any(|t| t == "1M"),
        "{chunk:?}"
    );
    let lat = texts(&read(dir.path(), "latency-percentiles.svg"));
    assert!(lat.iter().any(|t| t == "99.9%"), "nines ticks: {lat:?}");
    assert!(
        !lat.iter().any(|t| t.contains("68.")),
        "only whole nines: {lat:?}"
    );
}

#[test]
fn one_point_plots_still_render() {
    let dir = tmp();
    let c = case(
        "encrypt",
        "encrypt",
        1 << 20,
        1,
        65536,
        "null",
        "ring",
        "none",
    );
    let one = report(vec![result(c, 1e9, 1, &[("chunk", 20)], 1)]);
    let written = write_all(&one, dir.path()).unwrap();
    let files = names(dir.path(), &written);
    for f in [
        "throughput-vs-threads.svg",
        "throughput-vs-chunk.svg",
        "latency-percentiles.svg",
        "throughput-over-time.svg",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} not in {files:?}");
        let counts = check_svg(&read(dir.path(), f));
        assert!(
            counts.get("circle").copied().unwrap_or(0) >= 1,
            "{f}: {counts:?}"
        );
    }
    assert!(!files.iter().any(|f| f.starts_with("kms-")));
}

#[test]
fn empty_report_writes_the_text_files() {
    let dir = tmp();
    let written = write_all(&report(Vec::new()), dir.path()).unwrap();
    let files = names(dir.path(), &written);
    assert_eq!(
        files,
        [
            "report.json",
            "fio.json",
            "summary.txt",
            "results.csv",
            "report.md"
        ]
    );
    assert_eq!(read(dir.path(), "results.csv").lines().count(), 1);
    assert!(read_report(dir.path()).unwrap().cases.is_empty());
}

#[test]
fn names_are_unique_and_file_safe() {
    assert_eq!(file_safe("a/b c.d"), "a_b_c.d");
    assert_eq!(file_safe(".hidden"), "_.hidden");
    assert_eq!(file_safe(""), "_");
    let c = case("cipher", "x", 1, 1, 4096, "none", "ring", "none");
    let n = case_names(&[c.clone(), c.clone(), c]);
    assert_eq!(
        n,
        [
            "x-t1-c4K-none-ring",
            "x-t1-c4K-none-ring-2",
            "x-t1-c4K-none-ring-3"
        ]
    );
}

#[test]
fn stages_in_pipeline_order() {
    let r = full();
    let order: Vec<&str> = ordered_stages(&r.cases[6].latency)
        .into_iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        order,
        [
            "read",
            "chunk",
            "cipher",
            "journal_commit",
            "apply",
            "checkpoint"
        ]
    );
    assert_eq!(primary_stage("encrypt", &r.cases[6].latency), Some("chunk"));
    assert_eq!(primary_stage("kms", &r.cases[10].latency), Some("request"));
    assert_eq!(
        primary_stage("kms", &std::collections::BTreeMap::<String, u8>::new()),
        None
    );
}

/// Leaves the fixture's files in `target/bench-fixture/` for the JSON-schema tests
/// (tests/bench/test_report_schema.py).
#[test]
fn writes_schema_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-fixture");
    let _ = std::fs::remove_dir_all(&dir);
    let written = write_all(&full(), &dir).unwrap();
    assert!(written.contains(&dir.join("report.json")));
    assert!(written.contains(&dir.join("fio.json")));
}
