//! Crash simulation of the journaled in-place operations, on the `mem` engine.
//!
//! For an encrypt, a rekey and a decrypt of a multi-window volume: run the operation once to
//! count its syncs S; then for every n in 0..=S, run it again on a fresh device whose
//! durability freezes after sync n, take what a reboot would see (the durable image, and the
//! durable image with the in-flight writes torn at 1 B, 512 B and 4 KiB), recover, finish
//! the operation, decrypt, and compare with the original plaintext. Every (data key, nonce)
//! pair sealed across all of it is recorded: none may repeat.

use std::sync::Arc;

use super::cipher::nonce_audit;
use super::raw::{self, Devices};
use super::RunOptions;
use crate::crypto::{Backend, DataKey};
use crate::format::{Geometry, Layout, LayoutKind, Resilience};
use crate::io::{BlockIo, EngineKind, FaultIo, IoOp, MemIo};
use crate::keys::FileKeyProvider;

const CHUNK: u64 = 4096;
/// 6 windows of 4 chunks, the last one short.
const DATA_LEN: u64 = 21 * CHUNK + 100;
const WINDOW: u32 = 4;

fn opts() -> RunOptions {
    RunOptions {
        threads: 2,
        io: EngineKind::Mem,
        backend: Backend::Ring,
        resilience: Resilience::Journal,
        progress: None,
        cancel: None,
        observer: None,
        pool: None,
    }
}

fn key(seed: u8) -> FileKeyProvider {
    FileKeyProvider::from_key(&DataKey::from_bytes([seed; 32]), "crash-test key")
}

fn plaintext() -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..DATA_LEN)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn geometry() -> Geometry {
    Geometry::new(DATA_LEN, CHUNK)
        .unwrap()
        .with_window_chunks(WINDOW)
}

fn device(image: Vec<u8>) -> (Arc<MemIo>, Devices) {
    let m = Arc::new(MemIo::from_vec(image));
    let dev = Devices {
        data: m.clone() as Arc<dyn BlockIo>,
        meta: None,
    };
    (m, dev)
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Encrypt,
    Rekey,
    Decrypt,
}

fn run(op: Op, dev: &Devices) -> Result<(), super::EngineError> {
    match op {
        Op::Encrypt => raw::encrypt_geometry(dev, geometry(), &key(1), &opts()).map(drop),
        Op::Rekey => raw::rekey(dev, &key(1), &key(1), &opts()).map(drop),
        Op::Decrypt => raw::decrypt(dev, &key(1), &opts()).map(drop),
    }
}

/// After a crash: recover and finish whatever was running, then decrypt; the data must be
/// the original plaintext.
fn recover_and_check(op: Op, image: Vec<u8>, plain: &[u8], what: &str) {
    let (m, dev) = device(image);
    let probe = super::files::probe_dev(m.as_ref()).unwrap();
    let started = !probe.is_plain() && !probe.unfinished_create();
    let data = |m: &MemIo| m.snapshot()[..DATA_LEN as usize].to_vec();
    match (op, started) {
        (Op::Encrypt, false) => {
            // No durable header yet: nothing of the data may have been touched.
            assert!(
                data(&m) == plain,
                "{what}: data changed before the first header"
            );
            run(Op::Encrypt, &dev).unwrap_or_else(|e| panic!("{what}: encrypt: {e}"));
        }
        (_, true) => {
            raw::resume(&dev, &key(1), &key(1), &opts())
                .map(drop)
                .or_else(|e| match e {
                    // Idle volumes have nothing to resume (the crash came after the end).
                    super::EngineError::BadState { .. } => Ok(()),
                    e => Err(e),
                })
                .unwrap_or_else(|e| panic!("{what}: resume: {e}"));
        }
        (_, false) => {}
    }
    if !super::files::probe_dev(m.as_ref()).unwrap().is_plain() {
        let info = dev_state(&dev);
        if info != "plain" {
            raw::decrypt(&dev, &key(1), &opts()).unwrap_or_else(|e| panic!("{what}: decrypt: {e}"));
        }
    }
    assert!(
        data(&m) == plain,
        "{what}: data differs after recovery and decrypt"
    );
}

fn dev_state(dev: &Devices) -> String {
    let probe = super::files::probe_dev(dev.data.as_ref()).unwrap();
    probe
        .newest()
        .map_or("none".into(), |h| h.state.to_string())
}

/// The device image an operation starts from.
fn start_image(op: Op, plain: &[u8]) -> Vec<u8> {
    let layout = Layout::compute(&geometry(), LayoutKind::Attached).unwrap();
    let size = usize::try_from(layout.device_size).unwrap();
    let mut img = vec![0u8; size];
    img[..plain.len()].copy_from_slice(plain);
    if matches!(op, Op::Encrypt) {
        return img;
    }
    let (m, dev) = device(img);
    run(Op::Encrypt, &dev).unwrap();
    m.crash_image()
}

