//! Round trips through the library API: the size edge cases (0, 1, chunk - 1, chunk,
//! chunk + 1, several windows) for both I/O engines and both crypto backends, in place with
//! an attached header, in place with a detached header, and out of place; volumes written by
//! one engine/backend read by the other; and interrupted encrypts that resume.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use volcrypt::crypto::Backend;
use volcrypt::engine::{
    cat, decrypt, encrypt, info, verify, EngineError, Progress, RunOptions, Summary, VolumeRef,
};
use volcrypt::format::{Geometry, LayoutKind, WINDOW_BYTES};
use volcrypt::io::EngineKind;
use volcrypt::keys::FileKeyProvider;

use crate::util::*;

/// Chunk size of the size matrix: the smallest, so "several windows" means many chunks too.
const CHUNK: u64 = 4 * KIB;

/// The sizes every combination is tested with. The last spans three windows (two full ones
/// and a partial third) and ends in a partial chunk.
fn sizes() -> [u64; 6] {
    let window = Geometry::new(0, CHUNK).unwrap().window_chunks as u64 * CHUNK;
    [
        0,
        1,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        2 * window + 3 * CHUNK + 5,
    ]
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Attached,
    Detached,
    OutOfPlace,
}

/// Checks what every freshly encrypted volume must satisfy: `verify` authenticates every
/// chunk and both headers, `cat` yields the original bytes, `info` says encrypted.
fn check_encrypted(
    vref: &VolumeRef,
    len: u64,
    digest: &[u8; 32],
    keys: &FileKeyProvider,
    o: &RunOptions,
    ctx: &str,
) {
    let n = Geometry::new(len, CHUNK).unwrap().n_chunks();
    let r = verify(vref, keys, o).unwrap_or_else(|e| panic!("{ctx}: verify: {e}"));
    assert!(r.ok(), "{ctx}: verify not ok: {r:?}");
    assert_eq!(
        (r.chunks, r.checked, r.plaintext),
        (n, n, 0),
        "{ctx}: {r:?}"
    );
    let mut out = ShaWriter::default();
    let s = cat(vref, keys, o, &mut out).unwrap_or_else(|e| panic!("{ctx}: cat: {e}"));
    assert_eq!(out.finish(), (len, *digest), "{ctx}: cat output differs");
    assert_eq!(s.bytes, len, "{ctx}");
    let i = info(vref).unwrap_or_else(|e| panic!("{ctx}: info: {e}"));
    assert_eq!(i.state, "encrypted", "{ctx}");
    assert_eq!(i.data_len, len, "{ctx}");
    assert_eq!(i.chunk_size, CHUNK, "{ctx}");
    let kind = if vref.header.is_some() {
        "detached"
    } else {
        "attached"
    };
    assert_eq!(i.layout, kind, "{ctx}");
}

fn check_summary(s: &Summary, len: u64, io: EngineKind, backend: Backend, ctx: &str) {
    let n = Geometry::new(len, CHUNK).unwrap().n_chunks();
    assert!(!s.interrupted, "{ctx}: {s:?}");
    assert_eq!(s.resumed_from, None, "{ctx}");
    assert_eq!((s.bytes, s.chunks), (len, n), "{ctx}: {s:?}");
    assert_eq!((s.engine, s.backend), (io, backend), "{ctx}");
}

