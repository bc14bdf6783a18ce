//! Tamper detection: flipped bits in the data area, the tag table and either or both header
//! slots, chunks swapped within a volume, a chunk spliced in from another volume under the
//! same key file, and forged header state with a recomputed CRC. Every one must be detected;
//! chunk failures are named by index, and nothing of a window holding a bad chunk is ever
//! written (in place, by `decrypt -o`, or by `cat`).

use std::path::{Path, PathBuf};

use volcrypt::crypto::{sha256, Backend};
use volcrypt::engine::{cat, decrypt, encrypt, info, verify, EngineError, RunOptions, VolumeRef};
use volcrypt::format::{Geometry, Layout, LayoutKind, TAG_ENTRY_LEN};
use volcrypt::io::EngineKind;
use volcrypt::keys::FileKeyProvider;

use crate::util::*;

const CHUNK: u64 = 4 * KIB;

/// An encrypted scratch volume and everything needed to damage and check it.
struct Vol {
    dir: tempfile::TempDir,
    path: PathBuf,
    vref: VolumeRef,
    keys: FileKeyProvider,
    opts: RunOptions,
    len: u64,
    seed: u64,
    digest: [u8; 32],
    geom: Geometry,
    layout: Layout,
}

impl Vol {
    /// Encrypts `len` bytes of the stream of `seed` in place, attached or detached.
    fn new(len: u64, chunk: u64, seed: u64, detached_header: bool, io: EngineKind) -> Vol {
        let dir = scratch();
        let keys = provider(&key_file(dir.path(), "key", 7));
        Vol::with_key(dir, keys, len, chunk, seed, detached_header, io)
    }

    fn with_key(
        dir: tempfile::TempDir,
        keys: FileKeyProvider,
        len: u64,
        chunk: u64,
        seed: u64,
        detached_header: bool,
        io: EngineKind,
    ) -> Vol {
        let path = dir.path().join(format!("vol{seed}"));
        let vref = if detached_header {
            detached(&path, &dir.path().join(format!("vol{seed}.hdr")))
        } else {
            VolumeRef::attached(&path)
        };
        let digest = write_pattern(&path, len, seed);
        let opts = opts(io, Backend::Ring);
        encrypt(&vref, None, Some(chunk), &keys, &opts).expect("encrypting a test volume");
        let kind = if detached_header {
            LayoutKind::Detached
        } else {
            LayoutKind::Attached
        };
        let (geom, layout) = layout(len, chunk, kind);
        Vol {
            dir,
            path,
            vref,
            keys,
            opts,
            len,
            seed,
            digest,
            geom,
            layout,
        }
    }

    /// The file holding the tag table and headers.
    fn meta(&self) -> &Path {
        self.vref.header.as_deref().unwrap_or(&self.path)
    }

    /// Flips bits of data byte `off`.
    fn flip_data(&self, off: u64, mask: u8) {
        flip(&self.path, off, mask);
    }

    /// Flips bits of byte `at` of the tag entry of chunk `i`.
    fn flip_tag(&self, i: u64, at: u64, mask: u8) {
        flip(self.meta(), self.layout.tag_entry(i) + at, mask);
    }

    fn verify_bad(&self) -> Vec<u64> {
        let r = verify(&self.vref, &self.keys, &self.opts).expect("verify runs");
        assert!(r.header_problems.is_empty(), "{r:?}");
        assert_eq!(r.ok(), r.bad.is_empty());
        r.bad
    }

    fn decrypt_in_place_ok(&self) {
        decrypt(&self.vref, None, &self.keys, &self.opts).expect("decrypting");
        assert_eq!(file_len(&self.path), self.len);
        assert_eq!(sha_file(&self.path), self.digest, "round trip differs");
    }

    /// Checks that out-of-place decrypt fails on exactly `bad` and leaves no output.
    fn decrypt_out_fails(&self, bad: &[u64]) {
        let out = self.dir.path().join("plain.out");
        let e = decrypt(&self.vref, Some(&out), &self.keys, &self.opts).unwrap_err();
        assert_tampered(&e, bad);
        assert!(
            !out.exists(),
            "decrypt -o of a tampered volume created its output"
        );
        let partial = self.dir.path().join("plain.out.volcrypt-partial");
        assert!(!partial.exists(), "decrypt -o left its partial output");
    }
}

