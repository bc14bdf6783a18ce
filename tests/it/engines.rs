//! The I/O engines against each other, and the choice between them.
//!
//! - **Byte-identical output.** One volume (one UUID, one data key, one nonce reservation) is
//!   created by an in-place encrypt that is stopped before its first window; copies of it are
//!   finished by `volcrypt resume --io E` for every engine. The data, tag table and journal
//!   must be the same bytes for every engine (only the header slots differ: they hold
//!   timestamps), every copy verifies with every other engine, and in-place decrypts with
//!   each engine give back the original bytes.
//! - **Fallback.** With io_uring turned off (`VOLCRYPT_IO_URING=off`, which the probe treats
//!   like a kernel's EPERM), `--io auto` on a large file uses pread and says why, and an
//!   explicit `--io uring` fails with the reason and changes nothing.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use volcrypt::crypto::Backend;
use volcrypt::engine::{encrypt, Observer, RunOptions, Stage, VolumeRef};
use volcrypt::format::{header_offsets, WINDOW_BYTES};
use volcrypt::io::{EngineKind, DISABLE_ENV, LARGE_FILE};

use crate::util::*;

#[test]
fn every_engine_writes_the_same_bytes_for_the_same_volume_and_key() {
    let engines = engines();
    let dir = scratch();
    let d = dir.path();
    let key = key_file(d, "key", 7);
    // Two windows and a partial last block: aligned and unaligned paths of every engine.
    let len = WINDOW_BYTES + 5 * 65536 + 1234;
    let base = d.join("base");
    let digest = write_pattern(&base, len, 11);
    let stopped = RunOptions {
        cancel: Some(Arc::new(AtomicBool::new(true))),
        ..opts(EngineKind::Pread, Backend::Ring)
    };
    let s = encrypt(
        &VolumeRef::attached(&base),
        None,
        None,
        &provider(&key),
        &stopped,
    )
    .unwrap();
    assert!(s.interrupted && s.bytes == 0, "{s:?}");
    let size = file_len(&base);
    let (hdr_a, _) = header_offsets(size).unwrap();
    let mut outputs = Vec::new();
    for e in &engines {
        let v = d.join(format!("vol-{e}"));
        std::fs::copy(&base, &v).unwrap();
        let r = volcrypt(&[
            &"resume",
            &v,
            &"--key-file",
            &key,
            &"--io",
            &e.name(),
            &"--json",
        ]);
        r.ok();
        let json: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(
            json["engine"],
            e.name(),
            "{}",
            String::from_utf8_lossy(&r.stdout)
        );
        assert_eq!(json["bytes"], len, "{e}");
        outputs.push((e, v));
    }
    let (first, v0) = &outputs[0];
    let body0 = sha_range(v0, 0, hdr_a);
    assert_sealed(v0, len, 65536, 11, "resumed with the first engine");
    for (e, v) in &outputs[1..] {
        assert_eq!(file_len(v), size);
        assert_eq!(
            sha_range(v, 0, hdr_a),
            body0,
            "data, tags and journal differ between {first} and {e}"
        );
    }
    for (e, v) in &outputs {
        for r in &engines {
            volcrypt(&[&"verify", v, &"--key-file", &key, &"--io", &r.name()]).ok();
        }
        volcrypt(&[&"decrypt", v, &"--key-file", &key, &"--io", &e.name()]).ok();
        assert_eq!(file_len(v), len, "{e}");
        assert_eq!(sha_file(v), digest, "decrypt with {e}");
    }
}

#[test]
fn auto_falls_back_to_pread_when_io_uring_is_refused() {
    let dir = scratch();
    let d = dir.path();
    let key = key_file(d, "key", 8);
    let vol = d.join("big");
    // Large enough for `auto` to want io_uring; sparse, so cheap to make.
    std::fs::File::create(&vol)
        .unwrap()
        .set_len(LARGE_FILE)
        .unwrap();
    if volcrypt::io::in_memory_fs(&vol) {
        eprintln!("SKIP auto_falls_back_to_pread_when_io_uring_is_refused: the scratch dir is in memory (auto picks mmap)");
        return;
    }
    let off = |args: &[&dyn AsRef<std::ffi::OsStr>]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_volcrypt"))
            .args(args.iter().map(|a| a.as_ref()))
            .env(DISABLE_ENV, "off")
            .output()
            .unwrap();
        (
            out.status.code(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let before = sha_file(&vol);
    let (code, _, err) = off(&[&"encrypt", &vol, &"--key-file", &key, &"--io", &"uring"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--io uring: io_uring is unavailable: disabled by VOLCRYPT_IO_URING=off"),
        "{err}"
    );
    assert_eq!(sha_file(&vol), before, "a refused run changed the file");
    assert_eq!(file_len(&vol), LARGE_FILE);
    let (code, out, err) = off(&[
        &"encrypt",
        &vol,
        &"--key-file",
        &key,
        &"--resilience",
        &"none",
        &"--json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "io_uring unavailable (disabled by VOLCRYPT_IO_URING=off); using the pread engine"
        ),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(json["engine"], "pread");
    // Without the switch, and where the kernel allows io_uring, auto picks it.
    if uring_usable("auto picks uring") {
        let r = volcrypt(&[&"verify", &vol, &"--key-file", &key, &"--json"]);
        r.ok();
        let json: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
        let summary = &json["summary"];
        assert_eq!(summary["engine"], "uring", "{json}");
        assert!(
            summary["io"].as_str().unwrap().starts_with("uring ("),
            "{json}"
        );
    }
}

/// Counts and bytes per stage.
#[derive(Default)]
struct Tally(std::sync::Mutex<std::collections::BTreeMap<Stage, (u64, u64)>>);

impl Observer for Tally {
    fn record(&self, stage: Stage, _: std::time::Duration, bytes: u64) {
        let mut m = self.0.lock().unwrap();
        let e = m.entry(stage).or_default();
        e.0 += 1;
        e.1 += bytes;
    }
}

#[test]
fn an_observer_sees_every_stage_of_every_window() {
    let dir = scratch();
    let d = dir.path();
    let key = key_file(d, "key", 9);
    let vol = d.join("vol");
    let len = 2 * WINDOW_BYTES + 3 * 65536 + 17;
    write_pattern(&vol, len, 3);
    let tally = Arc::new(Tally::default());
    let o = RunOptions {
        observer: Some(tally.clone()),
        ..opts(EngineKind::Pread, Backend::Ring)
    };
    encrypt(&VolumeRef::attached(&vol), None, None, &provider(&key), &o).unwrap();
    let m = tally.0.lock().unwrap().clone();
    let chunks = len.div_ceil(65536);
    assert_eq!(m[&Stage::Chunk], (chunks, len), "one record per chunk");
    for s in [
        Stage::Cipher,
        Stage::JournalCommit,
        Stage::Apply,
        Stage::Checkpoint,
    ] {
        assert_eq!(m[&s], (3, len), "{s:?}: one record per window");
    }
    // Window reads carry the bytes; plaintext sources have no tag reads.
    assert_eq!(m[&Stage::Read], (3, len));
    assert!(!m.contains_key(&Stage::KmsCall));
}
