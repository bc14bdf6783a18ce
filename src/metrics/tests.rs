//! Tests of [`Metrics`]: the rendered text parses (see `exposition_tests.rs`), observers,
//! the instrumented key provider, gauges, the cache mirror, and that no key material leaks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;

use super::exposition::parse;
use super::provider::error_code;
use super::Metrics;
use crate::crypto::DataKey;
use crate::engine::Stage;
use crate::keys::{
    CacheLimits, DataKeyCache, FileKeyProvider, KeyContext, KeyError, KeyProvider, WrappedKey,
};

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn ctx() -> KeyContext {
    KeyContext::volume([3; 16], 1)
}

#[test]
fn render_parses_after_recording_and_histograms_are_consistent() {
    let m = Arc::new(Metrics::new());
    let obs = m.observer("encrypt", Stage::Apply);
    for stage in Stage::ALL {
        obs.record(stage, us(40), 4096);
    }
    for n in [3, 7, 20, 90, 150] {
        obs.record(Stage::Chunk, us(n), 0);
    }
    obs.record(Stage::Checkpoint, Duration::from_millis(4), 0);
    obs.record(Stage::JournalCommit, Duration::from_secs(60), 0); // past the last bucket
    m.job_started("encrypt");
    m.job_finished("encrypt", "done");
    m.set_throughput("encrypt", 1.5e9);
    let text = m.render();
    let e = parse(&text);

    for family in [
        "volcrypt_stage_duration_seconds",
        "volcrypt_bytes_processed",
        "volcrypt_jobs_started",
        "volcrypt_jobs_finished",
        "volcrypt_jobs",
        "volcrypt_throughput_bytes_per_second",
        "volcrypt_kms_requests",
        "volcrypt_kms_errors",
        "volcrypt_kms_request_duration_seconds",
    ] {
        assert!(
            e.types.contains_key(family),
            "no # TYPE for {family}\n{text}"
        );
    }
    assert_eq!(e.types["volcrypt_stage_duration_seconds"], "histogram");
    for stage in Stage::ALL {
        let count = e.value(
            "volcrypt_stage_duration_seconds_count",
            &[("op", "encrypt"), ("stage", stage.name())],
        );
        let want = match stage {
            Stage::Chunk => 6.0,
            Stage::Checkpoint | Stage::JournalCommit => 2.0,
            _ => 1.0,
        };
        assert_eq!(count, Some(want), "{}", stage.name());
    }
    // 3 µs lands in the (2 µs, 4 µs] bucket; the 60 s journal commit only in +Inf.
    let chunk = [("op", "encrypt"), ("stage", "chunk")];
    // The bucket of `labels` whose upper bound is `le` (compared as numbers).
    let bucket = |le: f64, labels: &[(&str, &str)]| {
        e.named("volcrypt_stage_duration_seconds_bucket")
            .find(|s| {
                labels.iter().all(|(k, v)| s.labels[*k] == *v)
                    && s.labels["le"].parse::<f64>().ok() == Some(le)
            })
            .map(|s| s.value)
    };
    assert_eq!(bucket(2e-6, &chunk), Some(0.0), "{text}");
    assert_eq!(bucket(4e-6, &chunk), Some(1.0));
    assert_eq!(bucket(f64::INFINITY, &chunk), Some(6.0));
    let journal = [("op", "encrypt"), ("stage", "journal_commit")];
    assert_eq!(bucket(f64::INFINITY, &journal), Some(2.0));
    // 40 µs from the first loop; the 60 s one is past the last finite bound.
    assert_eq!(bucket(16.777216, &journal), Some(1.0));
    let sum = e
        .value("volcrypt_stage_duration_seconds_sum", &chunk)
        .unwrap_or_default();
    assert!((sum - 310e-6).abs() < 1e-9, "chunk sum {sum}");
    assert_eq!(
        e.value("volcrypt_jobs_started_total", &[("op", "encrypt")]),
        Some(1.0)
    );
    assert_eq!(
        e.value(
            "volcrypt_jobs_finished_total",
            &[("op", "encrypt"), ("state", "done")]
        ),
        Some(1.0)
    );
    assert_eq!(
        e.value("volcrypt_throughput_bytes_per_second", &[("op", "encrypt")]),
        Some(1.5e9)
    );
    assert!(m.render().ends_with("# EOF\n"));
    assert!(Metrics::CONTENT_TYPE.starts_with("application/openmetrics-text"));
}

