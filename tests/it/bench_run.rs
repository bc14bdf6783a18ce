//! `volcrypt bench run` end to end: a smoke run on a tiny volume (encrypt, verify, cipher, and
//! encrypt on the null engine), a job file with command-line overrides (rewrap and kms
//! against the in-process KMS on 127.0.0.1), and spec errors. Nothing here asserts a time.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{scratch, volcrypt, MIB};

fn report(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// The results directory: the only line on stdout.
fn results_dir(stdout: &[u8]) -> PathBuf {
    let s = String::from_utf8_lossy(stdout);
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {s}");
    PathBuf::from(lines[0])
}

fn case<'a>(r: &'a Value, label_start: &str) -> &'a Value {
    r["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| {
            let k = &c["case"];
            let label = format!(
                "{}-t{}-{}-{}",
                k["job"].as_str().unwrap_or(""),
                k["threads"],
                k["io"].as_str().unwrap_or(""),
                k["backend"].as_str().unwrap_or("")
            );
            label.starts_with(label_start)
        })
        .unwrap_or_else(|| panic!("no case {label_start} in {}", r["cases"]))
}

#[test]
fn bench_run_smoke_on_a_tiny_volume() {
    let dir = scratch();
    let out = dir.path().join("results");
    let vols = dir.path().join("vols");
    std::fs::create_dir(&vols).unwrap();
    let run = volcrypt(&[
        &"bench",
        &"run",
        &"--workload",
        &"encrypt,verify,cipher",
        &"--size",
        &"4M",
        &"--threads",
        &"2",
        &"--chunk-size",
        &"64K",
        &"--io",
        &"pread,null",
        &"--resilience",
        &"journal",
        &"--warmup",
        &"0",
        &"--reps",
        &"1",
        &"--dir",
        &vols,
        &"--out",
        &out,
    ]);
    run.ok();
    let res = results_dir(&run.stdout);
    assert!(res.starts_with(&out), "{}", res.display());
    let name = res.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("-encrypt-verify-cipher"), "{name}");
    // One progress line per case on stderr, then the results path.
    for label in [
        "encrypt-t2-c64K-pread-ring",
        "encrypt-t2-c64K-null-ring",
        "verify-t2-c64K-pread-ring",
        "cipher-t2-c64K-none-ring",
    ] {
        assert!(run.stderr.contains(label), "{label}: {}", run.stderr);
    }
    assert!(run.stderr.contains("MB/s"), "{}", run.stderr);
    assert!(run
        .stderr
        .contains(&format!("results in {}", res.display())));
    for f in [
        "summary.txt",
        "report.json",
        "fio.json",
        "results.csv",
        "report.md",
    ] {
        let p = res.join(f);
        assert!(
            std::fs::metadata(&p).map(|m| m.len() > 0).unwrap_or(false),
            "{f}"
        );
    }
    let files: Vec<String> = std::fs::read_dir(&res)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.iter().any(|f| f.ends_with(".svg")), "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f == "encrypt-t2-c64K-pread-ring-chunk.hgrm"),
        "{files:?}"
    );
    let r = report(&res);
    assert_eq!(r["reps"], 1);
    assert_eq!(r["cases"].as_array().unwrap().len(), 4);
    for label in [
        "encrypt-t2-pread",
        "encrypt-t2-null",
        "verify-t2-pread",
        "cipher-t2-none",
    ] {
        let c = case(&r, label);
        let reps = c["reps"].as_array().unwrap();
        assert_eq!(reps.len(), 1, "{label}");
        assert_eq!(reps[0]["bytes"], 4 * MIB, "{label}");
        assert_eq!(reps[0]["ops"], 64, "{label}: 4 MiB in 64 KiB chunks");
        assert!(c["bw_median"].as_f64().unwrap() > 0.0, "{label}");
        assert!(
            c["latency"]["chunk"]["count"].as_u64().unwrap() >= 64,
            "{label}"
        );
    }
    let enc = case(&r, "encrypt-t2-pread");
    for stage in ["read", "journal_commit", "apply", "checkpoint"] {
        assert!(
            enc["latency"].get(stage).is_some(),
            "{stage}: {}",
            enc["latency"]
        );
    }
    let meta = &r["meta"];
    assert!(meta["spec"].as_str().unwrap().contains("workload = ["));
    assert_eq!(meta["volcrypt_version"], env!("CARGO_PKG_VERSION"));
    for k in ["git_commit", "host", "cpu_model", "kernel", "started"] {
        assert!(!meta[k].as_str().unwrap_or("").is_empty(), "{k}");
    }
    // Scratch volumes are gone.
    let left: Vec<_> = std::fs::read_dir(&vols).unwrap().collect();
    assert!(left.is_empty(), "scratch left behind: {left:?}");
}

#[test]
fn bench_run_job_file_with_kms_and_overrides() {
    let dir = scratch();
    let job = dir.path().join("kmsjobs.toml");
    std::fs::write(
        &job,
        format!(
            "[global]\nreps = 3\nwarmup = 1\ndir = \"{}\"\n\n\
             [[job]]\nname = \"rw\"\nworkload = \"rewrap\"\nsize = \"1M\"\ncount = 2\n\n\
             [[job]]\nname = \"gdk\"\nworkload = \"kms\"\nthreads = 2\nduration = \"300ms\"\n\
             kms_warmup = 0\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = volcrypt(&[
        &"bench",
        &"run",
        &"--job",
        &job,
        &"--reps",
        &"1",
        &"--warmup",
        &"0",
        &"--out",
        &out,
    ]);
    run.ok();
    let res = results_dir(&run.stdout);
    assert!(
        res.to_string_lossy().ends_with("-kmsjobs"),
        "{}",
        res.display()
    );
    let r = report(&res);
    assert_eq!(
        (r["reps"].as_u64(), r["warmup"].as_u64()),
        (Some(1), Some(0))
    );
    let spec = r["meta"]["spec"].as_str().unwrap();
    assert!(
        spec.contains("name = \"rw\"") && spec.contains("# reps = 1"),
        "{spec}"
    );
    let rw = case(&r, "rw-t1-none");
    assert_eq!(rw["reps"][0]["ops"], 2);
    assert!(
        rw["latency"]["kms_call"]["count"].as_u64().unwrap() >= 2,
        "every rewrap makes a KMS call: {}",
        rw["latency"]
    );
    let kms = case(&r, "gdk-t2-none");
    assert!(kms["reps"][0]["ops"].as_u64().unwrap() > 0);
    assert!(kms["latency"]["request"]["count"].as_u64().unwrap() > 0);
}

#[test]
fn bench_run_spec_errors_name_the_key() {
    let dir = scratch();
    let job = dir.path().join("bad.toml");
    std::fs::write(&job, "[[job]]\nworkload = \"encrypt\"\nthreds = 2\n").unwrap();
    volcrypt(&[&"bench", &"run", &"--job", &job]).fails(1, &["bad.toml", "`threds`"]);
    volcrypt(&[&"bench", &"run", &"--size", &"1M"]).fails(1, &["no workload"]);
    volcrypt(&[&"bench", &"run", &"--workload", &"verify", &"--io", &"null"])
        .fails(1, &["null", "verify"]);
    volcrypt(&[
        &"bench",
        &"run",
        &"--workload",
        &"cipher",
        &"--chunk-size",
        &"3000",
    ])
    .fails(1, &["power of two"]);
}
