//! `rewrap` and `rekey` against the local KMS server in-process on 127.0.0.1 and with key
//! files: the full round trip (encrypt, verify, rewrap, rekey, decrypt) leaves the volume's
//! SHA-256 equal to the original; KMS calls per operation are exactly DESIGN.md §5's (counted
//! in the server's audit log); rewrap touches only the header and survives a crash between
//! its two slot writes; an interrupted rekey resumes; tampered data is never re-sealed.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use volcrypt::engine::{self, EngineError, Progress, VolumeRef};
use volcrypt::format::{header_offsets, Header, KeyKind, Slot};
use volcrypt::kms::server::audit_query;

use crate::kms_provider::{keyslot, kms};
use crate::util::*;

const LEN: u64 = 300 * KIB + 77;

/// Operation counts from the server's audit log (read after the server stopped).
fn audited(dir: &Path, op: &str) -> usize {
    audit_query(dir, None, None)
        .unwrap()
        .iter()
        .filter(|e| e.operation == op && e.outcome == "ok")
        .count()
}

/// Header bytes of both slots (A, B) of an attached volume.
fn slots(path: &Path) -> [(u64, Vec<u8>); 2] {
    let (a, b) = header_offsets(file_len(path)).unwrap();
    [(a, read_at(path, a, 4096)), (b, read_at(path, b, 4096))]
}

fn seqno(bytes: &[u8], slot: Slot) -> u64 {
    Header::decode(bytes, slot).unwrap().peek().seqno
}

#[test]
fn kms_round_trip_with_rewrap_and_rekey_makes_exactly_the_designed_calls() {
    let k = kms();
    let admin = k.provider(None);
    let key_a = admin.create_key("envelope A").unwrap();
    let key_b = admin.create_key("envelope B").unwrap();
    let vol = k.dir.path().join("vol");
    let want = write_pattern(&vol, LEN, 41);
    let v = VolumeRef::attached(&vol);
    let o = opts(
        volcrypt::io::EngineKind::Mmap,
        volcrypt::crypto::Backend::Ring,
    );
    let any = k.provider(None);

    engine::encrypt(&v, None, None, &k.provider(Some(&key_a)), &o).unwrap();
    assert!(engine::verify(&v, &any, &o).unwrap().ok());
    let data_before = sha_range(&vol, 0, LEN);
    let r = engine::rewrap(&v, &any, &k.provider(Some(&key_b))).unwrap();
    assert_eq!((r.method, r.version), ("reencrypt", 1));
    assert_eq!(
        (r.from_key.as_str(), r.to_key.as_str()),
        (key_a.as_str(), key_b.as_str())
    );
    assert_eq!(keyslot(&vol).0.key_id, key_b, "keyslot now names key B");
    assert_eq!(sha_range(&vol, 0, LEN), data_before, "rewrap touched data");
    // Key A no longer opens it (IncorrectKeyException from KMS), key B and the default do.
    let e = engine::verify(&v, &k.provider(Some(&key_a)), &o).unwrap_err();
    assert!(
        e.to_string().contains("IncorrectKey") || e.to_string().contains("not the key"),
        "{e}"
    );
    assert!(engine::verify(&v, &any, &o).unwrap().ok());

    engine::rekey(&v, None, &any, &k.provider(Some(&key_a)), &o).unwrap();
    assert_eq!(keyslot_v(&vol, 2).0, key_a, "rekey put v2 under key A");
    assert_ne!(
        sha_range(&vol, 0, LEN),
        data_before,
        "rekey re-sealed the data"
    );
    engine::decrypt(&v, None, &any, &o).unwrap();
    assert_eq!(sha_file(&vol), want);

    let dir = k.dir.path().join("kms");
    drop(k.server);
    // encrypt 1 GenerateDataKey; rekey 1 Decrypt + 1 GenerateDataKey; rewrap 1 ReEncrypt and
    // nothing else; the two verifies and decrypt 1 Decrypt each (the refused one is not ok).
    assert_eq!(audited(&dir, "GenerateDataKey"), 2);
    assert_eq!(audited(&dir, "ReEncrypt"), 1);
    assert_eq!(audited(&dir, "Decrypt"), 4);
    assert_eq!(audited(&dir, "Encrypt"), 0);
}

/// The key id and kind of key version `ver`'s keyslot.
fn keyslot_v(path: &Path, ver: u32) -> (String, KeyKind) {
    let (a, b) = header_offsets(file_len(path)).unwrap();
    for (off, slot) in [(a, Slot::A), (b, Slot::B)] {
        if let Ok(u) = Header::decode(&read_at(path, off, 4096), slot) {
            if let Some(k) = u.peek().keyslot(ver) {
                return (k.key_id.clone(), k.kind);
            }
        }
    }
    panic!("no keyslot v{ver}");
}