#[test]
fn stages_never_recorded_render_no_series() {
    let m = Arc::new(Metrics::new());
    let obs = m.observer("verify", Stage::Read);
    obs.record(Stage::Read, us(10), 100);
    let e = parse(&m.render());
    let stages: Vec<&str> = e
        .named("volcrypt_stage_duration_seconds_count")
        .map(|s| s.labels["stage"].as_str())
        .collect();
    assert_eq!(stages, ["read"]);
}

#[test]
fn bytes_counters_add_up_across_threads_and_observers() {
    let m = Arc::new(Metrics::new());
    let enc = m.observer("encrypt", Stage::Apply);
    let enc2 = m.observer("encrypt", Stage::Apply);
    let verify = m.observer("verify", Stage::Read);
    std::thread::scope(|s| {
        for obs in [&enc, &enc2, &enc, &enc2] {
            s.spawn(move || {
                for _ in 0..500 {
                    obs.record(Stage::Apply, us(5), 4096);
                    obs.record(Stage::Read, us(5), 1_000_000); // not counted for encrypt
                    obs.record(Stage::Chunk, us(5), 4096); // never counted
                }
            });
        }
    });
    verify.record(Stage::Read, us(5), 123);
    verify.record(Stage::Read, us(5), 877);
    verify.record(Stage::Apply, us(5), 999); // verify counts reads only
    let e = parse(&m.render());
    let total = |op| e.value("volcrypt_bytes_processed_total", &[("op", op)]);
    assert_eq!(total("encrypt"), Some(4.0 * 500.0 * 4096.0));
    assert_eq!(total("verify"), Some(1000.0));
    assert_eq!(
        e.value(
            "volcrypt_stage_duration_seconds_count",
            &[("op", "encrypt"), ("stage", "chunk")]
        ),
        Some(2000.0)
    );
}

/// A provider that fails the next call with the queued error.
struct Fake {
    fail_next: Mutex<Option<KeyError>>,
    calls: AtomicUsize,
}

impl Fake {
    fn new() -> Arc<Self> {
        Arc::new(Fake {
            fail_next: Mutex::new(None),
            calls: AtomicUsize::new(0),
        })
    }

    fn fail_with(&self, e: KeyError) {
        *self.fail_next.lock().unwrap() = Some(e);
    }

    fn answer<T>(&self, ok: T) -> Result<T, KeyError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.fail_next.lock().unwrap().take() {
            Some(e) => Err(e),
            None => Ok(ok),
        }
    }

    /// A real wrapped key (from a key-file provider) for the fake to hand out.
    fn wrapped() -> WrappedKey {
        let file = FileKeyProvider::from_key(&DataKey::from_bytes([8; 32]), "fake.bin");
        file.generate(&ctx()).unwrap().1
    }
}

impl KeyProvider for Fake {
    fn describe(&self) -> String {
        "fake provider".to_owned()
    }
    fn generate(&self, _: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        self.answer((DataKey::from_bytes([9; 32]), Self::wrapped()))
    }
    fn unwrap(&self, _: &WrappedKey, _: &KeyContext) -> Result<DataKey, KeyError> {
        self.answer(DataKey::from_bytes([9; 32]))
    }
    fn wrap(&self, _: &DataKey, _: &KeyContext) -> Result<WrappedKey, KeyError> {
        self.answer(Self::wrapped())
    }
    fn rewrap(&self, _: &WrappedKey, _: &KeyContext) -> Result<Option<WrappedKey>, KeyError> {
        self.answer(None)
    }
    fn shares_data_keys(&self) -> bool {
        true
    }
}

