//! Unit tests of the data-key cache's unwrap side: hits and misses, LRU eviction, expiry on
//! an injected clock, slot wiping, errors and their codes, delegated wrap/rewrap with
//! metrics, and the mlock fallback.

use super::metrics::error_code;
use super::tests_support::*;
use super::*;
use crate::crypto::CryptoError;

#[test]
fn cache_is_send_and_sync_and_defaults_are_documented() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<DataKeyCache>();
    let d = CacheLimits::default();
    assert_eq!(d.capacity, 64);
    assert_eq!(d.max_age, Duration::from_secs(300));
    assert_eq!(d.max_uses, 1000);
    assert_eq!(d.max_bytes, 1 << 40);
    assert!(!d.reuse_data_keys && d.lock_memory);
}

#[test]
fn hit_returns_a_copy_without_calling_the_inner_provider() {
    let p = Counting::new();
    let c = cache(&p, limits(4));
    let (dk, w, x) = volume_key(&p, 1);
    let a = c.unwrap(&w, &x).unwrap();
    let b = c.unwrap(&w, &x).unwrap();
    assert_eq!(a.expose(), dk.expose());
    assert_eq!(b.expose(), dk.expose());
    assert_eq!(p.unwraps(), 1);
    // Another context for the same blob is another entry (and fails authentication).
    assert!(c.unwrap(&w, &ctx(2)).is_err());
    assert_eq!(p.unwraps(), 2);
    let m = c.metrics();
    assert_eq!((m.hits, m.misses, m.coalesced, m.entries), (1, 2, 0, 1));
    assert_eq!(m.inner_calls.unwrap, 2);
    assert_eq!(m.errors.get("WrongKey"), Some(&1));
    assert_eq!(c.describe(), "counting test provider");
}

#[test]
fn least_recently_used_entry_is_evicted_and_wiped_at_capacity() {
    let p = Counting::new();
    let c = cache(&p, limits(2));
    let (ka, a, xa) = volume_key(&p, 1);
    let (kb, b, xb) = volume_key(&p, 2);
    let (kc, cc, xc) = volume_key(&p, 3);
    c.unwrap(&a, &xa).unwrap();
    c.unwrap(&b, &xb).unwrap();
    c.unwrap(&a, &xa).unwrap(); // a is now the most recently used
    c.unwrap(&cc, &xc).unwrap(); // evicts b
    assert_eq!(c.len(), 2);
    assert!(c.buffer_contains(ka.expose()) && c.buffer_contains(kc.expose()));
    assert!(
        !c.buffer_contains(kb.expose()),
        "evicted key left in its slot"
    );
    assert_eq!(c.slot_of(&b, &xb), None);
    assert_eq!(p.unwraps(), 3);
    c.unwrap(&a, &xa).unwrap();
    assert_eq!(p.unwraps(), 3, "a was evicted instead of b");
    c.unwrap(&b, &xb).unwrap();
    assert_eq!(p.unwraps(), 4);
    let m = c.metrics();
    assert_eq!((m.evictions, m.hits, m.misses), (2, 2, 4));
}

#[test]
fn entries_expire_at_max_age_on_the_injected_clock() {
    let p = Counting::new();
    let (secs, clock) = manual_clock();
    let c = DataKeyCache::with_clock(Arc::clone(&p) as Arc<dyn KeyProvider>, limits(4), clock);
    let (k, w, x) = volume_key(&p, 1);
    c.unwrap(&w, &x).unwrap();
    let slot = c.slot_of(&w, &x).unwrap();
    assert_eq!(&c.slot_bytes(slot), k.expose());
    secs.store(299, Ordering::SeqCst);
    c.unwrap(&w, &x).unwrap();
    assert_eq!(p.unwraps(), 1);
    secs.store(300, Ordering::SeqCst);
    c.unwrap(&w, &x).unwrap();
    assert_eq!(p.unwraps(), 2, "an entry of max_age was still used");
    assert_eq!(c.metrics().expirations, 1);
    // The fresh entry (created at 300 s) expires at 600 s; purge wipes its slot.
    secs.store(599, Ordering::SeqCst);
    assert_eq!(c.purge_expired(), 0);
    secs.store(600, Ordering::SeqCst);
    assert_eq!(c.purge_expired(), 1);
    assert!(c.is_empty() && c.buffer_is_zero());
    assert_eq!(c.metrics().expirations, 2);
}

#[test]
fn clear_wipes_every_slot() {
    let p = Counting::new();
    let c = cache(&p, limits(3));
    for n in 1..=3 {
        let (_, w, x) = volume_key(&p, n);
        c.unwrap(&w, &x).unwrap();
    }
    assert!(!c.buffer_is_zero());
    c.clear();
    assert!(c.is_empty() && c.buffer_is_zero());
}