#[test]
fn key_file_volumes_rewrap_to_kms_and_back_and_rekey_into_a_new_volume() {
    let k = kms();
    let key = k.provider(None).create_key("from key file").unwrap();
    let d = k.dir.path();
    let (k1, k2) = (key_file(d, "k1", 1), key_file(d, "k2", 2));
    let vol = d.join("vol");
    let want = write_pattern(&vol, LEN, 42);
    let v = VolumeRef::attached(&vol);
    let o = opts(
        volcrypt::io::EngineKind::Pread,
        volcrypt::crypto::Backend::Ring,
    );
    engine::encrypt(&v, None, None, &provider(&k1), &o).unwrap();

    let r = engine::rewrap(&v, &provider(&k1), &k.provider(Some(&key))).unwrap();
    assert_eq!(r.method, "unwrap+wrap");
    assert_eq!(keyslot_v(&vol, 1), (key.clone(), KeyKind::Kms));
    assert!(engine::verify(&v, &k.provider(None), &o).unwrap().ok());
    let e = engine::verify(&v, &provider(&k1), &o).unwrap_err();
    assert!(e.to_string().contains("wrapped by"), "{e}");

    let r = engine::rewrap(&v, &k.provider(None), &provider(&k2)).unwrap();
    assert_eq!(r.method, "unwrap+wrap");
    assert_eq!(keyslot_v(&vol, 1).1, KeyKind::KeyFile);
    // The wrong source key file is refused before anything is written.
    let before = sha_file(&vol);
    let e = engine::rewrap(&v, &provider(&k1), &provider(&k1)).unwrap_err();
    assert!(e.to_string().contains("wrong key"), "{e}");
    assert_eq!(sha_file(&vol), before);

    let out = d.join("out");
    let s = engine::rekey(
        &v,
        Some(&VolumeRef::attached(&out)),
        &provider(&k2),
        &provider(&k1),
        &o,
    )
    .unwrap();
    assert_eq!((s.op, s.bytes), ("rekey", LEN));
    assert_eq!(
        sha_file(&vol),
        before,
        "out-of-place rekey only reads its source"
    );
    engine::decrypt(&VolumeRef::attached(&out), None, &provider(&k1), &o).unwrap();
    assert_eq!(sha_file(&out), want);
    engine::decrypt(&v, None, &provider(&k2), &o).unwrap();
    assert_eq!(sha_file(&vol), want);
}

#[test]
fn rewrap_survives_a_crash_between_its_slot_writes_and_repairs_a_torn_slot() {
    let d = scratch();
    let (k1, k2, k3) = (
        key_file(d.path(), "k1", 1),
        key_file(d.path(), "k2", 2),
        key_file(d.path(), "k3", 3),
    );
    let vol = d.path().join("vol");
    let want = write_pattern(&vol, LEN, 43);
    let v = VolumeRef::attached(&vol);
    let o = opts(
        volcrypt::io::EngineKind::Mmap,
        volcrypt::crypto::Backend::Ring,
    );
    engine::encrypt(&v, None, None, &provider(&k1), &o).unwrap();
    let old = slots(&vol);
    engine::rewrap(&v, &provider(&k1), &provider(&k2)).unwrap();
    // Crash after the older slot was rewritten: the newest slot still has the old wrapping.
    let newest = if seqno(&old[0].1, Slot::A) > seqno(&old[1].1, Slot::B) {
        0
    } else {
        1
    };
    write_at(&vol, old[newest].0, &old[newest].1);
    assert!(
        engine::verify(&v, &provider(&k1), &o).unwrap().ok(),
        "old key still opens it"
    );
    // Running rewrap again finishes the job.
    engine::rewrap(&v, &provider(&k1), &provider(&k2)).unwrap();
    assert!(engine::verify(&v, &provider(&k2), &o).unwrap().ok());
    assert!(engine::verify(&v, &provider(&k1), &o).is_err());

    // A torn newest slot: the older slot (new wrapping) opens it; rewrap repairs both slots.
    let cur = slots(&vol);
    let newest = if seqno(&cur[0].1, Slot::A) > seqno(&cur[1].1, Slot::B) {
        0
    } else {
        1
    };
    write_at(&vol, cur[newest].0 + 1000, &[0xee; 64]);
    let r = engine::verify(&v, &provider(&k2), &o).unwrap();
    assert!(!r.header_problems.is_empty(), "the torn slot is reported");
    let r = engine::rewrap(&v, &provider(&k2), &provider(&k3)).unwrap();
    assert_eq!(r.method, "repair");
    let r = engine::verify(&v, &provider(&k3), &o).unwrap();
    assert!(
        r.ok() && r.header_problems.is_empty(),
        "{:?}",
        r.header_problems
    );
    engine::decrypt(&v, None, &provider(&k3), &o).unwrap();
    assert_eq!(sha_file(&vol), want);
}