fn kms_error(code: &str) -> KeyError {
    KeyError::Kms {
        code: code.to_owned(),
        message: "SECRET-MESSAGE-TEXT arn:aws:kms:xx".to_owned(),
    }
}

#[test]
fn instrument_counts_calls_errors_and_passes_through() {
    let m = Arc::new(Metrics::new());
    let fake = Fake::new();
    let p = m.instrument(fake.clone());
    assert_eq!(p.describe(), "fake provider");
    assert!(p.shares_data_keys());
    let c = ctx();
    let w = Fake::wrapped();

    assert!(p.generate(&c).is_ok());
    fake.fail_with(kms_error("DisabledException"));
    assert!(p.generate(&c).is_err());
    assert!(p.generate_sized(&c, 1 << 30).is_ok());
    fake.fail_with(KeyError::KmsUnreachable("timeout".to_owned()));
    assert!(p.unwrap(&w, &c).is_err());
    fake.fail_with(KeyError::KmsUnreachable("timeout".to_owned()));
    assert!(p.unwrap(&w, &c).is_err());
    assert!(p.unwrap(&w, &c).is_ok());
    assert!(p.wrap(&DataKey::from_bytes([1; 32]), &c).is_ok());
    fake.fail_with(kms_error("Bad\"Code\n{x}\\"));
    assert!(p.rewrap(&w, &c).is_err());
    assert_eq!(fake.calls.load(Ordering::SeqCst), 8);

    let text = m.render();
    let e = parse(&text);
    let requests = |op| e.value("volcrypt_kms_requests_total", &[("op", op)]);
    assert_eq!(requests("generate"), Some(2.0));
    assert_eq!(requests("generate_sized"), Some(1.0));
    assert_eq!(requests("unwrap"), Some(3.0));
    assert_eq!(requests("wrap"), Some(1.0));
    assert_eq!(requests("rewrap"), Some(1.0));
    for op in ["generate", "generate_sized", "unwrap", "wrap", "rewrap"] {
        assert_eq!(
            e.value("volcrypt_kms_request_duration_seconds_count", &[("op", op)]),
            requests(op),
            "{op}"
        );
    }
    let errors = |op, code| e.value("volcrypt_kms_errors_total", &[("op", op), ("code", code)]);
    assert_eq!(errors("generate", "DisabledException"), Some(1.0));
    assert_eq!(errors("unwrap", "Unreachable"), Some(2.0));
    assert_eq!(errors("rewrap", "BadCodex"), Some(1.0), "{text}");
    assert_eq!(e.named("volcrypt_kms_errors_total").count(), 3);
    assert!(!text.contains("SECRET-MESSAGE-TEXT"));
}

#[test]
fn error_codes_name_the_variant_or_the_kms_code() {
    assert_eq!(
        error_code(&kms_error("KMSInvalidStateException")),
        "KMSInvalidStateException"
    );
    assert_eq!(error_code(&kms_error("\"\n")), "Unknown");
    assert_eq!(error_code(&kms_error(&"A".repeat(500))).len(), 64);
    assert_eq!(error_code(&KeyError::KmsConfig("x".into())), "Config");
    assert_eq!(error_code(&KeyError::WrongKey("x".into())), "WrongKey");
}