fn assert_tampered(e: &EngineError, bad: &[u64]) {
    match e {
        EngineError::Tampered { bad: b } => assert_eq!(b, bad, "{e}"),
        other => panic!("expected Tampered {bad:?}, got {other:?}: {other}"),
    }
    for i in bad {
        assert!(e.to_string().contains(&i.to_string()), "{e}");
    }
}

/// A flipped data bit is named by `verify`, stops `cat` and `decrypt -o` before they write
/// anything of its window, and a failed in-place decrypt leaves the data area unchanged; with
/// the bit restored the volume still decrypts to the original.
#[test]
fn data_bit_flip_is_detected_and_nothing_is_written() {
    for (io, header) in [(EngineKind::Mmap, false), (EngineKind::Pread, true)] {
        let v = Vol::new(20 * CHUNK + 100, CHUNK, 1, header, io);
        assert_eq!(v.geom.n_windows(), 1);
        assert_eq!(v.verify_bad(), Vec::<u64>::new());
        let off = 7 * CHUNK + 123;
        v.flip_data(off, 0x04);
        assert_eq!(v.verify_bad(), vec![7], "{io}");

        let mut out = Vec::new();
        let e = cat(&v.vref, &v.keys, &v.opts, &mut out).unwrap_err();
        assert_tampered(&e, &[7]);
        assert!(
            out.is_empty(),
            "{io}: cat wrote {} bytes of a bad window",
            out.len()
        );

        v.decrypt_out_fails(&[7]);

        let data_before = sha_range(&v.path, 0, v.len);
        let tags_before = read_at(
            v.meta(),
            v.layout.tag_off,
            (v.geom.n_chunks() * TAG_ENTRY_LEN as u64) as usize,
        );
        let e = decrypt(&v.vref, None, &v.keys, &v.opts).unwrap_err();
        assert_tampered(&e, &[7]);
        assert_eq!(
            sha_range(&v.path, 0, v.len),
            data_before,
            "{io}: failed in-place decrypt wrote to the data area"
        );
        let tags_after = read_at(v.meta(), v.layout.tag_off, tags_before.len());
        assert_eq!(tags_after, tags_before, "{io}: tag table changed");
        if header {
            assert!(
                v.meta().exists(),
                "{io}: header file removed after a failure"
            );
        } else {
            assert_eq!(
                file_len(&v.path),
                v.layout.device_size,
                "{io}: volume resized"
            );
        }

        v.flip_data(off, 0x04);
        assert_eq!(v.verify_bad(), Vec::<u64>::new(), "{io}");
        v.decrypt_in_place_ok();
    }
}

/// On a volume of two windows with a bad chunk in the second: `cat` writes exactly the first
/// window and stops; in-place decrypt decrypts and checkpoints the first window, leaves the
/// second byte for byte as it was, and resumes from the checkpoint once the bit is restored.
#[test]
fn bad_window_is_never_written_in_place() {
    let chunk = 64 * KIB;
    for (io, header) in [(EngineKind::Pread, false), (EngineKind::Mmap, true)] {
        let g = Geometry::new(0, chunk).unwrap();
        let wc = u64::from(g.window_chunks);
        let window = wc * chunk;
        let v = Vol::new(window + 3 * chunk + 100, chunk, 2, header, io);
        assert_eq!(v.geom.n_windows(), 2);
        let bad = wc + 1;
        let off = bad * chunk + 4000;
        v.flip_data(off, 0x80);
        assert_eq!(v.verify_bad(), vec![bad], "{io}");

        let mut out = ShaWriter::default();
        let e = cat(&v.vref, &v.keys, &v.opts, &mut out).unwrap_err();
        assert_tampered(&e, &[bad]);
        assert_eq!(
            out.finish(),
            (window, pattern_sha(window, v.seed)),
            "{io}: cat must write exactly the first window"
        );

        let second_before = sha_range(&v.path, window, v.len - window);
        let e = decrypt(&v.vref, None, &v.keys, &v.opts).unwrap_err();
        assert_tampered(&e, &[bad]);
        assert_eq!(
            sha_range(&v.path, 0, window),
            pattern_sha(window, v.seed),
            "{io}: the good first window was not decrypted"
        );
        assert_eq!(
            sha_range(&v.path, window, v.len - window),
            second_before,
            "{io}: bytes of the bad window were written"
        );
        let i = info(&v.vref).unwrap();
        assert_eq!(
            (i.state.as_str(), i.progress_chunks),
            ("decrypting", wc),
            "{io}"
        );
        let r = verify(&v.vref, &v.keys, &v.opts).unwrap();
        assert_eq!((r.bad.clone(), r.plaintext), (vec![bad], wc), "{io}: {r:?}");

        v.flip_data(off, 0x80);
        let s = decrypt(&v.vref, None, &v.keys, &v.opts).unwrap();
        assert_eq!(s.resumed_from, Some(wc), "{io}: {s:?}");
        assert_eq!(file_len(&v.path), v.len);
        assert_eq!(sha_file(&v.path), v.digest, "{io}: round trip differs");
    }
}