fn roundtrip(mode: Mode, io: EngineKind, backend: Backend) {
    let dir = scratch();
    let d = dir.path();
    let keys = provider(&key_file(d, "key", 1));
    let o = opts(io, backend);
    for (n, len) in sizes().into_iter().enumerate() {
        let ctx = format!("{mode:?} io={io} crypto={backend} len={len}");
        let seed = 100 + n as u64;
        let vol = d.join(format!("vol{n}"));
        let digest = write_pattern(&vol, len, seed);
        match mode {
            Mode::Attached => {
                let vref = VolumeRef::attached(&vol);
                let s = encrypt(&vref, None, Some(CHUNK), &keys, &o)
                    .unwrap_or_else(|e| panic!("{ctx}: encrypt: {e}"));
                check_summary(&s, len, io, backend, &ctx);
                let (_, l) = layout(len, CHUNK, LayoutKind::Attached);
                assert_eq!(file_len(&vol), l.device_size, "{ctx}: volume size");
                assert_sealed(&vol, len, CHUNK, seed, &ctx);
                check_encrypted(&vref, len, &digest, &keys, &o, &ctx);
                let s = decrypt(&vref, None, &keys, &o)
                    .unwrap_or_else(|e| panic!("{ctx}: decrypt: {e}"));
                assert_eq!((s.bytes, s.interrupted), (len, false), "{ctx}");
                assert_eq!(file_len(&vol), len, "{ctx}: metadata not removed");
                assert_eq!(sha_file(&vol), digest, "{ctx}: round trip differs");
            }
            Mode::Detached => {
                let hdr = d.join(format!("vol{n}.hdr"));
                let vref = detached(&vol, &hdr);
                let s = encrypt(&vref, None, Some(CHUNK), &keys, &o)
                    .unwrap_or_else(|e| panic!("{ctx}: encrypt: {e}"));
                check_summary(&s, len, io, backend, &ctx);
                let (_, l) = layout(len, CHUNK, LayoutKind::Detached);
                assert_eq!(file_len(&vol), len, "{ctx}: detached data must not grow");
                assert_eq!(file_len(&hdr), l.device_size, "{ctx}: header file size");
                assert_sealed(&vol, len, CHUNK, seed, &ctx);
                check_encrypted(&vref, len, &digest, &keys, &o, &ctx);
                // Without its header file the data is not a volume at all.
                let e = verify(&VolumeRef::attached(&vol), &keys, &o).unwrap_err();
                assert!(matches!(e, EngineError::NotAVolume { .. }), "{ctx}: {e}");
                decrypt(&vref, None, &keys, &o).unwrap_or_else(|e| panic!("{ctx}: decrypt: {e}"));
                assert!(!hdr.exists(), "{ctx}: header file not deleted");
                assert_eq!(file_len(&vol), len, "{ctx}");
                assert_eq!(sha_file(&vol), digest, "{ctx}: round trip differs");
            }
            Mode::OutOfPlace => {
                for header in [false, true] {
                    let ctx = format!("{ctx} detached-output={header}");
                    let out = d.join(format!("vol{n}-{header}.enc"));
                    let hdr = d.join(format!("vol{n}-{header}.hdr"));
                    let oref = if header {
                        detached(&out, &hdr)
                    } else {
                        VolumeRef::attached(&out)
                    };
                    let s = encrypt(
                        &VolumeRef::attached(&vol),
                        Some(&oref),
                        Some(CHUNK),
                        &keys,
                        &o,
                    )
                    .unwrap_or_else(|e| panic!("{ctx}: encrypt: {e}"));
                    check_summary(&s, len, io, backend, &ctx);
                    assert_eq!(file_len(&vol), len, "{ctx}: source modified");
                    assert_eq!(sha_file(&vol), digest, "{ctx}: source modified");
                    let kind = if header {
                        LayoutKind::Detached
                    } else {
                        LayoutKind::Attached
                    };
                    let (_, l) = layout(len, CHUNK, kind);
                    if header {
                        assert_eq!(file_len(&out), len, "{ctx}");
                        assert_eq!(file_len(&hdr), l.device_size, "{ctx}");
                    } else {
                        assert_eq!(file_len(&out), l.device_size, "{ctx}");
                    }
                    assert_sealed(&out, len, CHUNK, seed, &ctx);
                    check_encrypted(&oref, len, &digest, &keys, &o, &ctx);
                    let before = sha_file(&out);
                    let plain = d.join(format!("vol{n}-{header}.dec"));
                    let s = decrypt(&oref, Some(&plain), &keys, &o)
                        .unwrap_or_else(|e| panic!("{ctx}: decrypt: {e}"));
                    assert_eq!(s.bytes, len, "{ctx}");
                    assert_eq!(file_len(&plain), len, "{ctx}");
                    assert_eq!(sha_file(&plain), digest, "{ctx}: round trip differs");
                    assert_eq!(
                        sha_file(&out),
                        before,
                        "{ctx}: decrypt -o modified the volume"
                    );
                    let partial = d.join(format!("vol{n}-{header}.dec.volcrypt-partial"));
                    assert!(!partial.exists(), "{ctx}: partial output left behind");
                }
            }
        }
    }
}

macro_rules! matrix {
    ($($name:ident: $mode:ident, $io:ident, $backend:ident;)+) => {
        $(
            #[test]
            fn $name() {
                if EngineKind::$io == EngineKind::Uring && !uring_usable(stringify!($name)) {
                    return;
                }
                roundtrip(Mode::$mode, EngineKind::$io, Backend::$backend);
            }
        )+
    };
}

