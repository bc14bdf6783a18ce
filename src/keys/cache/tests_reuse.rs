//! Unit tests of data-key reuse for new volumes: pass-through without reuse, the
//! `max_uses`, `max_age` and `max_bytes` limits (bytes counted by `generate_for_bytes`,
//! `generate_sized` and `record_bytes`), and a cache without slots.

use super::tests_support::*;
use super::*;

#[test]
fn generate_passes_through_without_reuse() {
    let p = Counting::new();
    let c = cache(&p, limits(4));
    assert!(!c.shares_data_keys());
    let shared = KeyContext::shared([1; 16], 1);
    let a = c.generate(&shared).unwrap();
    let b = c.generate(&shared).unwrap();
    assert_ne!(a.0.expose(), b.0.expose());
    assert_eq!(p.generates(), 2);
    assert!(c.is_empty(), "pass-through generate cached a key");
    // Reuse on, but a per-volume context: still a pass-through.
    let r = cache(
        &p,
        CacheLimits {
            reuse_data_keys: true,
            ..limits(4)
        },
    );
    assert!(r.shares_data_keys());
    let a = r.generate(&ctx(1)).unwrap();
    let b = r.generate(&ctx(1)).unwrap();
    assert_ne!(a.1, b.1);
    assert_eq!(p.generates(), 4);
    assert_eq!(r.metrics().inner_calls.generate, 2);
}

#[test]
fn reused_keys_stop_at_max_uses_and_are_cached_for_unwrap() {
    let p = Counting::new();
    let c = cache(&p, reuse(3));
    let x = KeyContext::shared([9; 16], 1);
    let got: Vec<(DataKey, WrappedKey)> = (0..7).map(|_| c.generate(&x).unwrap()).collect();
    assert_eq!(p.generates(), 3);
    for (i, (k, w)) in got.iter().enumerate() {
        let first = &got[i / 3 * 3];
        assert_eq!(k.expose(), first.0.expose());
        assert_eq!(w, &first.1);
    }
    assert_ne!(got[0].1, got[3].1);
    assert_ne!(got[3].1, got[6].1);
    // Opening those volumes later: the shared context of any volume UUID is the same entry.
    for (k, w) in &got {
        let open = KeyContext::shared([0x77; 16], 1);
        assert_eq!(c.unwrap(w, &open).unwrap().expose(), k.expose());
    }
    assert_eq!(p.unwraps(), 0);
    let m = c.metrics();
    assert_eq!((m.hits, m.misses), (4 + 7, 3));
    // Another key version is another pool.
    let v2 = KeyContext::shared([9; 16], 2);
    assert_ne!(c.generate(&v2).unwrap().1, got[6].1);
    assert_eq!(p.generates(), 4);
}

#[test]
fn reuse_bound_n_volumes_make_at_most_n_over_max_uses_plus_one_calls() {
    let p = Counting::new();
    let c = cache(&p, reuse(50));
    let mut blobs = Vec::new();
    let mut keys = Vec::new();
    for n in 0..200u32 {
        let mut uuid = [0u8; 16];
        uuid[..4].copy_from_slice(&n.to_be_bytes());
        let (k, w) = c.generate(&KeyContext::shared(uuid, 1)).unwrap();
        if !blobs.contains(&w.blob) {
            blobs.push(w.blob.clone());
            keys.push(*k.expose());
        }
    }
    assert!(p.generates() <= 200 / 50 + 1, "{}", p.generates());
    assert_eq!(p.generates(), 4);
    assert_eq!(blobs.len() as u64, p.generates());
    for i in 0..keys.len() {
        for j in i + 1..keys.len() {
            assert_ne!(keys[i], keys[j]);
        }
    }
}

#[test]
fn reuse_stops_at_max_age() {
    let p = Counting::new();
    let (secs, clock) = manual_clock();
    let c = DataKeyCache::with_clock(Arc::clone(&p) as Arc<dyn KeyProvider>, reuse(100), clock);
    let x = KeyContext::shared([1; 16], 1);
    let a = c.generate(&x).unwrap();
    secs.store(299, Ordering::SeqCst);
    assert_eq!(c.generate(&x).unwrap().1, a.1);
    secs.store(300, Ordering::SeqCst);
    assert_ne!(c.generate(&x).unwrap().1, a.1);
    assert_eq!(p.generates(), 2);
    assert!(
        !c.buffer_contains(a.0.expose()),
        "expired key left in its slot"
    );
}

#[test]
fn reuse_stops_at_max_bytes() {
    let p = Counting::new();
    let c = cache(
        &p,
        CacheLimits {
            max_bytes: 1000,
            ..reuse(100)
        },
    );
    let x = KeyContext::shared([1; 16], 1);
    // Counted up front: 400 + 400 fit, a third 400 would not.
    let a = c.generate_for_bytes(&x, 400).unwrap();
    assert_eq!(c.generate_for_bytes(&x, 400).unwrap().1, a.1);
    let b = c.generate_for_bytes(&x, 400).unwrap();
    assert_ne!(b.1, a.1);
    assert_eq!(p.generates(), 2);
    // A volume larger than max_bytes on its own gets a key nobody shares.
    let big = c.generate_for_bytes(&x, 5000).unwrap();
    assert_ne!(big.1, b.1);
    assert_eq!(c.generate_for_bytes(&x, 0).unwrap().1, b.1);
    assert_eq!(p.generates(), 3);
    // Counted after the fact: reaching max_bytes retires the key for new volumes...
    assert!(c.record_bytes(&b.1, &x, 600));
    let d = c.generate(&x).unwrap();
    assert_ne!(d.1, b.1);
    assert_eq!(p.generates(), 4);
    // ... but it still opens the volumes that have it.
    assert_eq!(c.unwrap(&b.1, &x).unwrap().expose(), b.0.expose());
    assert_eq!(p.unwraps(), 0);
    assert!(!c.record_bytes(&b.1, &ctx(1), 1), "unknown entry");
}

/// The engine creates volumes through `generate_sized`: their sizes count toward
/// `max_bytes` (60 + 60 > 100, so the second volume gets a new key).
#[test]
fn generate_sized_counts_bytes_toward_max_bytes() {
    let p = Counting::new();
    let c = cache(
        &p,
        CacheLimits {
            max_bytes: 100,
            ..reuse(100)
        },
    );
    let x = KeyContext::shared([1; 16], 1);
    let a = c.generate_sized(&x, 60).unwrap();
    let b = c.generate_sized(&x, 60).unwrap();
    assert_ne!(a.1, b.1);
    assert_eq!(p.generates(), 2);
    assert_eq!(c.metrics().inner_calls.generate, 2);
    // Small enough volumes still share: 60 + 40 fits.
    assert_eq!(c.generate_sized(&x, 40).unwrap().1, b.1);
    assert_eq!(p.generates(), 2);
}

#[test]
fn capacity_zero_caches_nothing() {
    let p = Counting::new();
    let c = cache(
        &p,
        CacheLimits {
            capacity: 0,
            ..reuse(10)
        },
    );
    assert!(c.mlock_warning().is_none());
    let (k, w, x) = volume_key(&p, 1);
    for _ in 0..2 {
        assert_eq!(c.unwrap(&w, &x).unwrap().expose(), k.expose());
    }
    assert_eq!(p.unwraps(), 2);
    let s = KeyContext::shared([1; 16], 1);
    assert_ne!(c.generate(&s).unwrap().1, c.generate(&s).unwrap().1);
    assert_eq!(p.generates(), 2);
}