/// Every field of a tag entry is covered: tag, nonce counter, key version, kind, reserved.
#[test]
fn tag_entry_bit_flips_are_detected() {
    for header in [false, true] {
        let v = Vol::new(12 * CHUNK + 1, CHUNK, 3, header, EngineKind::Mmap);
        for (n, (at, mask)) in [
            (0, 0x01),
            (15, 0x80),
            (16, 0x01),
            (23, 0x40),
            (24, 0x02),
            (28, 0x01),
            (28, 0x02),
            (30, 0x10),
        ]
        .into_iter()
        .enumerate()
        {
            let i = n as u64 % v.geom.n_chunks();
            let ctx = format!("detached={header} entry {i} byte {at} mask {mask:#x}");
            v.flip_tag(i, at, mask);
            assert_eq!(v.verify_bad(), vec![i], "{ctx}");
            v.decrypt_out_fails(&[i]);
            v.flip_tag(i, at, mask);
            assert_eq!(v.verify_bad(), Vec::<u64>::new(), "{ctx}");
        }
        // The last chunk is 1 byte long: its entry is checked as well as any other.
        let last = v.geom.n_chunks() - 1;
        v.flip_tag(last, 3, 0x20);
        assert_eq!(v.verify_bad(), vec![last]);
        v.flip_tag(last, 3, 0x20);
        v.decrypt_in_place_ok();
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    /// A bit in the reserved area: the CRC catches it.
    Crc,
    /// A bit of the HMAC: the CRC passes, authentication fails.
    Mac,
}

impl Damage {
    fn offset(self) -> u64 {
        match self {
            Damage::Crc => 200,
            Damage::Mac => 4064 + 5,
        }
    }
}

/// Damage to one header slot is reported by `verify` (naming the slot), and the volume still
/// reads and decrypts through the other slot.
#[test]
fn one_damaged_header_slot_is_reported_and_the_other_is_used() {
    for damage in [Damage::Crc, Damage::Mac] {
        for slot in ["A", "B"] {
            for header in [false, true] {
                let ctx = format!("{damage:?} damage to header {slot}, detached={header}");
                let v = Vol::new(5 * CHUNK + 9, CHUNK, 4, header, EngineKind::Pread);
                let base = if slot == "A" {
                    v.layout.hdr_a_off
                } else {
                    v.layout.hdr_b_off
                };
                flip(v.meta(), base + damage.offset(), 0x08);
                let r = verify(&v.vref, &v.keys, &v.opts)
                    .unwrap_or_else(|e| panic!("{ctx}: verify: {e}"));
                assert!(!r.ok(), "{ctx}: {r:?}");
                assert!(r.bad.is_empty(), "{ctx}: {r:?}");
                assert_eq!(r.header_problems.len(), 1, "{ctx}: {r:?}");
                let p = &r.header_problems[0];
                assert!(p.contains(&format!("header {slot}")), "{ctx}: {p}");
                let what = match damage {
                    Damage::Crc => "CRC32C",
                    Damage::Mac => "authentication",
                };
                assert!(p.contains(what), "{ctx}: {p}");
                let mut out = Vec::new();
                cat(&v.vref, &v.keys, &v.opts, &mut out).unwrap();
                assert_eq!(sha256(&out), v.digest, "{ctx}");
                v.decrypt_in_place_ok();
            }
        }
    }
}

/// With both header slots damaged nothing opens, and nothing is modified.
#[test]
fn both_header_slots_damaged_fails_to_open() {
    for damage in [Damage::Crc, Damage::Mac] {
        for header in [false, true] {
            let ctx = format!("{damage:?} damage to both headers, detached={header}");
            let v = Vol::new(5 * CHUNK + 9, CHUNK, 5, header, EngineKind::Mmap);
            for base in [v.layout.hdr_a_off, v.layout.hdr_b_off] {
                flip(v.meta(), base + damage.offset(), 0x08);
            }
            let (data_before, meta_before) = (sha_file(&v.path), sha_file(v.meta()));
            let check = |e: EngineError, op: &str| match (damage, &e) {
                (Damage::Crc, EngineError::NotAVolume { reason, .. }) => {
                    assert!(reason.contains("damaged"), "{ctx}: {op}: {e}")
                }
                (Damage::Mac, EngineError::HeaderAuth(_)) => {
                    assert!(e.to_string().contains("failed authentication"), "{e}")
                }
                _ => panic!("{ctx}: {op}: unexpected error {e:?}"),
            };
            check(verify(&v.vref, &v.keys, &v.opts).unwrap_err(), "verify");
            check(
                cat(&v.vref, &v.keys, &v.opts, &mut Vec::new()).unwrap_err(),
                "cat",
            );
            check(
                decrypt(&v.vref, None, &v.keys, &v.opts).unwrap_err(),
                "decrypt",
            );
            check(
                encrypt(&v.vref, None, None, &v.keys, &v.opts).unwrap_err(),
                "encrypt",
            );
            assert_eq!(sha_file(&v.path), data_before, "{ctx}: data modified");
            assert_eq!(sha_file(v.meta()), meta_before, "{ctx}: metadata modified");
        }
    }
}

/// Swaps `len` bytes at `a` and `b` of a file.
fn swap(path: &Path, a: u64, b: u64, len: usize) {
    let (x, y) = (read_at(path, a, len), read_at(path, b, len));
    write_at(path, a, &y);
    write_at(path, b, &x);
}

/// Two chunks swapped within a volume, with or without their tag entries, both fail: the
/// chunk index is bound into every chunk's AAD.
#[test]
fn swapped_chunks_are_detected() {
    for with_tags in [true, false] {
        let v = Vol::new(10 * CHUNK, CHUNK, 6, false, EngineKind::Mmap);
        swap(&v.path, 2 * CHUNK, 5 * CHUNK, CHUNK as usize);
        if with_tags {
            swap(
                v.meta(),
                v.layout.tag_entry(2),
                v.layout.tag_entry(5),
                TAG_ENTRY_LEN,
            );
        }
        assert_eq!(v.verify_bad(), vec![2, 5], "with_tags={with_tags}");
        v.decrypt_out_fails(&[2, 5]);
        let e = decrypt(&v.vref, None, &v.keys, &v.opts).unwrap_err();
        assert_tampered(&e, &[2, 5]);
    }
}

/// A chunk and its tag entry copied from another volume encrypted with the same key file, of
/// the same plaintext at the same place, fail: every volume has its own data key and UUID.
#[test]
fn chunk_spliced_from_another_volume_is_detected() {
    for header in [false, true] {
        let v1 = Vol::new(8 * CHUNK, CHUNK, 8, header, EngineKind::Pread);
        let dir2 = scratch();
        let keys2 = provider(&key_file(dir2.path(), "key", 7));
        let v2 = Vol::with_key(dir2, keys2, 8 * CHUNK, CHUNK, 8, header, EngineKind::Pread);
        assert_eq!(v1.digest, v2.digest);
        // Same key file: the other volume opens with v1's provider.
        assert!(verify(&v2.vref, &v1.keys, &v1.opts).unwrap().ok());
        let data = read_at(&v2.path, 3 * CHUNK, CHUNK as usize);
        let tag = read_at(v2.meta(), v2.layout.tag_entry(3), TAG_ENTRY_LEN);
        write_at(&v1.path, 3 * CHUNK, &data);
        write_at(v1.meta(), v1.layout.tag_entry(3), &tag);
        assert_eq!(v1.verify_bad(), vec![3], "detached={header}");
        v1.decrypt_out_fails(&[3]);
    }
}

/// Offsets inside a header slot.
const STATE: usize = 58;
const PROGRESS: usize = 72;
const OPERATION: usize = 96;
const SEQNO: usize = 16;
const CRC: usize = 4056;

/// Rewrites the header slot at `off` with `edit` and a correct CRC32C (but the old HMAC).
fn forge(meta: &Path, off: u64, edit: impl Fn(&mut [u8])) {
    let mut h = read_at(meta, off, 4096);
    edit(&mut h);
    let crc = crc32c::crc32c(&h[..CRC]);
    h[CRC..CRC + 4].copy_from_slice(&crc.to_le_bytes());
    write_at(meta, off, &h);
}

/// A header whose state was rewritten in both slots (with a valid CRC) is refused by every
/// keyed operation with a header authentication error, and nothing is modified.
#[test]
fn forged_header_state_is_rejected() {
    type Edit = fn(&mut [u8], u64);
    let forgeries: [(&str, Edit); 3] = [
        ("half decrypted", |h, n| {
            h[STATE] = 4;
            h[OPERATION] = 2;
            h[PROGRESS..PROGRESS + 8].copy_from_slice(&(n / 2).to_le_bytes());
        }),
        ("plain", |h, _| {
            h[STATE] = 0;
        }),
        ("encrypting, nothing done", |h, _| {
            h[STATE] = 1;
            h[OPERATION] = 1;
            h[PROGRESS..PROGRESS + 8].copy_from_slice(&0u64.to_le_bytes());
        }),
    ];
    for (what, edit) in forgeries {
        for header in [false, true] {
            let ctx = format!("forged {what}, detached={header}");
            let v = Vol::new(6 * CHUNK + 5, CHUNK, 9, header, EngineKind::Mmap);
            let n = v.geom.n_chunks();
            for off in [v.layout.hdr_a_off, v.layout.hdr_b_off] {
                forge(v.meta(), off, |h| edit(h, n));
            }
            // The forgery parses (CRC and fields are fine): info shows it unauthenticated.
            let i = info(&v.vref).unwrap();
            assert_ne!(i.state, "encrypted", "{ctx}: forgery did not take");
            assert!(!i.authenticated);
            let (data_before, meta_before) = (sha_file(&v.path), sha_file(v.meta()));
            let header_auth = |e: EngineError, op: &str| {
                assert!(
                    matches!(e, EngineError::HeaderAuth(_)),
                    "{ctx}: {op}: expected a header authentication error, got {e:?}"
                );
            };
            header_auth(verify(&v.vref, &v.keys, &v.opts).unwrap_err(), "verify");
            header_auth(
                cat(&v.vref, &v.keys, &v.opts, &mut Vec::new()).unwrap_err(),
                "cat",
            );
            header_auth(
                decrypt(&v.vref, None, &v.keys, &v.opts).unwrap_err(),
                "decrypt",
            );
            let out = v.dir.path().join("forged.out");
            header_auth(
                decrypt(&v.vref, Some(&out), &v.keys, &v.opts).unwrap_err(),
                "decrypt -o",
            );
            assert!(!out.exists());
            header_auth(
                encrypt(&v.vref, None, None, &v.keys, &v.opts).unwrap_err(),
                "encrypt",
            );
            assert_eq!(sha_file(&v.path), data_before, "{ctx}: data modified");
            assert_eq!(sha_file(v.meta()), meta_before, "{ctx}: metadata modified");
        }
    }
}

/// A forged slot with a higher seqno next to an intact one: the forgery is reported and
/// ignored; the volume keeps its true state.
#[test]
fn one_forged_slot_is_ignored() {
    let v = Vol::new(6 * CHUNK + 5, CHUNK, 10, false, EngineKind::Pread);
    forge(&v.path, v.layout.hdr_b_off, |h| {
        h[STATE] = 0;
        let seq = u64::from_le_bytes(h[SEQNO..SEQNO + 8].try_into().unwrap());
        h[SEQNO..SEQNO + 8].copy_from_slice(&(seq + 10).to_le_bytes());
    });
    assert_eq!(
        info(&v.vref).unwrap().state,
        "plain",
        "forgery did not take"
    );
    let r = verify(&v.vref, &v.keys, &v.opts).unwrap();
    assert!(r.bad.is_empty() && r.plaintext == 0, "{r:?}");
    assert_eq!(r.header_problems.len(), 1, "{r:?}");
    assert!(r.header_problems[0].contains("header B"), "{r:?}");
    v.decrypt_in_place_ok();
}
