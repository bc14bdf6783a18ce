//! Unit tests of single flight in the data-key cache (deterministic: a gate holds the inner
//! call until every other caller is waiting): concurrent identical unwraps and shared
//! generates share one inner call, and a failed shared call fails every waiter.

use std::sync::Barrier;

use super::tests_support::*;
use super::*;

/// 16 threads unwrap the same blob; the inner call is held at a gate until the other 15
/// are waiting on it: one inner call, one key for all.
#[test]
fn concurrent_identical_unwraps_share_one_inner_call() {
    const N: usize = 16;
    let p = Counting::gated();
    let c = Arc::new(cache(&p, limits(4)));
    let (k, w, x) = volume_key(&p, 1);
    let start = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|_| {
            let (c, w, start) = (Arc::clone(&c), w.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                *c.unwrap(&w, &x).unwrap().expose()
            })
        })
        .collect();
    let gate = p.gate.as_ref().unwrap();
    gate.wait_entered(1);
    wait_until(|| c.metrics().coalesced == (N - 1) as u64);
    gate.open();
    for t in threads {
        assert_eq!(&t.join().unwrap(), k.expose());
    }
    assert_eq!(p.unwraps(), 1);
    let m = c.metrics();
    assert_eq!((m.misses, m.coalesced, m.hits), (1, (N - 1) as u64, 0));
    assert_eq!(m.inner_calls.unwrap, 1);
    c.unwrap(&w, &x).unwrap();
    assert_eq!(p.unwraps(), 1);
}

/// The shared inner call fails: every waiter gets an equivalent error, nothing is cached.
#[test]
fn a_failed_shared_call_fails_every_waiter_and_caches_nothing() {
    const N: usize = 16;
    let p = Counting::gated();
    p.fail_with(Some("KMSInvalidStateException"));
    let c = Arc::new(cache(&p, limits(4)));
    let (k, w, x) = volume_key(&p, 1);
    let start = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|_| {
            let (c, w, start) = (Arc::clone(&c), w.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                c.unwrap(&w, &x).map(|k| *k.expose())
            })
        })
        .collect();
    let gate = p.gate.as_ref().unwrap();
    gate.wait_entered(1);
    wait_until(|| c.metrics().coalesced == (N - 1) as u64);
    gate.open();
    for t in threads {
        let e = t.join().unwrap().unwrap_err();
        match e {
            KeyError::Kms { code, message } => {
                assert_eq!(code, "KMSInvalidStateException");
                assert!(message.contains("KMSInvalidStateException"), "{message}");
            }
            other => panic!("unexpected error {other}"),
        }
    }
    assert_eq!(p.unwraps(), 1);
    assert!(c.is_empty());
    assert_eq!(c.metrics().errors.get("KMSInvalidStateException"), Some(&1));
    // Nothing was cached: the next open asks again (and now succeeds).
    p.fail_with(None);
    assert_eq!(c.unwrap(&w, &x).unwrap().expose(), k.expose());
    assert_eq!(p.unwraps(), 2);
}

/// Concurrent creations of new volumes in reuse mode share one GenerateDataKey.
#[test]
fn concurrent_shared_generates_share_one_inner_call() {
    const N: usize = 16;
    let p = Counting::gated();
    let c = Arc::new(cache(&p, reuse(100)));
    let start = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|i| {
            let (c, start) = (Arc::clone(&c), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let x = KeyContext::shared([i as u8; 16], 1);
                c.generate(&x).unwrap().1
            })
        })
        .collect();
    let gate = p.gate.as_ref().unwrap();
    gate.wait_entered(1);
    wait_until(|| c.metrics().coalesced == (N - 1) as u64);
    gate.open();
    let wrapped: Vec<WrappedKey> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(wrapped.iter().all(|w| *w == wrapped[0]));
    assert_eq!(p.generates(), 1);
    let m = c.metrics();
    assert_eq!(
        (m.misses, m.coalesced, m.hits),
        (1, (N - 1) as u64, (N - 1) as u64)
    );
}