#[test]
fn errors_are_not_cached_and_are_counted_by_code() {
    let p = Counting::new();
    let c = cache(&p, limits(4));
    let (k, w, x) = volume_key(&p, 1);
    p.fail_with(Some("DisabledException"));
    for _ in 0..2 {
        let e = c.unwrap(&w, &x).unwrap_err();
        assert!(
            matches!(&e, KeyError::Kms { code, .. } if code == "DisabledException"),
            "{e}"
        );
    }
    assert_eq!(p.unwraps(), 2);
    assert!(c.is_empty());
    p.fail_with(None);
    assert_eq!(c.unwrap(&w, &x).unwrap().expose(), k.expose());
    assert_eq!(p.unwraps(), 3);
    let m = c.metrics();
    assert_eq!(m.errors.get("DisabledException"), Some(&2));
    assert_eq!(m.misses, 3);
}

#[test]
fn error_codes_and_copies_keep_the_variant() {
    let cases = [
        (KeyError::KmsUnreachable("down".into()), "Unreachable"),
        (KeyError::KmsConfig("no region".into()), "Config"),
        (KeyError::WrongKey("nope".into()), "WrongKey"),
        (
            KeyError::Kms {
                code: "AccessDeniedException".into(),
                message: "denied".into(),
            },
            "AccessDeniedException",
        ),
        (
            KeyError::ProviderMismatch {
                needed: "a".into(),
                given: "b".into(),
            },
            "ProviderMismatch",
        ),
        (KeyError::Crypto(CryptoError::Rng), "Crypto"),
    ];
    for (e, code) in cases {
        assert_eq!(error_code(&e), code);
        let copy = copy_error(&e);
        assert_eq!(copy.to_string(), e.to_string());
        assert_eq!(error_code(&copy), code);
    }
}

#[test]
fn wrap_and_rewrap_are_delegated_and_measured() {
    let p = Counting::new();
    let c = cache(&p, limits(4));
    let (k, _, x) = volume_key(&p, 1);
    let w = c.wrap(&k, &x).unwrap();
    assert_eq!(p.file.unwrap(&w, &x).unwrap().expose(), k.expose());
    assert_eq!(c.rewrap(&w, &x).unwrap(), None);
    c.generate(&x).unwrap();
    c.unwrap(&w, &x).unwrap();
    let m = c.metrics();
    assert_eq!(p.wraps.load(Ordering::SeqCst), 1);
    assert_eq!(
        m.inner_calls,
        InnerCalls {
            generate: 1,
            unwrap: 1,
            wrap: 1,
            rewrap: 1
        }
    );
    assert_eq!(m.calls_total(), 4);
    assert_eq!(m.latency.count, 4);
    assert_eq!(m.latency_us.len(), 4);
    assert!(m.p50_us() >= 1 && m.p50_us() <= m.p99_us() && m.p99_us() <= m.max_us());
    let j = serde_json::to_value(&m).unwrap();
    assert_eq!(j["inner_calls"]["rewrap"], 1);
    assert_eq!(j["latency"]["count"], 4);
    assert!(j.get("latency_us").is_none());
}

#[test]
fn mlock_state_is_reported() {
    let p = Counting::new();
    let c = cache(&p, limits(4));
    match c.mlock_warning() {
        None => assert!(c.is_locked()),
        Some(w) => {
            assert!(!c.is_locked());
            assert!(w.contains("ulimit -l") && w.contains("mlock: "), "{w}");
        }
    }
    let off = cache(
        &p,
        CacheLimits {
            lock_memory: false,
            ..limits(4)
        },
    );
    assert!(!off.is_locked() && off.mlock_warning().is_none());
    assert_eq!(
        mlock_warning_text("Operation not permitted (os error 1)"),
        "data keys are not locked in memory (mlock: Operation not permitted (os error 1)): \
         they may be swapped out; raise RLIMIT_MEMLOCK (ulimit -l)"
    );
}

const CHILD_ENV: &str = "VOLCRYPT_TEST_MLOCK_REFUSED_CHILD";

/// Run in a child process by the next test: with `ulimit -l 0` as an unprivileged user,
/// mlock is refused; the cache says so and still works.
#[test]
#[ignore = "runs in a child process of refused_mlock_warns_and_the_cache_still_works"]
fn mlock_refused_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    if let Err(why) = crate::io::memlock::refuse_mlock_in_this_process() {
        println!("CHILD-SKIP: {why}");
        return;
    }
    let p = Counting::new();
    let c = cache(&p, limits(4));
    assert!(!c.is_locked());
    let warning = c.mlock_warning().unwrap();
    assert!(warning.contains("ulimit -l"), "{warning}");
    let (k, w, x) = volume_key(&p, 1);
    for _ in 0..3 {
        assert_eq!(c.unwrap(&w, &x).unwrap().expose(), k.expose());
    }
    assert_eq!(p.unwraps(), 1);
    println!("CHILD-OK: {warning}");
}

#[test]
fn refused_mlock_warns_and_the_cache_still_works() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "keys::cache::tests_basic::mlock_refused_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = stdout.lines().find(|l| l.starts_with("CHILD-SKIP")) {
        eprintln!("SKIP refused_mlock_warns_and_the_cache_still_works: {line}");
        return;
    }
    assert!(
        out.status.success()
            && stdout.contains("CHILD-OK: data keys are not locked in memory (mlock: "),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