matrix! {
    attached_mmap_ring: Attached, Mmap, Ring;
    attached_mmap_awslc: Attached, Mmap, AwsLc;
    attached_pread_ring: Attached, Pread, Ring;
    attached_pread_awslc: Attached, Pread, AwsLc;
    detached_mmap_ring: Detached, Mmap, Ring;
    detached_mmap_awslc: Detached, Mmap, AwsLc;
    detached_pread_ring: Detached, Pread, Ring;
    detached_pread_awslc: Detached, Pread, AwsLc;
    out_of_place_mmap_ring: OutOfPlace, Mmap, Ring;
    out_of_place_mmap_awslc: OutOfPlace, Mmap, AwsLc;
    out_of_place_pread_ring: OutOfPlace, Pread, Ring;
    out_of_place_pread_awslc: OutOfPlace, Pread, AwsLc;
    attached_uring_ring: Attached, Uring, Ring;
    detached_uring_awslc: Detached, Uring, AwsLc;
    out_of_place_uring_ring: OutOfPlace, Uring, Ring;
}

/// Every (engine, backend) pair.
fn combos() -> Vec<(EngineKind, Backend)> {
    engines()
        .into_iter()
        .flat_map(|io| Backend::ALL.into_iter().map(move |b| (io, b)))
        .collect()
}

/// The format does not depend on the engine or backend: a volume written with one pair is
/// verified, read and decrypted with every other pair, attached and detached.
#[test]
fn format_is_engine_and_backend_independent() {
    let dir = scratch();
    let d = dir.path();
    let keys = provider(&key_file(d, "key", 2));
    let len = 9 * CHUNK + 77;
    let mut case = 0u64;
    for (wio, wb) in combos() {
        for (rio, rb) in combos() {
            if (wio, wb) == (rio, rb) {
                continue;
            }
            for header in [false, true] {
                case += 1;
                let ctx = format!("written {wio}/{wb}, read {rio}/{rb}, detached={header}");
                let vol = d.join(format!("x{case}"));
                let hdr = d.join(format!("x{case}.hdr"));
                let vref = if header {
                    detached(&vol, &hdr)
                } else {
                    VolumeRef::attached(&vol)
                };
                let digest = write_pattern(&vol, len, case);
                encrypt(&vref, None, Some(CHUNK), &keys, &opts(wio, wb))
                    .unwrap_or_else(|e| panic!("{ctx}: encrypt: {e}"));
                let ro = opts(rio, rb);
                check_encrypted(&vref, len, &digest, &keys, &ro, &ctx);
                decrypt(&vref, None, &keys, &ro).unwrap_or_else(|e| panic!("{ctx}: decrypt: {e}"));
                assert_eq!(file_len(&vol), len, "{ctx}");
                assert_eq!(sha_file(&vol), digest, "{ctx}");
            }
        }
    }
}

/// The same plaintext encrypted twice under the same key file gives different ciphertext
/// (a fresh data key and UUID per volume).
#[test]
fn same_plaintext_encrypts_differently_each_time() {
    let dir = scratch();
    let d = dir.path();
    let keys = provider(&key_file(d, "key", 3));
    let (a, b) = (d.join("a"), d.join("b"));
    let digest = write_pattern(&a, 5 * CHUNK, 9);
    assert_eq!(write_pattern(&b, 5 * CHUNK, 9), digest);
    let o = opts(EngineKind::Mmap, Backend::Ring);
    encrypt(&VolumeRef::attached(&a), None, Some(CHUNK), &keys, &o).unwrap();
    encrypt(&VolumeRef::attached(&b), None, Some(CHUNK), &keys, &o).unwrap();
    assert_ne!(
        sha_range(&a, 0, 5 * CHUNK),
        sha_range(&b, 0, 5 * CHUNK),
        "two volumes of the same plaintext have the same ciphertext"
    );
}

/// A progress receiver that raises the cancel flag once `after` windows have been written,
/// as SIGINT would.
struct CancelAfter {
    flag: Arc<AtomicBool>,
    windows: AtomicU64,
    after: u64,
    begun: Mutex<Option<(u64, u64)>>,
}

impl CancelAfter {
    fn new(after: u64) -> Arc<Self> {
        Arc::new(CancelAfter {
            flag: Arc::new(AtomicBool::new(false)),
            windows: AtomicU64::new(0),
            after,
            begun: Mutex::new(None),
        })
    }

    fn options(self: &Arc<Self>, io: EngineKind) -> RunOptions {
        RunOptions {
            progress: Some(self.clone() as Arc<dyn Progress>),
            cancel: Some(self.flag.clone()),
            ..opts(io, Backend::Ring)
        }
    }
}

