//! Tests of spec parsing and sweep expansion.

use super::*;

fn toml(text: &str) -> Result<Spec, BenchError> {
    Spec::from_toml(text, "file", &[])
}

fn err(text: &str) -> String {
    match toml(text) {
        Ok(s) => panic!("expected an error, got {s:?}"),
        Err(e) => e.to_string(),
    }
}

fn labels(s: &Spec) -> Vec<String> {
    s.points().unwrap().iter().map(|p| p.case.label()).collect()
}

const SWEEP: &str = r#"
[global]
name = "sweep"
warmup = 0
reps = 2
io = ["pread", "mmap"]
size = "8M"

[[job]]
name = "enc"
workload = "encrypt"
threads = [1, 2]
chunk_size = ["64K", "1M"]
crypto = ["ring", "aws-lc"]
resilience = "none"

[[job]]
name = "aes"
workload = "cipher"
threads = 1
chunk_size = ["4K", "64K", 1048576]
crypto = ["ring", "raw"]
"#;

#[test]
fn toml_sweeps_expand_to_the_cross_product() {
    let s = toml(SWEEP).unwrap();
    assert_eq!((s.name.as_str(), s.warmup, s.reps), ("sweep", 0, 2));
    assert_eq!(s.out, PathBuf::from("results"));
    assert_eq!(s.text, SWEEP, "the spec text is recorded as given");
    let points = s.points().unwrap();
    // encrypt: 2 threads x 2 chunks x 2 engines x 2 backends; cipher: 3 chunks x 2 (io from
    // [global] does not apply to cipher and does not multiply it).
    assert_eq!(points.len(), 16 + 6);
    let enc = &points[0];
    assert_eq!(enc.case.label(), "enc-t1-c64K-pread-ring");
    assert_eq!((enc.size, enc.resilience), (8 << 20, Resilience::None));
    let cipher: Vec<&Point> = points
        .iter()
        .filter(|p| p.workload == Workload::Cipher)
        .collect();
    assert_eq!(cipher.len(), 6);
    assert!(cipher.iter().all(|p| p.io.is_none() && p.case.io == "none"));
    assert_eq!(cipher[5].case.label(), "aes-t1-c1M-none-raw");
    assert_eq!(cipher[5].chunk_size, 1 << 20);
}

#[test]
fn unknown_keys_are_named() {
    let e = err("[[job]]\nworkload = \"encrypt\"\nthreds = 2\n");
    assert!(e.contains("`threds`"), "{e}");
    let e = err("[global]\nwarmups = 1\n[[job]]\nworkload = \"cipher\"\n");
    assert!(e.contains("`warmups`") && e.contains("[global]"), "{e}");
    let e = err("workload = \"cipher\"\n");
    assert!(e.contains("`workload`") && e.contains("top level"), "{e}");
    let e = err("[[job]]\nworkload = \"cipher\"\nreps = 2\n");
    assert!(
        e.contains("`reps`") && e.contains("belongs in [global]"),
        "{e}"
    );
}

#[test]
fn keys_that_do_not_apply_are_named() {
    let e = err("[[job]]\nname = \"c\"\nworkload = \"cipher\"\nio = \"pread\"\n");
    assert!(e.contains("`io`") && e.contains("cipher"), "{e}");
    // The same key in [global] is a default, ignored where it does not apply.
    let s = toml("[global]\nio = \"pread\"\n[[job]]\nworkload = \"cipher\"\n").unwrap();
    assert_eq!(s.points().unwrap().len(), 1);
}

#[test]
fn bad_values_are_refused_with_the_key() {
    for (text, needle) in [
        ("chunk_size = 3000", "power of two"),
        ("chunk_size = \"2M\"", "power of two"),
        ("size = \"12Q\"", "size"),
        ("size = 0", "size"),
        ("threads = 0", "threads"),
        ("threads = [1, \"two\"]", "threads"),
        ("resilience = \"maybe\"", "resilience"),
        ("io = \"mem\"", "test engine"),
        ("io = \"floppy\"", "floppy"),
        ("crypto = \"des\"", "des"),
        ("key = \"usb\"", "key source"),
        ("threads = []", "empty list"),
    ] {
        let e = err(&format!("[[job]]\nworkload = \"encrypt\"\n{text}\n"));
        assert!(e.contains(needle), "{text}: {e}");
    }
    assert!(err("[global]\nreps = 0\n[[job]]\nworkload = \"cipher\"\n").contains("reps"));
    assert!(err("[[job]]\nname = \"x\"\n").contains("no workload"));
    assert!(err("[[job]]\nworkload = \"mine\"\n").contains("unknown workload"));
    assert!(err("not toml = = 1").contains("invalid TOML"));
}

#[test]
fn null_and_raw_only_where_they_run() {
    let s = toml("[[job]]\nworkload = [\"encrypt\", \"verify\"]\nio = [\"pread\", \"null\"]\n")
        .unwrap();
    let l = labels(&s);
    assert_eq!(l.len(), 3, "{l:?}");
    assert!(l
        .iter()
        .any(|x| x.starts_with("encrypt-") && x.contains("-null-")));
    assert!(!l
        .iter()
        .any(|x| x.starts_with("verify-") && x.contains("-null-")));
    let e = err("[[job]]\nworkload = \"verify\"\nio = \"null\"\n");
    assert!(e.contains("null") && e.contains("verify"), "{e}");
    let e = err("[[job]]\nworkload = \"encrypt\"\ncrypto = \"raw\"\n");
    assert!(e.contains("raw") && e.contains("cipher"), "{e}");
}

