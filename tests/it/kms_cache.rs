//! The data-key cache (`DataKeyCache`) in front of the KMS provider, against the real local
//! KMS server in-process on loopback. KMS calls are counted twice: by the cache's metrics
//! and on the server side, from its audit log (one row per request), read after the server
//! stopped and flushed it.
//!
//! - Eight threads opening one volume at once make exactly one `Decrypt`.
//! - Reuse mode: 20 new volumes with `max_uses` 5 make at most 5 (here 4) `GenerateDataKey`
//!   calls; every volume round-trips, and their keys still differ (the same plaintext
//!   encrypts to different ciphertext in each).

use std::path::Path;
use std::sync::{Arc, Barrier};

use volcrypt::crypto::Backend;
use volcrypt::engine::{self, VolumeRef};
use volcrypt::keys::{CacheLimits, DataKeyCache, KeyProvider, KmsKeyProvider, KmsOptions};
use volcrypt::kms::server::{
    audit_query, start, AuditEvent, CredentialFile, RunningServer, ServerConfig,
};

use crate::util::*;

const LEN: u64 = 64 * KIB + 123;

struct Kms {
    dir: tempfile::TempDir,
    server: RunningServer,
    cred: CredentialFile,
}

fn kms() -> Kms {
    let dir = scratch();
    let mut cfg = ServerConfig::new(dir.path().join("kms"));
    cfg.addr = "127.0.0.1:0".parse().unwrap();
    let server = start(cfg).unwrap();
    let raw = std::fs::read(dir.path().join("kms/credentials.json")).unwrap();
    let cred: CredentialFile = serde_json::from_slice(&raw).unwrap();
    Kms { dir, server, cred }
}

impl Kms {
    fn provider(&self, key: Option<&str>) -> KmsKeyProvider {
        let opts = KmsOptions {
            key_id: key.map(str::to_owned),
            ..KmsOptions::default()
        };
        KmsKeyProvider::with_static_credentials(
            &self.server.endpoint,
            "us-east-1",
            &self.cred.access_key_id,
            &self.cred.secret_access_key,
            opts,
        )
        .unwrap()
    }

    /// Stops the server (which flushes its audit log) and returns the log.
    fn stop_and_audit(self) -> (tempfile::TempDir, Vec<AuditEvent>) {
        self.server.stop().unwrap();
        let events = audit_query(&self.dir.path().join("kms"), None, None).unwrap();
        (self.dir, events)
    }
}

fn count(events: &[AuditEvent], op: &str) -> usize {
    events
        .iter()
        .filter(|e| e.operation == op && e.outcome == "ok")
        .count()
}

fn ops(events: &[AuditEvent]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|e| (e.operation.as_str(), e.outcome.as_str()))
        .collect()
}

fn cached(inner: KmsKeyProvider, limits: CacheLimits) -> DataKeyCache {
    let cache = DataKeyCache::new(Arc::new(inner), limits);
    // Locked here when permitted; the cache works either way.
    if let Some(w) = cache.mlock_warning() {
        eprintln!("note: {w}");
    }
    cache
}