impl Progress for CancelAfter {
    fn begin(&self, total: u64, done: u64) {
        *self.begun.lock().unwrap() = Some((total, done));
    }

    fn advance(&self, _bytes: u64) {
        if self.windows.fetch_add(1, Ordering::SeqCst) + 1 >= self.after {
            self.flag.store(true, Ordering::SeqCst);
        }
    }

    fn finish(&self) {}
}

/// Chunk size of the resume tests (large chunks keep the per-chunk overhead of a debug build
/// low on a volume that must span many windows).
const RESUME_CHUNK: u64 = MIB;

/// A size that is guaranteed to be interrupted when the flag is raised after the first
/// window: the pipeline holds at most five windows in flight (writer, done queue, cipher,
/// load queue, reader), so the sixth window is never started.
fn resume_len() -> u64 {
    let window = u64::from(Geometry::new(0, RESUME_CHUNK).unwrap().window_chunks) * RESUME_CHUNK;
    assert_eq!(window, WINDOW_BYTES);
    5 * window + RESUME_CHUNK + 3
}

/// Checks an interrupted-then-resumed pair of encrypt summaries and returns the chunk the
/// second run resumed from.
fn check_resumed(first: &Summary, second: &Summary, len: u64) -> u64 {
    let g = Geometry::new(len, RESUME_CHUNK).unwrap();
    assert!(
        first.interrupted,
        "first run was not interrupted: {first:?}"
    );
    assert!(first.chunks > 0 && first.chunks < g.n_chunks(), "{first:?}");
    assert_eq!(first.chunks % u64::from(g.window_chunks), 0, "{first:?}");
    assert_eq!(second.resumed_from, Some(first.chunks), "{second:?}");
    assert!(!second.interrupted, "{second:?}");
    assert_eq!(first.chunks + second.chunks, g.n_chunks(), "{second:?}");
    assert_eq!(first.bytes + second.bytes, len);
    first.chunks
}

/// An interrupted in-place encrypt is readable: chunks below the mark are sealed, the rest
/// is still the plaintext.
fn check_partial(vref: &VolumeRef, keys: &FileKeyProvider, len: u64, done: u64) {
    let n = Geometry::new(len, RESUME_CHUNK).unwrap().n_chunks();
    let i = info(vref).unwrap();
    assert_eq!(i.state, "encrypting");
    assert_eq!(i.progress_chunks, done);
    let r = verify(vref, keys, &opts(EngineKind::Pread, Backend::AwsLc)).unwrap();
    assert!(r.ok(), "{r:?}");
    assert_eq!((r.checked, r.plaintext), (done, n - done), "{r:?}");
}

fn out_of_place_resume(io: EngineKind) {
    let dir = scratch();
    let d = dir.path();
    let keys = provider(&key_file(d, "key", 4));
    let len = resume_len();
    let src = d.join("src");
    let digest = write_pattern(&src, len, 44);
    let out = d.join("out.enc");
    let src_ref = VolumeRef::attached(&src);
    let oref = VolumeRef::attached(&out);

    let p = CancelAfter::new(1);
    let first = encrypt(
        &src_ref,
        Some(&oref),
        Some(RESUME_CHUNK),
        &keys,
        &p.options(io),
    )
    .unwrap_or_else(|e| panic!("{io}: first run: {e}"));
    assert_eq!(*p.begun.lock().unwrap(), Some((len, 0)));
    assert!(out.exists(), "{io}: interrupted output was removed");
    // An unfinished out-of-place output is not readable: its chunks above the mark were
    // never written, so they are not the source's plaintext.
    let i = info(&oref).unwrap();
    assert_eq!(
        (i.state.as_str(), i.progress_chunks),
        ("encrypting", first.chunks)
    );
    let o = opts(EngineKind::Pread, Backend::Ring);
    let e = verify(&oref, &keys, &o).unwrap_err().to_string();
    assert!(e.contains("unfinished out-of-place encrypt"), "{e}");
    let mut sink = Vec::new();
    let e = volcrypt::engine::cat(&oref, &keys, &o, &mut sink)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unfinished out-of-place encrypt") && sink.is_empty(),
        "{e}"
    );
    // Resuming from another source of the same size is refused, and changes nothing.
    let other = d.join("other-src");
    write_pattern(&other, len, 45);
    let before = sha_file(&out);
    let e = encrypt(
        &VolumeRef::attached(&other),
        Some(&oref),
        Some(RESUME_CHUNK),
        &keys,
        &opts(io, Backend::Ring),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("is not the source it started from"), "{e}");
    assert_eq!(sha_file(&out), before);

    let p2 = CancelAfter::new(u64::MAX);
    let second = encrypt(
        &src_ref,
        Some(&oref),
        Some(RESUME_CHUNK),
        &keys,
        &p2.options(io),
    )
    .unwrap_or_else(|e| panic!("{io}: resume: {e}"));
    let done = check_resumed(&first, &second, len);
    assert_eq!(*p2.begun.lock().unwrap(), Some((len, done * RESUME_CHUNK)));
    assert_eq!(sha_file(&src), digest, "{io}: source modified");
    assert_eq!(info(&oref).unwrap().state, "encrypted");

    let plain = d.join("plain");
    decrypt(&oref, Some(&plain), &keys, &opts(io, Backend::Ring)).unwrap();
    assert_eq!(
        sha_file(&plain),
        digest,
        "{io}: resumed volume decrypts wrongly"
    );
}