/// Stops the pass after `after` windows, like SIGTERM.
pub(crate) struct StopAfter {
    pub flag: Arc<AtomicBool>,
    pub seen: AtomicU64,
    pub after: u64,
}

impl Progress for StopAfter {
    fn begin(&self, _: u64, _: u64) {}
    fn advance(&self, _: u64) {
        if self.seen.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
    fn finish(&self) {}
}

#[test]
fn interrupted_rekey_resumes_and_tampered_data_is_never_resealed() {
    let d = scratch();
    let (k1, k2) = (key_file(d.path(), "k1", 1), key_file(d.path(), "k2", 2));
    let vol = d.path().join("vol");
    let len = 4 * 32 * MIB + 5 * KIB;
    let want = write_pattern(&vol, len, 44);
    let v = VolumeRef::attached(&vol);
    let mut o = opts(
        volcrypt::io::EngineKind::Mmap,
        volcrypt::crypto::Backend::Ring,
    );
    engine::encrypt(&v, None, None, &provider(&k1), &o).unwrap();

    let flag = Arc::new(AtomicBool::new(false));
    o.cancel = Some(flag.clone());
    o.progress = Some(Arc::new(StopAfter {
        flag,
        seen: AtomicU64::new(0),
        after: 1,
    }));
    let s = engine::rekey(&v, None, &provider(&k1), &provider(&k2), &o).unwrap();
    assert!(s.interrupted);
    let info = engine::info(&v).unwrap();
    assert_eq!(
        (info.state.as_str(), info.cur_ver, info.tgt_ver),
        ("rekeying", 1, 2)
    );
    // Mid-rekey the header is signed by the new key version, which k1 alone cannot open.
    let e = engine::verify(&v, &provider(&k1), &o).unwrap_err();
    assert!(e.to_string().contains("wrong key"), "{e}");

    // Tamper with a chunk of the fourth window: the resumed rekey stops before writing it.
    let bad_off = 100 * MIB;
    flip(&vol, bad_off, 0x01);
    let o = opts(
        volcrypt::io::EngineKind::Mmap,
        volcrypt::crypto::Backend::Ring,
    );
    let last = 3 * 32 * MIB; // the fourth window
    let before = sha_range(&vol, last, len - last);
    let e = engine::rekey(&v, None, &provider(&k1), &provider(&k2), &o).unwrap_err();
    assert!(
        matches!(e, EngineError::Tampered { ref bad } if bad == &[bad_off / (64 * KIB)]),
        "{e}"
    );
    assert_eq!(
        sha_range(&vol, last, len - last),
        before,
        "nothing of the tampered window was written"
    );
    let info = engine::info(&v).unwrap();
    assert_eq!(
        (info.state.as_str(), info.progress_chunks),
        ("rekeying", last / (64 * KIB))
    );
    flip(&vol, bad_off, 0x01);

    let s = engine::rekey(&v, None, &provider(&k1), &provider(&k2), &o).unwrap();
    assert!(s.resumed_from.is_some() && !s.interrupted);
    let info = engine::info(&v).unwrap();
    assert_eq!((info.state.as_str(), info.cur_ver), ("encrypted", 2));
    assert_eq!(
        info.keyslots.len(),
        1,
        "the old keyslot was wiped: {:?}",
        info.keyslots
    );
    assert!(
        engine::verify(&v, &provider(&k1), &o).is_err(),
        "v1's key is gone"
    );
    engine::decrypt(&v, None, &provider(&k2), &o).unwrap();
    assert_eq!(sha_file(&vol), want);
}

#[test]
fn rewrap_and_rekey_cli_errors_name_the_problem_and_change_nothing() {
    let d = scratch();
    let k1 = key_file(d.path(), "k1", 1);
    let vol = d.path().join("vol");
    write_pattern(&vol, LEN, 45);
    let plain = sha_file(&vol);
    volcrypt(&[&"rewrap", &vol, &"--to-key-file", &k1]).fails(1, &["not a volcrypt volume"]);
    volcrypt(&[&"encrypt", &vol, &"--key-file", &k1]).ok();
    let before = sha_file(&vol);
    assert_ne!(before, plain);
    volcrypt(&[&"rewrap", &vol, &"--to-key-file", &k1]).fails(1, &["--from-key-file"]);
    volcrypt(&[&"rewrap", &vol, &"--from-key-file", &k1])
        .fails(1, &["--to-kms-key", "--to-key-file"]);
    let k2 = key_file(d.path(), "k2", 2);
    volcrypt(&[&"rekey", &vol, &"--key-file", &k2]).fails(1, &["wrong key", "k2"]);
    volcrypt(&[
        &"rekey",
        &vol,
        &"--key-file",
        &k1,
        &"--resilience",
        &"sometimes",
    ])
    .fails(2, &["unknown resilience 'sometimes'"]);
    volcrypt(&[&"resume", &vol, &"--key-file", &k1]).fails(1, &["nothing to resume", "encrypted"]);
    volcrypt(&[
        &"rewrap",
        &vol,
        &"--from-key-file",
        &k1,
        &"--to-key-file",
        &k2,
        &"--to-kms-key",
        &"x",
    ])
    .fails(2, &["cannot be used with"]);
    assert_eq!(sha_file(&vol), before);
    let out = d.path().join("other");
    std::fs::write(&out, b"someone else's file").unwrap();
    volcrypt(&[&"rekey", &vol, &"--key-file", &k1, &"--output", &out])
        .fails(1, &["already exists"]);
    assert_eq!(std::fs::read(&out).unwrap(), b"someone else's file");
    assert_eq!(sha_file(&vol), before);
    volcrypt(&[
        &"rewrap",
        &vol,
        &"--from-key-file",
        &k1,
        &"--to-key-file",
        &k2,
    ])
    .ok();
    volcrypt(&[&"rekey", &vol, &"--key-file", &k2]).ok();
    volcrypt(&[&"decrypt", &vol, &"--key-file", &k2]).ok();
    assert_eq!(sha_file(&vol), plain);
}

/// Fails its first unwrap (a transient KMS error), then behaves.
struct FailOnce {
    inner: volcrypt::keys::FileKeyProvider,
    failed: AtomicBool,
}

impl volcrypt::keys::KeyProvider for FailOnce {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn generate(
        &self,
        ctx: &volcrypt::keys::KeyContext,
    ) -> Result<(volcrypt::crypto::DataKey, volcrypt::keys::WrappedKey), volcrypt::keys::KeyError>
    {
        self.inner.generate(ctx)
    }
    fn unwrap(
        &self,
        w: &volcrypt::keys::WrappedKey,
        ctx: &volcrypt::keys::KeyContext,
    ) -> Result<volcrypt::crypto::DataKey, volcrypt::keys::KeyError> {
        if !self.failed.swap(true, Ordering::SeqCst) {
            return Err(volcrypt::keys::KeyError::KmsUnreachable("injected".into()));
        }
        self.inner.unwrap(w, ctx)
    }
    fn wrap(
        &self,
        key: &volcrypt::crypto::DataKey,
        ctx: &volcrypt::keys::KeyContext,
    ) -> Result<volcrypt::keys::WrappedKey, volcrypt::keys::KeyError> {
        self.inner.wrap(key, ctx)
    }
}

#[test]
fn a_failed_unwrap_of_the_newest_header_never_falls_back_to_an_older_state() {
    let d = scratch();
    let k1 = key_file(d.path(), "k1", 1);
    let vol = d.path().join("vol");
    write_pattern(&vol, 4 * 32 * MIB + 5 * KIB, 46);
    let v = VolumeRef::attached(&vol);
    let mut o = opts(
        volcrypt::io::EngineKind::Pread,
        volcrypt::crypto::Backend::Ring,
    );
    let flag = Arc::new(AtomicBool::new(false));
    o.cancel = Some(flag.clone());
    o.progress = Some(Arc::new(StopAfter {
        flag,
        seen: AtomicU64::new(0),
        after: 1,
    }));
    assert!(
        engine::encrypt(&v, None, None, &provider(&k1), &o)
            .unwrap()
            .interrupted
    );
    // The two header slots now hold different progress under the same keyslot.
    let [(_, a), (_, b)] = slots(&vol);
    let pa = Header::decode(&a, Slot::A).unwrap().peek().progress;
    let pb = Header::decode(&b, Slot::B).unwrap().peek().progress;
    assert_ne!(pa, pb);
    let flaky = FailOnce {
        inner: provider(&k1),
        failed: AtomicBool::new(false),
    };
    let o = opts(
        volcrypt::io::EngineKind::Mmap,
        volcrypt::crypto::Backend::Ring,
    );
    let e = engine::verify(&v, &flaky, &o).unwrap_err();
    assert!(e.to_string().contains("injected"), "{e}");
    // Once KMS answers, the newest state opens and the encrypt resumes from it.
    let s = engine::encrypt(&v, None, None, &provider(&k1), &o).unwrap();
    assert_eq!(s.resumed_from, Some(pa.max(pb)));
}
