//! Tests of the daemon config: defaults, a full file, every validation error naming its key,
//! the shipped example file, and which changes need a restart.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/volcrypt/volcrypt.toml"))
}

/// The key and message of an `Invalid` error (panics on success or a read error).
fn invalid(text: &str) -> (String, String) {
    match parse(text) {
        Err(ConfigError::Invalid { key, message, .. }) => (key, message),
        other => panic!("expected an Invalid error for {text:?}, got {other:?}"),
    }
}

#[test]
fn empty_file_gives_the_defaults() {
    let c = parse("").unwrap();
    assert_eq!(c, Config::defaults());
    assert_eq!(c, Config::default());
    assert_eq!(
        c.kms,
        KmsConfig {
            timeout: Duration::from_secs(10),
            ..KmsConfig::default()
        }
    );
    assert_eq!(c.cache, CacheLimits::default());
    assert_eq!(c.engine.chunk_size, 65536);
    assert_eq!(
        c.engine.threads,
        std::thread::available_parallelism().unwrap().get()
    );
    assert_eq!(c.engine.io, "auto");
    assert_eq!(c.engine.queue_depth, 32);
    assert_eq!(c.engine.crypto, Backend::Ring);
    assert_eq!(c.engine.resilience, Resilience::Journal);
    assert_eq!(
        c.jobs,
        JobsConfig {
            max_concurrent: 2,
            bandwidth: 0,
            job_bandwidth: 0
        }
    );
    assert_eq!(c.daemon.socket, Path::new("/run/volcrypt/volcrypt.sock"));
    assert_eq!(c.daemon.metrics, Some("127.0.0.1:9477".parse().unwrap()));
    assert_eq!(c.daemon.data_dir, Path::new("/var/lib/volcrypt"));
    // Empty sections are the same as none.
    assert_eq!(
        parse("[kms]\n[cache]\n[engine]\n[jobs]\n[daemon]\n").unwrap(),
        c
    );
}

#[test]
fn full_file_sets_every_key() {
    let ca = tempfile::NamedTempFile::new().unwrap();
    let text = format!(
        r#"
[kms]
endpoint = "https://kms.internal:4599"
region = "eu-west-1"
profile = "prod"
ca_bundle = "{}"
key = "alias/volumes"
timeout_secs = 30
[cache]
capacity = 16
max_age_secs = 60
reuse_data_keys = true
max_uses = 50
max_bytes = "2G"
lock_memory = false
[engine]
chunk_size = 1048576
threads = 3
io = "pread"
queue_depth = 128
crypto = "aws-lc"
resilience = "none"
[jobs]
max_concurrent = 8
bandwidth = "200M"
job_bandwidth = 1000
[daemon]
socket = "/tmp/v.sock"
metrics = "0.0.0.0:9100"
allow_remote_metrics = true
data_dir = "/srv/volcrypt"
"#,
        ca.path().display()
    );
    let c = parse(&text).unwrap();
    let expected = Config {
        kms: KmsConfig {
            endpoint: Some("https://kms.internal:4599".into()),
            region: Some("eu-west-1".into()),
            profile: Some("prod".into()),
            ca_bundle: Some(ca.path().to_owned()),
            key: Some("alias/volumes".into()),
            timeout: Duration::from_secs(30),
        },
        cache: CacheLimits {
            capacity: 16,
            max_age: Duration::from_secs(60),
            max_uses: 50,
            max_bytes: 2 << 30,
            reuse_data_keys: true,
            lock_memory: false,
        },
        engine: EngineConfig {
            chunk_size: 1 << 20,
            threads: 3,
            io: "pread".into(),
            queue_depth: 128,
            crypto: Backend::AwsLc,
            resilience: Resilience::None,
        },
        jobs: JobsConfig {
            max_concurrent: 8,
            bandwidth: 200 << 20,
            job_bandwidth: 1000,
        },
        daemon: DaemonConfig {
            socket: "/tmp/v.sock".into(),
            metrics: Some("0.0.0.0:9100".parse().unwrap()),
            data_dir: "/srv/volcrypt".into(),
        },
    };
    assert_eq!(c, expected);
    // Every key differs from its default.
    let d = Config::defaults();
    assert_ne!(c.kms, d.kms);
    assert_ne!(c.cache, d.cache);
    assert_ne!(c.engine, d.engine);
    assert_ne!(c.jobs, d.jobs);
    assert_ne!(c.daemon, d.daemon);
}