#[test]
fn interrupted_out_of_place_encrypt_resumes_mmap() {
    out_of_place_resume(EngineKind::Mmap);
}

#[test]
fn interrupted_out_of_place_encrypt_resumes_pread() {
    out_of_place_resume(EngineKind::Pread);
}

fn in_place_resume(io: EngineKind, header: bool) {
    let dir = scratch();
    let d = dir.path();
    let keys = provider(&key_file(d, "key", 5));
    let len = resume_len();
    let vol = d.join("vol");
    let hdr = d.join("vol.hdr");
    let digest = write_pattern(&vol, len, 55);
    let vref = if header {
        detached(&vol, &hdr)
    } else {
        VolumeRef::attached(&vol)
    };

    let p = CancelAfter::new(1);
    let first = encrypt(&vref, None, Some(RESUME_CHUNK), &keys, &p.options(io))
        .unwrap_or_else(|e| panic!("{io}: first run: {e}"));
    check_partial(&vref, &keys, len, first.chunks);
    // A partly encrypted volume can be read whole ...
    let mut out = ShaWriter::default();
    cat(&vref, &keys, &opts(io, Backend::Ring), &mut out).unwrap();
    assert_eq!(
        out.finish(),
        (len, digest),
        "{io}: cat of a partly encrypted volume"
    );
    // ... but not decrypted until the encrypt is finished.
    let e = decrypt(&vref, None, &keys, &opts(io, Backend::Ring)).unwrap_err();
    assert!(matches!(e, EngineError::BadState { .. }), "{io}: {e}");
    assert!(e.to_string().contains("encrypt"), "{e}");
    // Resuming with another chunk size is refused.
    let e = encrypt(&vref, None, Some(64 * KIB), &keys, &opts(io, Backend::Ring)).unwrap_err();
    assert!(e.to_string().contains("chunk size"), "{io}: {e}");

    let p2 = CancelAfter::new(u64::MAX);
    let second = encrypt(&vref, None, None, &keys, &p2.options(io))
        .unwrap_or_else(|e| panic!("{io}: resume: {e}"));
    check_resumed(&first, &second, len);
    assert_eq!(info(&vref).unwrap().state, "encrypted");
    assert_sealed(&vol, len, RESUME_CHUNK, 55, &format!("{io} resumed"));
    let r = verify(&vref, &keys, &opts(io, Backend::AwsLc)).unwrap();
    assert!(r.ok() && r.plaintext == 0, "{r:?}");

    decrypt(&vref, None, &keys, &opts(io, Backend::AwsLc)).unwrap();
    assert_eq!(file_len(&vol), len);
    assert_eq!(
        sha_file(&vol),
        digest,
        "{io}: resumed volume decrypts wrongly"
    );
    assert!(!hdr.exists());
}

#[test]
fn interrupted_in_place_encrypt_resumes_mmap_attached() {
    in_place_resume(EngineKind::Mmap, false);
}

#[test]
fn interrupted_in_place_encrypt_resumes_pread_detached() {
    in_place_resume(EngineKind::Pread, true);
}

/// The biggest size of the matrix really spans several windows and ends in a partial chunk.
#[test]
fn matrix_sizes_span_several_windows() {
    let big = *sizes().last().unwrap();
    let g = Geometry::new(big, CHUNK).unwrap();
    assert_eq!(g.n_windows(), 3);
    assert_ne!(big % CHUNK, 0);
}