#[test]
fn set_jobs_renders_every_state_and_updates() {
    let m = Metrics::new();
    let states = ["queued", "running", "paused", "done", "failed", "cancelled"];
    let counts: Vec<(&'static str, u64)> =
        states.iter().zip(0u64..).map(|(s, n)| (*s, n)).collect();
    m.set_jobs(&counts);
    m.set_jobs(&[("running", 7)]);
    let e = parse(&m.render());
    assert_eq!(e.types["volcrypt_jobs"], "gauge");
    for (state, n) in counts {
        let want = if state == "running" { 7.0 } else { n as f64 };
        assert_eq!(
            e.value("volcrypt_jobs", &[("state", state)]),
            Some(want),
            "{state}"
        );
    }
    assert_eq!(e.named("volcrypt_jobs").count(), states.len());
}

#[test]
fn cache_families_mirror_the_cache_only_once_set() {
    let m = Arc::new(Metrics::new());
    assert!(!m.render().contains("volcrypt_key_cache"));
    let file = FileKeyProvider::from_key(&DataKey::from_bytes([5; 32]), "k.bin");
    let limits = CacheLimits {
        lock_memory: false,
        ..CacheLimits::default()
    };
    let cache = DataKeyCache::new(m.instrument(Arc::new(file)), limits);
    let c = ctx();
    let (_, wrapped) = cache.generate(&c).unwrap();
    for _ in 0..3 {
        cache.unwrap(&wrapped, &c).unwrap();
    }
    let cm = cache.metrics();
    m.set_cache(&cm);
    let e = parse(&m.render());
    assert_eq!(e.types["volcrypt_key_cache_hits"], "counter");
    assert_eq!(e.types["volcrypt_key_cache_entries"], "gauge");
    let v = |name| e.value(name, &[]);
    assert_eq!(v("volcrypt_key_cache_hits_total"), Some(cm.hits as f64));
    assert_eq!(v("volcrypt_key_cache_misses_total"), Some(cm.misses as f64));
    assert_eq!(
        v("volcrypt_key_cache_coalesced_total"),
        Some(cm.coalesced as f64)
    );
    assert_eq!(
        v("volcrypt_key_cache_evictions_total"),
        Some(cm.evictions as f64)
    );
    assert_eq!(
        v("volcrypt_key_cache_expirations_total"),
        Some(cm.expirations as f64)
    );
    assert_eq!(v("volcrypt_key_cache_entries"), Some(cm.entries as f64));
    assert_eq!(cm.hits + cm.misses, 3, "three unwraps were served");
    // The instrumented inner provider saw exactly the cache's inner calls.
    let requests = |op| e.value("volcrypt_kms_requests_total", &[("op", op)]);
    assert_eq!(requests("unwrap"), Some(cm.inner_calls.unwrap as f64));
    assert_eq!(requests("generate"), Some(cm.inner_calls.generate as f64));
}

fn encodings(bytes: &[u8]) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        hex.to_uppercase(),
        hex,
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
    ]
}

#[test]
fn no_key_material_in_rendered_metrics() {
    let m = Arc::new(Metrics::new());
    let wrapping = DataKey::from_bytes(*b"wrapping-key-material-0123456789");
    let p = m.instrument(Arc::new(FileKeyProvider::from_key(&wrapping, "k.bin")));
    let c = ctx();
    let (dk, wrapped) = p.generate(&c).unwrap();
    let again = p.unwrap(&wrapped, &c).unwrap();
    assert_eq!(again.expose(), dk.expose());
    let rewrapped = p.wrap(&dk, &c).unwrap();
    let obs = m.observer("encrypt", Stage::Apply);
    obs.record(Stage::Apply, us(10), 4096);
    let text = m.render();
    parse(&text);
    assert_eq!(
        parse(&text).value("volcrypt_kms_requests_total", &[("op", "generate")]),
        Some(1.0)
    );
    for secret in [dk.expose().as_slice(), wrapping.expose().as_slice()] {
        for enc in encodings(secret) {
            assert!(!text.contains(&enc), "key material {enc} in metrics");
        }
    }
    for blob in [&wrapped.blob, &rewrapped.blob] {
        for enc in encodings(blob) {
            assert!(!text.contains(&enc), "wrapped key in metrics");
        }
    }
    assert!(!text.contains("wrapping-key"));
    assert!(!text.contains(&wrapped.key_id), "key id in metrics");
}