#[test]
fn labels_stay_unique() {
    // Two workloads, two sizes and two resilience modes in one named job.
    let s = toml(
        "[[job]]\nname = \"j\"\nworkload = [\"encrypt\", \"decrypt\"]\nsize = [\"4M\", \"8M\"]\n\
         resilience = [\"none\", \"journal\"]\n",
    )
    .unwrap();
    let l = labels(&s);
    assert_eq!(l.len(), 8);
    let t = s.jobs[0].threads[0];
    let want = format!("j-encrypt-s4M-none-t{t}-c64K-mmap-ring");
    assert!(l.contains(&want), "{want} not in {l:?}");
    let e = err("[[job]]\nname = \"a\"\nworkload = \"cipher\"\n[[job]]\nname = \"a\"\nworkload = \"cipher\"\n");
    assert!(e.contains("share the label"), "{e}");
}

#[test]
fn flags_become_a_global_table() {
    let flags = [
        ("workload", "cipher,encrypt".to_owned()),
        ("chunk_size", "4K, 64K".to_owned()),
        ("threads", "1,2".to_owned()),
        ("io", "null".to_owned()),
        ("reps", "1".to_owned()),
        ("out", "/tmp/r".to_owned()),
    ];
    let s = Spec::from_flags(&flags).unwrap();
    assert_eq!(s.name, "cipher-encrypt");
    assert_eq!((s.reps, s.out.clone()), (1, PathBuf::from("/tmp/r")));
    assert!(s.text.starts_with("[global]\n"), "{}", s.text);
    assert!(s.text.contains("threads = [1, 2]"), "{}", s.text);
    let l = labels(&s);
    assert_eq!(l.len(), 8, "{l:?}");
    assert!(l.contains(&"cipher-t2-c4K-none-ring".to_owned()), "{l:?}");
    assert!(l.contains(&"encrypt-t1-c64K-null-ring".to_owned()), "{l:?}");
    // The recorded text parses back to the same spec.
    let again = Spec::from_toml(&s.text, "", &[]).unwrap();
    assert_eq!(again.points().unwrap(), s.points().unwrap());
    assert!(Spec::from_flags(&[("size", "1M".into())])
        .unwrap_err()
        .to_string()
        .contains("no workload"));
    assert!(
        Spec::from_flags(&[("workload", "cipher".into()), ("reps", "x".into())])
            .unwrap_err()
            .to_string()
            .contains("whole number")
    );
}

#[test]
fn flags_replace_a_job_files_global_values() {
    let s = Spec::from_toml(
        SWEEP,
        "file",
        &[("reps", "1".into()), ("warmup", "2".into())],
    )
    .unwrap();
    assert_eq!((s.reps, s.warmup), (1, 2));
    assert!(s.text.starts_with(SWEEP));
    assert!(s.text.contains("# reps = 1"), "{}", s.text);
    let unnamed = Spec::from_toml("[[job]]\nworkload = \"cipher\"\n", "myjobs", &[]).unwrap();
    assert_eq!(unnamed.name, "myjobs", "the file's stem names the run");
}

#[test]
fn kms_settings_and_defaults() {
    let s = toml(
        "[[job]]\nworkload = \"kms\"\nthreads = [1, 8]\nop = \"decrypt\"\nduration = \"500ms\"\n\
         kms_warmup = 0\nclient_threads = 2\n",
    )
    .unwrap();
    let k = &s.jobs[0].kms;
    assert_eq!(k.op, crate::bench::kms::Workload::Decrypt);
    assert_eq!(k.duration, Duration::from_millis(500));
    assert_eq!((k.warmup, k.client_threads), (Duration::ZERO, 2));
    assert_eq!(k.region, "us-east-1");
    let l = labels(&s);
    assert_eq!(l, vec!["kms-t1-none-none", "kms-t8-none-none"]);
    let p = &s.points().unwrap()[0];
    assert_eq!((p.size, p.chunk_size), (0, 0));
    let d = toml("[[job]]\nworkload = \"rewrap\"\n").unwrap();
    assert_eq!(d.jobs[0].count, 10);
    assert_eq!(d.jobs[0].key, None);
    assert_eq!(d.jobs[0].sizes, vec![DEFAULT_SIZE]);
}

#[test]
fn value_parsers() {
    assert_eq!(parse_size_text("64K"), Ok(64 << 10));
    assert_eq!(parse_size_text("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size_text("4096"), Ok(4096));
    assert!(parse_size_text("1X").is_err());
    assert!(parse_size_text("99999999999T").is_err());
    assert_eq!(parse_duration_text("2m"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration_text("1.5s"), Ok(Duration::from_millis(1500)));
    assert!(parse_duration_text("-1s").is_err());
    assert!(parse_duration_text("25h").is_err());
}

#[test]
fn example_job_files_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench-jobs");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let s = Spec::from_file(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.points().unwrap().is_empty(), "{}", path.display());
        n += 1;
    }
    assert!(n >= 3, "expected example job files in {}", dir.display());
}