#[test]
fn concurrent_opens_through_the_cache_make_one_decrypt() {
    const N: usize = 8;
    let k = kms();
    let arn = k.provider(None).create_key("cache test").unwrap();
    let p = k.dir.path().join("vol");
    let sha = write_pattern(&p, LEN, 21);
    let vol = VolumeRef::attached(&p);
    let o = opts(ENGINES[0], Backend::Ring);
    engine::encrypt(&vol, None, Some(4 * KIB), &k.provider(Some(&arn)), &o).unwrap();

    let cache = Arc::new(cached(k.provider(Some(&arn)), CacheLimits::default()));
    let start = Arc::new(Barrier::new(N));
    let threads: Vec<_> = (0..N)
        .map(|_| {
            let (cache, start, vol, o) = (
                Arc::clone(&cache),
                Arc::clone(&start),
                vol.clone(),
                o.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                let r = engine::verify(&vol, cache.as_ref() as &dyn KeyProvider, &o).unwrap();
                assert!(r.ok(), "{r:?}");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let m = cache.metrics();
    assert_eq!(m.inner_calls.unwrap, 1, "{m:?}");
    assert_eq!(m.calls_total(), 1);
    assert_eq!(m.misses, 1);
    assert_eq!(m.hits + m.coalesced, (N - 1) as u64, "{m:?}");
    assert!(m.errors.is_empty(), "{m:?}");
    assert_eq!(m.latency.count, 1);
    // A later open (a decrypt) is a hit too, and round-trips.
    engine::decrypt(&vol, None, cache.as_ref(), &o).unwrap();
    assert_eq!(sha_file(&p), sha);
    assert_eq!(cache.metrics().inner_calls.unwrap, 1);

    let (_dir, events) = k.stop_and_audit();
    assert_eq!(count(&events, "Decrypt"), 1, "{:?}", ops(&events));
    assert_eq!(count(&events, "GenerateDataKey"), 1, "{:?}", ops(&events));
    let decrypts: Vec<_> = events.iter().filter(|e| e.operation == "Decrypt").collect();
    assert_eq!(decrypts.len(), 1, "a failed Decrypt reached the server");
    assert_eq!(decrypts[0].key_arn.as_deref(), Some(arn.as_str()));
}

/// Reads the first 4 KiB (the first chunk's ciphertext: attached volumes keep data in place).
fn first_chunk(path: &Path) -> Vec<u8> {
    read_at(path, 0, 4096)
}

#[test]
fn reuse_mode_shares_generate_calls_and_keeps_volume_keys_distinct() {
    const N: usize = 20;
    const MAX_USES: u64 = 5;
    let k = kms();
    let arn = k.provider(None).create_key("reuse test").unwrap();
    let o = opts(ENGINES[0], Backend::Ring);
    let cache = cached(
        k.provider(Some(&arn)),
        CacheLimits {
            reuse_data_keys: true,
            max_uses: MAX_USES,
            ..CacheLimits::default()
        },
    );
    assert!(cache.shares_data_keys());
    let paths: Vec<_> = (0..N)
        .map(|i| k.dir.path().join(format!("vol{i}")))
        .collect();
    let sha = pattern_sha(LEN, 33);
    for p in &paths {
        // Identical plaintext in every volume.
        assert_eq!(write_pattern(p, LEN, 33), sha);
        engine::encrypt(&VolumeRef::attached(p), None, Some(4 * KIB), &cache, &o).unwrap();
    }
    let m = cache.metrics();
    assert!(m.inner_calls.generate <= N as u64 / MAX_USES + 1, "{m:?}");
    assert_eq!(m.inner_calls.generate, 4, "{m:?}");
    assert_eq!(m.hits, (N - 4) as u64);

    // Per-volume keys differ even where the data key is shared: the same plaintext
    // encrypts to different ciphertext in every volume.
    let chunks: Vec<Vec<u8>> = paths.iter().map(|p| first_chunk(p)).collect();
    let plain = read_pattern_chunk();
    for i in 0..N {
        assert_ne!(chunks[i], plain, "volume {i} left in plaintext");
        for j in i + 1..N {
            assert_ne!(
                chunks[i], chunks[j],
                "volumes {i} and {j} share a key stream"
            );
        }
    }

    // Opening them through the same cache: hits, no Decrypt.
    for p in &paths {
        let r = engine::verify(&VolumeRef::attached(p), &cache, &o).unwrap();
        assert!(r.ok(), "{r:?}");
    }
    assert_eq!(cache.metrics().inner_calls.unwrap, 0);
    // Through a fresh cache without reuse: one Decrypt per distinct data key (4), each
    // with the shared encryption context the keyslot records; the KMS accepts them.
    let opener = cached(k.provider(None), CacheLimits::default());
    for p in &paths {
        let r = engine::verify(&VolumeRef::attached(p), &opener, &o).unwrap();
        assert!(r.ok(), "{r:?}");
    }
    assert_eq!(opener.metrics().inner_calls.unwrap, 4);
    // Full round trips of the first and last volume (different data keys).
    for p in [&paths[0], &paths[N - 1]] {
        engine::decrypt(&VolumeRef::attached(p), None, &opener, &o).unwrap();
        assert_eq!(sha_file(p), sha);
    }
    assert_eq!(opener.metrics().inner_calls.unwrap, 4);

    let (_dir, events) = k.stop_and_audit();
    let generates = count(&events, "GenerateDataKey");
    assert!(generates <= N / MAX_USES as usize + 1, "{:?}", ops(&events));
    assert_eq!(generates, 4, "{:?}", ops(&events));
    assert_eq!(count(&events, "Decrypt"), 4, "{:?}", ops(&events));
    // The shared context names no volume.
    for e in events.iter().filter(|e| e.operation == "GenerateDataKey") {
        let ctx = e.context.as_deref().unwrap_or_default();
        assert!(
            ctx.contains("volcrypt:key-pool") && !ctx.contains("volume-uuid"),
            "{ctx}"
        );
    }
}

/// The first 4 KiB of the test stream of seed 33 (the volumes' plaintext).
fn read_pattern_chunk() -> Vec<u8> {
    let dir = scratch();
    let p = dir.path().join("plain");
    write_pattern(&p, 4096, 33);
    read_at(&p, 0, 4096)
}