fn crash_everywhere(op: Op) {
    crash_each_sync(op, true);
}

/// Crashes `op` after every sync and recovers. With `all_images`, each crash is recovered
/// from the durable image and from three torn ones (alternative futures of one crash, which
/// re-seal the same windows with the same reserved nonces, each valid alone); otherwise from
/// one image per crash, so that every recovery is a separate history. Returns the key check
/// values of the data keys used.
fn crash_each_sync(op: Op, all_images: bool) -> Vec<[u8; 16]> {
    let plain = plaintext();
    let start = start_image(op, &plain);
    let (m, dev) = device(start.clone());
    run(op, &dev).unwrap();
    let total = m.syncs();
    assert!(
        total > 12,
        "{op:?}: only {total} syncs: the volume should span windows"
    );
    let mut kcvs = Vec::new();
    for n in 0..=total {
        // The power goes out during sync n + 1: it and everything after it fail (as a real
        // crash would stop the process), and only sync 1..=n made anything durable.
        let (m, _) = device(start.clone());
        m.freeze_after(n);
        let faulty = FaultIo::new(m.clone() as Arc<dyn BlockIo>).fail_from(IoOp::Sync, n + 1);
        let dev = Devices {
            data: Arc::new(faulty),
            meta: None,
        };
        let _ = run(op, &dev);
        kcvs.extend(keyslot_kcvs(&m.snapshot()));
        let what = format!("{op:?} crash after sync {n}/{total}");
        let torn = [(1usize, n), (512, n + 1000), (4096, n + 2000)];
        if all_images {
            recover_and_check(op, m.crash_image(), &plain, &what);
        }
        if m.pending_writes() > 0 {
            for (i, (g, seed)) in torn.into_iter().enumerate() {
                if all_images || n % 3 == i as u64 {
                    let what = format!("{what}, torn at {g} B");
                    recover_and_check(op, m.crash_image_torn(g, seed), &plain, &what);
                }
            }
        } else if !all_images {
            recover_and_check(op, m.crash_image(), &plain, &what);
        }
    }
    kcvs
}

/// The key check values in the newest header of an attached device image.
fn keyslot_kcvs(image: &[u8]) -> Vec<[u8; 16]> {
    let (_, dev) = device(image.to_vec());
    let probe = super::files::probe_dev(dev.data.as_ref()).unwrap();
    probe.newest().map_or(Vec::new(), |h| {
        h.keyslots
            .iter()
            .filter(|k| !k.is_empty())
            .map(|k| k.kcv)
            .collect()
    })
}

#[test]
fn encrypt_survives_a_crash_after_every_sync() {
    crash_everywhere(Op::Encrypt);
}

#[test]
fn rekey_survives_a_crash_after_every_sync() {
    crash_everywhere(Op::Rekey);
}

#[test]
fn decrypt_survives_a_crash_after_every_sync() {
    crash_everywhere(Op::Decrypt);
}

#[test]
fn no_nonce_is_ever_sealed_twice_under_one_key() {
    let mut mine = crash_each_sync(Op::Encrypt, false);
    mine.extend(crash_each_sync(Op::Rekey, false));
    let (reused, seen) = nonce_audit::report();
    let seals = seen.iter().filter(|(k, _)| mine.contains(k)).count();
    assert!(
        seals > 1000,
        "the audit saw only {seals} seals under these keys"
    );
    let bad: Vec<_> = reused.iter().filter(|(k, _)| mine.contains(k)).collect();
    assert!(
        bad.is_empty(),
        "{} nonces sealed twice, e.g. {:?}",
        bad.len(),
        bad.first()
    );
}

/// EIO on reads, writes (journal or in place) and syncs at many points of each operation:
/// the operation stops with the error, nothing is retried, and the next open recovers and
/// finishes it without losing data.
#[test]
fn injected_io_errors_stop_the_operation_and_the_next_open_recovers() {
    let plain = plaintext();
    for op in [Op::Encrypt, Op::Rekey, Op::Decrypt] {
        let start = start_image(op, &plain);
        let mut injected = 0;
        for kind in [IoOp::Read, IoOp::Write, IoOp::Sync] {
            for n in [1u64, 2, 3, 5, 8, 13, 21, 34] {
                let (m, _) = device(start.clone());
                let faulty =
                    Arc::new(FaultIo::new(m.clone() as Arc<dyn BlockIo>).fail_nth(kind, n));
                let dev = Devices {
                    data: faulty.clone(),
                    meta: None,
                };
                let what = format!("{op:?} with EIO on {kind:?} call {n}");
                let result = run(op, &dev);
                injected += faulty.injected();
                match result {
                    Err(e) => {
                        assert!(
                            faulty.injected() == 1,
                            "{what}: failed without the fault: {e}"
                        );
                        assert!(
                            e.to_string().contains("os error 5") || e.to_string().contains("sync"),
                            "{what}: {e}"
                        );
                    }
                    Ok(()) => assert_eq!(
                        faulty.injected(),
                        0,
                        "{what}: an injected error was swallowed"
                    ),
                }
                // The process is gone; what it wrote is on the device (page cache included).
                recover_and_check(op, m.snapshot(), &plain, &what);
            }
        }
        assert!(injected >= 12, "{op:?}: only {injected} faults fired");
    }
}