#[test]
fn each_bad_value_names_its_key() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[engine]\nchunk_size = 3000",
            "engine.chunk_size",
            "power of two",
        ),
        (
            "[engine]\nchunk_size = \"2M\"",
            "engine.chunk_size",
            "got 2097152",
        ),
        ("[engine]\nthreads = 5000", "engine.threads", "got 5000"),
        ("[engine]\nio = \"fast\"", "engine.io", "'fast'"),
        (
            "[engine]\nqueue_depth = 0",
            "engine.queue_depth",
            "between 1 and 4096",
        ),
        ("[engine]\ncrypto = \"openssl\"", "engine.crypto", "openssl"),
        (
            "[engine]\nresilience = \"raid\"",
            "engine.resilience",
            "'raid'",
        ),
        (
            "[jobs]\nmax_concurrent = 0",
            "jobs.max_concurrent",
            "must be between 1 and 64, got 0",
        ),
        ("[jobs]\nbandwidth = \"12Q\"", "jobs.bandwidth", "12Q"),
        (
            "[jobs]\njob_bandwidth = -1",
            "jobs.job_bandwidth",
            "negative",
        ),
        (
            "[cache]\nmax_age_secs = 0",
            "cache.max_age_secs",
            "at least 1",
        ),
        (
            "[cache]\nmax_bytes = \"1X\"",
            "cache.max_bytes",
            "unknown unit",
        ),
        (
            "[kms]\nendpoint = \"ftp://x\"",
            "kms.endpoint",
            "http:// or https://",
        ),
        (
            "[kms]\ntimeout_secs = 301",
            "kms.timeout_secs",
            "between 1 and 300",
        ),
        ("[kms]\nregion = \"\"", "kms.region", "empty"),
        (
            "[kms]\nca_bundle = \"/nonexistent/volcrypt/ca.pem\"",
            "kms.ca_bundle",
            "no such file",
        ),
        (
            "[daemon]\nsocket = \"run/v.sock\"",
            "daemon.socket",
            "absolute",
        ),
        (
            "[daemon]\ndata_dir = \"state\"",
            "daemon.data_dir",
            "absolute",
        ),
        (
            "[daemon]\nmetrics = \"0.0.0.0:9477\"",
            "daemon.metrics",
            "allow_remote_metrics",
        ),
        (
            "[daemon]\nmetrics = \"localhost:9477\"",
            "daemon.metrics",
            "\"off\"",
        ),
    ];
    for (text, key, needle) in cases {
        let (k, m) = invalid(text);
        assert_eq!(k, *key, "key for {text:?} (message: {m})");
        assert!(
            m.contains(needle),
            "message for {text:?} should contain {needle:?}: {m}"
        );
    }
}

#[test]
fn toml_errors_name_the_key_and_line() {
    let (k, m) = invalid("[jobs]\nmax_concurrent = 2\nmax_concurent = 3\n");
    assert_eq!(k, "jobs.max_concurent");
    assert!(m.contains("max_concurent") && m.contains("line 3"), "{m}");
    let (k, m) = invalid("[kms]\n[volumes]\nx = 1\n");
    assert_eq!(k, "volumes");
    assert!(m.contains("volumes") && m.contains("line 2"), "{m}");
    let (k, m) = invalid("[engine]\nthreads = \"four\"\n");
    assert_eq!(k, "engine.threads");
    assert!(m.contains("line 2"), "{m}");
    let (k, m) = invalid("[daemon]\nallow_remote_metrics = 1\n");
    assert_eq!(k, "daemon.allow_remote_metrics");
    assert!(m.contains("bool"), "{m}");
    let (k, m) = invalid("[jobs]\nbandwidth = true\n");
    assert_eq!(k, "jobs.bandwidth");
    assert!(m.contains("a size"), "{m}");
    // Dotted keys, inline tables and a commented header still give the full key.
    for text in [
        "jobs.max_concurent = 1\n",
        "jobs = { max_concurent = 1 }\n",
        "[jobs] # scheduling\nmax_concurent = 1\n",
    ] {
        assert_eq!(invalid(text).0, "jobs.max_concurent", "{text:?}");
    }
    assert_eq!(invalid("[jobs.x]\ny = 1\n").0, "jobs.x");
    let (k, _) = invalid("jobs = 3\n");
    assert_eq!(k, "jobs");
    let (k, m) = invalid("[jobs\nmax_concurrent = 1\n");
    assert_eq!(k, "-");
    assert!(m.contains("line 1"), "{m}");
}

#[test]
fn display_names_file_and_key() {
    let e = parse("[jobs]\nmax_concurrent = 0\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "/etc/volcrypt/volcrypt.toml: jobs.max_concurrent: must be between 1 and 64, got 0"
    );
}

#[test]
fn sizes_metrics_and_threads_forms() {
    let c = parse(
        "[jobs]\nbandwidth = \"1GiB\"\njob_bandwidth = \"64K\"\n[daemon]\nmetrics = \"off\"\n\
         [engine]\nthreads = 0\nchunk_size = \"4K\"\n",
    )
    .unwrap();
    assert_eq!(c.jobs.bandwidth, 1 << 30);
    assert_eq!(c.jobs.job_bandwidth, 64 << 10);
    assert_eq!(c.daemon.metrics, None);
    assert_eq!(c.engine.threads, Config::defaults().engine.threads);
    assert_eq!(c.engine.chunk_size, 4096);
    let c = parse("[daemon]\nmetrics = \"[::1]:9000\"\n").unwrap();
    assert_eq!(c.daemon.metrics, Some("[::1]:9000".parse().unwrap()));
}

#[test]
fn load_reads_the_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("volcrypt.toml");
    std::fs::write(&path, "[jobs]\nmax_concurrent = 4\n").unwrap();
    assert_eq!(Config::load(&path).unwrap().jobs.max_concurrent, 4);
    let missing = dir.path().join("missing.toml");
    match Config::load(&missing) {
        Err(ConfigError::Read { path, .. }) => assert_eq!(path, missing),
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn example_file_is_every_default() {
    let text = include_str!("../../scripts/volcrypt.toml");
    assert_eq!(parse(text).unwrap(), Config::defaults());
}

#[test]
fn reload_diff_lists_only_restart_keys() {
    let old = Config::defaults();
    let mut new = old.clone();
    new.cache.capacity = 8;
    new.cache.reuse_data_keys = true;
    new.jobs.bandwidth = 1 << 20;
    new.jobs.job_bandwidth = 1 << 10;
    assert!(old.reload_diff(&new).is_empty());
    new.daemon.socket = "/run/other.sock".into();
    new.engine.threads += 1;
    new.jobs.max_concurrent = 3;
    assert_eq!(
        old.reload_diff(&new),
        vec!["engine.threads", "jobs.max_concurrent", "daemon.socket"]
    );
    assert!(old.reload_diff(&old).is_empty());
}