/// A journal record forged by someone without the key (re-signed with another key, or with
/// its payload changed) or replayed from an earlier window is never written in place: the
/// window is redone from the untouched data and nothing of the forged payload survives.
#[test]
fn forged_or_replayed_journal_records_are_never_replayed() {
    use crate::crypto::MetaKey;
    use crate::format::{JournalRecord, HEADER_LEN};
    let plain = plaintext();
    let start = start_image(Op::Encrypt, &plain);
    let (m, dev) = device(start.clone());
    run(Op::Encrypt, &dev).unwrap();
    let total = m.syncs();
    let mut tried = 0;
    for n in 0..=total {
        let (m, _) = device(start.clone());
        m.freeze_after(n);
        let faulty = FaultIo::new(m.clone() as Arc<dyn BlockIo>).fail_from(IoOp::Sync, n + 1);
        let _ = run(
            Op::Encrypt,
            &Devices {
                data: Arc::new(faulty),
                meta: None,
            },
        );
        let image = m.crash_image();
        let (m2, dev2) = device(image.clone());
        let Ok(vol) = dev2.open_unrecovered(&key(1)) else {
            continue;
        };
        if !super::journal::needs_recovery(&vol).unwrap() {
            continue;
        }
        // A durable record whose window is still plaintext in place.
        let h = vol.header.clone();
        let chunks = h
            .geometry
            .window(h.progress / u64::from(h.geometry.window_chunks));
        let bytes = h.geometry.byte_range(&chunks);
        let (lo, hi) = (bytes.start as usize, bytes.end as usize);
        if m2.snapshot()[lo..hi] != plain[lo..hi] {
            continue;
        }
        let slot = h.layout.journal_slot(h.journal_seq_applied + 1) as usize;
        let rec =
            JournalRecord::decode(&image[slot..slot + HEADER_LEN], &vol.header_key().unwrap())
                .unwrap()
                .unwrap();
        drop(vol);
        let payload_at =
            slot + JournalRecord::payload_offset(u64::from(h.geometry.window_chunks)) as usize;
        let evil = vec![0xeeu8; hi - lo];
        let mut forged = Vec::new();
        // 1. Attacker payload with a matching CRC, signed with a key of the attacker's.
        let mut img = image.clone();
        img[payload_at..payload_at + evil.len()].copy_from_slice(&evil);
        let mut r = rec.clone();
        r.payload_crc = crc32c::crc32c(&evil);
        let other = MetaKey::from_bytes(b"not the volume's key");
        img[slot..slot + HEADER_LEN].copy_from_slice(&r.encode(&other));
        forged.push(("re-signed with another key", img));
        // 2. Attacker payload under the genuine (unchanged) record: the CRC no longer matches.
        let mut img = image.clone();
        img[payload_at..payload_at + evil.len()].copy_from_slice(&evil);
        forged.push(("payload replaced", img));
        // 3. The genuine record, replayed under an older sequence number's expectations.
        let mut img = image.clone();
        let mut r = rec.clone();
        r.seq = rec.seq.wrapping_sub(2);
        let genuine_key_sig = {
            let (_, d) = device(image.clone());
            d.open_unrecovered(&key(1)).unwrap().header_key().unwrap()
        };
        img[slot..slot + HEADER_LEN].copy_from_slice(&r.encode(&genuine_key_sig));
        forged.push(("replayed sequence number", img));
        for (what, img) in forged {
            let (m3, dev3) = device(img);
            let vol = dev3.open(&key(1)).unwrap();
            assert_eq!(
                vol.header.progress, h.progress,
                "{what}: the record was replayed"
            );
            drop(vol);
            assert!(
                m3.snapshot()[lo..hi] != evil[..],
                "{what}: forged payload written"
            );
            recover_and_check(
                Op::Encrypt,
                m3.snapshot(),
                &plain,
                &format!("{what} at sync {n}"),
            );
            tried += 1;
        }
    }
    assert!(
        tried >= 3,
        "no crash point left a durable, unapplied record ({tried})"
    );
}
