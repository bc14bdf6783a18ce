//! The `volcrypt` binary: round trips, interoperability with the library, `info --json`, and
//! bad input. Every bad input must fail with the right exit code (1 for a failed operation, 2
//! for a usage error), a message on stderr that names the problem, and the volume unmodified.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use volcrypt::crypto::{sha256, Backend};
use volcrypt::engine::{decrypt, encrypt, VolumeRef};
use volcrypt::format::{Geometry, LayoutKind};
use volcrypt::io::EngineKind;

use crate::util::*;

const CHUNK: u64 = 4 * KIB;

/// A scratch directory with a key file in it.
struct Env {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = scratch();
        let key = key_file(dir.path(), "key", 11);
        Env { dir, key }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A plain file of `len` bytes of the stream of `seed`; returns its path and hash.
    fn plain(&self, name: &str, len: u64, seed: u64) -> (PathBuf, [u8; 32]) {
        let p = self.path(name);
        let h = write_pattern(&p, len, seed);
        (p, h)
    }

    /// A plain file encrypted in place by the CLI (attached, 4 KiB chunks).
    fn encrypted(&self, name: &str, len: u64, seed: u64) -> (PathBuf, [u8; 32]) {
        let (p, h) = self.plain(name, len, seed);
        volcrypt(&[
            &"encrypt",
            &p,
            &"--key-file",
            &self.key,
            &"--chunk-size",
            &"4K",
            &"-q",
        ])
        .ok();
        (p, h)
    }
}

fn info_json(vol: &Path, header: Option<&Path>) -> serde_json::Value {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"info", &vol, &"--json"];
    if let Some(h) = &header {
        args.push(&"--header");
        args.push(h);
    }
    let r = volcrypt(&args);
    r.ok();
    serde_json::from_slice(&r.stdout).unwrap_or_else(|e| {
        panic!(
            "info --json is not JSON ({e}): {}",
            String::from_utf8_lossy(&r.stdout)
        )
    })
}

#[test]
fn round_trips_in_place() {
    let env = Env::new();
    for (io, crypto) in [("mmap", "ring"), ("pread", "aws-lc")] {
        for (n, len) in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 300_000]
            .into_iter()
            .enumerate()
        {
            let ctx = format!("io={io} crypto={crypto} len={len}");
            let (vol, digest) = env.plain(&format!("v{io}{n}"), len, n as u64);
            let tune: [&dyn AsRef<std::ffi::OsStr>; 6] =
                [&"--key-file", &env.key, &"--io", &io, &"--crypto", &crypto];
            let run = |cmd: &str, extra: &[&dyn AsRef<std::ffi::OsStr>]| {
                let mut a: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&cmd, &vol];
                a.extend_from_slice(&tune);
                a.extend_from_slice(extra);
                volcrypt(&a)
            };
            let r = run("encrypt", &[&"--chunk-size", &"4K", &"-q"]);
            r.ok();
            assert!(r.stderr.is_empty(), "{ctx}: -q printed: {}", r.stderr);
            let (_, l) = layout(len, CHUNK, LayoutKind::Attached);
            assert_eq!(file_len(&vol), l.device_size, "{ctx}");
            assert_sealed(&vol, len, CHUNK, n as u64, &ctx);

            let j = info_json(&vol, None);
            assert_eq!(j["state"], "encrypted", "{ctx}: {j}");
            assert_eq!(j["data_len"], len, "{ctx}");
            assert_eq!(j["chunk_size"], CHUNK, "{ctx}");

            let chunks = Geometry::new(len, CHUNK).unwrap().n_chunks();
            let r = run("verify", &[]);
            r.ok();
            assert!(
                r.stderr
                    .contains(&format!("verify: OK, {chunks} chunks authenticated")),
                "{ctx}: {}",
                r.stderr
            );
            let r = run("cat", &[]);
            r.ok();
            assert_eq!(r.stdout.len() as u64, len, "{ctx}");
            assert_eq!(sha256(&r.stdout), digest, "{ctx}: cat differs");

            let r = run("decrypt", &[]);
            r.ok();
            assert!(
                r.stderr.contains("decrypt:"),
                "{ctx}: no summary: {}",
                r.stderr
            );
            assert_eq!(file_len(&vol), len, "{ctx}: metadata not removed");
            assert_eq!(sha_file(&vol), digest, "{ctx}: round trip differs");
        }
    }
}

#[test]
fn round_trips_detached_and_out_of_place() {
    let env = Env::new();
    let len = 70 * CHUNK + 3;
    let (src, digest) = env.plain("src", len, 21);
    let (out, hdr) = (env.path("out"), env.path("out.hdr"));
    let k = &env.key;
    let r = volcrypt(&[
        &"encrypt",
        &src,
        &"-o",
        &out,
        &"--header",
        &hdr,
        &"--key-file",
        k,
        &"--chunk-size",
        &"4K",
        &"--json",
    ]);
    r.ok();
    let s: serde_json::Value = serde_json::from_slice(&r.stdout).expect("encrypt --json");
    assert_eq!(s["op"], "encrypt");
    assert_eq!(s["bytes"], len);
    assert_eq!(s["resumed_from"], serde_json::Value::Null);
    assert_eq!(sha_file(&src), digest, "source modified");
    assert_eq!(file_len(&out), len);
    let (_, l) = layout(len, CHUNK, LayoutKind::Detached);
    assert_eq!(file_len(&hdr), l.device_size);
    assert_sealed(&out, len, CHUNK, 21, "encrypt -o --header");

    let j = info_json(&out, Some(&hdr));
    assert_eq!(j["layout"], "detached");
    assert_eq!(j["header_path"], hdr.display().to_string());
    volcrypt(&[&"verify", &out, &"--header", &hdr, &"--key-file", k]).ok();
    // The data file alone is not a volume: the header must be given.
    volcrypt(&[&"verify", &out, &"--key-file", k]).fails(1, &["not a volcrypt volume"]);
    let r = volcrypt(&[&"cat", &out, &"--header", &hdr, &"--key-file", k]);
    r.ok();
    assert_eq!(sha256(&r.stdout), digest);
    let dec = env.path("dec");
    volcrypt(&[
        &"decrypt",
        &out,
        &"--header",
        &hdr,
        &"-o",
        &dec,
        &"--key-file",
        k,
        &"-q",
    ])
    .ok();
    assert_eq!(sha_file(&dec), digest);
    volcrypt(&[&"decrypt", &out, &"--header", &hdr, &"--key-file", k, &"-q"]).ok();
    assert!(!hdr.exists(), "detached header not removed");
    assert_eq!(sha_file(&out), digest);

    // In place with a detached header.
    let vhdr = env.path("src.hdr");
    volcrypt(&[
        &"encrypt",
        &src,
        &"--header",
        &vhdr,
        &"--key-file",
        k,
        &"-q",
    ])
    .ok();
    assert_eq!(file_len(&src), len, "detached data grew");
    assert_eq!(info_json(&src, Some(&vhdr))["state"], "encrypted");
    volcrypt(&[
        &"decrypt",
        &src,
        &"--header",
        &vhdr,
        &"--key-file",
        k,
        &"-q",
    ])
    .ok();
    assert!(!vhdr.exists());
    assert_eq!(sha_file(&src), digest);
}

/// The CLI reads what the library writes and the other way round (same key file).
#[test]
fn cli_and_library_interoperate() {
    let env = Env::new();
    let keys = provider(&env.key);
    let o = opts(EngineKind::Pread, Backend::AwsLc);
    let len = 33 * CHUNK + 1;

    let (a, da) = env.plain("a", len, 31);
    encrypt(&VolumeRef::attached(&a), None, Some(CHUNK), &keys, &o).unwrap();
    volcrypt(&[&"verify", &a, &"--key-file", &env.key]).ok();
    volcrypt(&[&"decrypt", &a, &"--key-file", &env.key]).ok();
    assert_eq!(sha_file(&a), da);

    let (b, db) = env.plain("b", len, 32);
    volcrypt(&[&"encrypt", &b, &"--key-file", &env.key, &"--io", &"pread"]).ok();
    decrypt(&VolumeRef::attached(&b), None, &keys, &o).unwrap();
    assert_eq!(file_len(&b), len);
    assert_eq!(sha_file(&b), db);
}

#[test]
fn info_json_describes_the_volume() {
    let env = Env::new();
    let len = 10 * CHUNK + 5;
    let (vol, _) = env.encrypted("v", len, 41);
    let j = info_json(&vol, None);
    assert_eq!(j["state"], "encrypted");
    assert_eq!(j["operation"], "idle");
    assert_eq!(j["layout"], "attached");
    assert_eq!(j["data_len"], len);
    assert_eq!(j["chunks"], 11);
    assert_eq!(j["progress_chunks"], 11);
    assert_eq!(j["format_version"], 1);
    assert_eq!(j["authenticated"], false);
    assert_eq!(j["header_slots"].as_array().map(Vec::len), Some(2));
    let slots = j["keyslots"].as_array().expect("keyslots");
    assert_eq!(slots.len(), 1);
    assert!(
        slots[0]["key_id"]
            .as_str()
            .is_some_and(|s| s.starts_with("keyfile:")),
        "{j}"
    );
    // The text form says the same.
    let r = volcrypt(&[&"info", &vol]);
    r.ok();
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("state:        encrypted"), "{text}");
}

#[test]
fn missing_volume_file_is_named() {
    let env = Env::new();
    let missing = env.path("no-such-volume");
    for cmd in ["encrypt", "decrypt", "verify", "cat"] {
        volcrypt(&[&cmd, &missing, &"--key-file", &env.key])
            .fails(1, &["no-such-volume", "no such file or device"]);
        assert!(!missing.exists(), "{cmd} created the missing volume");
    }
    volcrypt(&[&"info", &missing]).fails(1, &["no such file or device"]);
    let out = env.path("out");
    volcrypt(&[&"encrypt", &missing, &"-o", &out, &"--key-file", &env.key])
        .fails(1, &["no such file or device"]);
    assert!(!out.exists());
    // A missing detached header of an existing data file.
    let (vol, digest) = env.plain("data", 3 * CHUNK, 42);
    volcrypt(&[
        &"verify",
        &vol,
        &"--header",
        &env.path("nohdr"),
        &"--key-file",
        &env.key,
    ])
    .fails(1, &["nohdr", "no such file or device"]);
    assert_eq!(sha_file(&vol), digest);
}

#[test]
fn missing_or_malformed_key_file_is_named() {
    let env = Env::new();
    let missing = env.path("no-such-key");
    let (plain, pd) = env.plain("p", 5 * CHUNK, 43);
    volcrypt(&[&"encrypt", &plain, &"--key-file", &missing]).fails(1, &["key file", "no-such-key"]);
    assert_eq!((file_len(&plain), sha_file(&plain)), (5 * CHUNK, pd));

    let (vol, _) = env.encrypted("v", 5 * CHUNK, 44);
    let before = sha_file(&vol);
    for cmd in ["decrypt", "verify", "cat"] {
        volcrypt(&[&cmd, &vol, &"--key-file", &missing]).fails(1, &["key file", "no-such-key"]);
    }
    let bad = env.path("short-key");
    std::fs::write(&bad, b"0123456789").unwrap();
    volcrypt(&[&"decrypt", &vol, &"--key-file", &bad])
        .fails(1, &["short-key", "expected 32 raw bytes or 64 hex digits"]);
    assert_eq!(sha_file(&vol), before, "volume modified");
    // No --key-file at all is a usage error.
    volcrypt(&[&"decrypt", &vol]).fails(2, &["--key-file"]);
    assert_eq!(sha_file(&vol), before, "volume modified");
}

#[test]
fn encrypting_twice_is_refused() {
    let env = Env::new();
    let (vol, _) = env.encrypted("v", 9 * CHUNK, 45);
    let before = sha_file(&vol);
    volcrypt(&[&"encrypt", &vol, &"--key-file", &env.key])
        .fails(1, &["already a volcrypt volume", "state: encrypted"]);
    assert_eq!(sha_file(&vol), before);
    // Nor can an encrypted volume be the source of an out-of-place encrypt.
    let out = env.path("out");
    volcrypt(&[&"encrypt", &vol, &"-o", &out, &"--key-file", &env.key])
        .fails(1, &["already a volcrypt volume"]);
    assert!(!out.exists());
    assert_eq!(sha_file(&vol), before);

    // Detached: the header file says it is encrypted.
    let (d, _) = env.plain("d", 9 * CHUNK, 46);
    let hdr = env.path("d.hdr");
    volcrypt(&[&"encrypt", &d, &"--header", &hdr, &"--key-file", &env.key]).ok();
    let (db, hb) = (sha_file(&d), sha_file(&hdr));
    volcrypt(&[&"encrypt", &d, &"--header", &hdr, &"--key-file", &env.key])
        .fails(1, &["already a volcrypt volume"]);
    assert_eq!((sha_file(&d), sha_file(&hdr)), (db, hb));
}

#[test]
fn plain_data_is_not_a_volume() {
    let env = Env::new();
    for (name, len) in [("empty", 0), ("tiny", 5), ("plain", 3 * MIB + 17)] {
        let (p, digest) = env.plain(name, len, 47);
        for cmd in ["decrypt", "verify", "cat"] {
            let r = volcrypt(&[&cmd, &p, &"--key-file", &env.key]);
            r.fails(1, &[name, "is not a volcrypt volume"]);
            assert!(r.stdout.is_empty(), "{cmd} {name} wrote output");
        }
        volcrypt(&[&"info", &p]).fails(1, &["is not a volcrypt volume"]);
        let out = env.path("out");
        volcrypt(&[&"decrypt", &p, &"-o", &out, &"--key-file", &env.key])
            .fails(1, &["is not a volcrypt volume"]);
        assert!(!out.exists());
        assert_eq!(
            (file_len(&p), sha_file(&p)),
            (len, digest),
            "{name} modified"
        );
    }
    // A plain file given as a detached header.
    let (d, dd) = env.plain("d", 4 * CHUNK, 48);
    let (h, hd) = env.plain("h", 64 * KIB, 49);
    volcrypt(&[&"verify", &d, &"--header", &h, &"--key-file", &env.key])
        .fails(1, &["is not a volcrypt volume"]);
    assert_eq!((sha_file(&d), sha_file(&h)), (dd, hd));
}

#[test]
fn truncated_volume_is_named() {
    let env = Env::new();
    let (vol, _) = env.encrypted("v", 20 * CHUNK + 1, 50);
    for cut in [1, 100, 4096, 8192 + 7, 3 * 4096, MIB] {
        let t = env.path(&format!("t{cut}"));
        std::fs::copy(&vol, &t).unwrap();
        chop(&t, cut);
        let before = sha_file(&t);
        for cmd in ["decrypt", "verify", "cat"] {
            volcrypt(&[&cmd, &t, &"--key-file", &env.key])
                .fails(1, &["not a volcrypt volume", "truncated"]);
        }
        volcrypt(&[&"info", &t]).fails(1, &["truncated"]);
        assert_eq!(sha_file(&t), before, "cut {cut}: truncated volume modified");
    }
}

#[test]
fn truncated_detached_metadata_and_data_are_named() {
    let env = Env::new();
    let len = 20 * CHUNK + 1;
    let (vol, _) = env.plain("v", len, 51);
    let hdr = env.path("v.hdr");
    volcrypt(&[
        &"encrypt",
        &vol,
        &"--header",
        &hdr,
        &"--key-file",
        &env.key,
        &"-q",
    ])
    .ok();
    let (vol_sha, hdr_sha) = (sha_file(&vol), sha_file(&hdr));

    // Truncated header file.
    for cut in [100, 4096, 3 * 4096] {
        let h = env.path(&format!("h{cut}"));
        std::fs::copy(&hdr, &h).unwrap();
        chop(&h, cut);
        let before = sha_file(&h);
        for cmd in ["decrypt", "verify"] {
            volcrypt(&[&cmd, &vol, &"--header", &h, &"--key-file", &env.key])
                .fails(1, &["not a volcrypt volume", "truncated"]);
        }
        assert_eq!(sha_file(&h), before, "cut {cut}");
        assert_eq!(sha_file(&vol), vol_sha, "cut {cut}");
    }

    // Truncated data file behind an intact header file.
    let d = env.path("d");
    std::fs::copy(&vol, &d).unwrap();
    chop(&d, 100);
    let before = sha_file(&d);
    let expect = format!(
        "the header describes {len} bytes, the device has {}",
        len - 100
    );
    for cmd in ["decrypt", "verify", "cat"] {
        volcrypt(&[&cmd, &d, &"--header", &hdr, &"--key-file", &env.key])
            .fails(1, &["is truncated", &expect]);
    }
    assert_eq!(sha_file(&d), before);
    assert_eq!(sha_file(&hdr), hdr_sha, "header file modified");
}

#[test]
fn wrong_key_is_refused_before_any_data_is_touched() {
    let env = Env::new();
    let (vol, digest) = env.encrypted("v", 12 * CHUNK, 52);
    let other = key_file(env.dir.path(), "other-key", 99);
    let before = sha_file(&vol);
    for cmd in ["decrypt", "verify", "cat"] {
        let r = volcrypt(&[&cmd, &vol, &"--key-file", &other]);
        r.fails(1, &["wrong key", "other-key"]);
        assert!(r.stdout.is_empty(), "{cmd} wrote output with the wrong key");
    }
    let out = env.path("out");
    volcrypt(&[&"decrypt", &vol, &"-o", &out, &"--key-file", &other]).fails(1, &["wrong key"]);
    assert!(!out.exists());
    assert_eq!(sha_file(&vol), before, "volume modified by a wrong key");
    // The right key still works.
    volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key]).ok();
    assert_eq!(sha_file(&vol), digest);
}

#[test]
fn bad_chunk_size_is_a_usage_error() {
    let env = Env::new();
    let (vol, digest) = env.plain("v", 10 * CHUNK, 53);
    let hdr = env.path("v.hdr");
    for (size, msg) in [
        ("3000", "not a power of two"),
        ("65535", "not a power of two"),
        ("0", "not a power of two"),
        ("2K", "out of range"),
        ("2M", "out of range"),
        ("1G", "out of range"),
        ("12Q", "unknown unit"),
    ] {
        volcrypt(&[
            &"encrypt",
            &vol,
            &"--header",
            &hdr,
            &"--chunk-size",
            &size,
            &"--key-file",
            &env.key,
        ])
        .fails(2, &["chunk-size", msg]);
        assert!(!hdr.exists(), "{size}: header file created");
        assert_eq!(
            (file_len(&vol), sha_file(&vol)),
            (10 * CHUNK, digest),
            "{size}"
        );
    }
    for (flag, value) in [("--io", "mem"), ("--io", "nope"), ("--crypto", "des")] {
        volcrypt(&[&"encrypt", &vol, &flag, &value, &"--key-file", &env.key]).fails(2, &[value]);
    }
    assert_eq!(sha_file(&vol), digest);
}

#[test]
fn existing_output_is_refused() {
    let env = Env::new();
    let (src, sd) = env.plain("src", 6 * CHUNK, 54);
    let (existing, ed) = env.plain("existing", 2 * CHUNK, 55);
    volcrypt(&[&"encrypt", &src, &"-o", &existing, &"--key-file", &env.key])
        .fails(1, &["existing", "already exists", "refusing to overwrite"]);
    // A header file that already exists is an output too.
    volcrypt(&[
        &"encrypt",
        &src,
        &"--header",
        &existing,
        &"--key-file",
        &env.key,
    ])
    .fails(1, &["already exists"]);
    assert_eq!(sha_file(&existing), ed, "existing output modified");
    assert_eq!(sha_file(&src), sd, "source modified");

    let (vol, _) = env.encrypted("v", 6 * CHUNK, 56);
    let before = sha_file(&vol);
    volcrypt(&[&"decrypt", &vol, &"-o", &existing, &"--key-file", &env.key])
        .fails(1, &["already exists"]);
    assert_eq!(sha_file(&existing), ed, "existing output modified");
    assert_eq!(sha_file(&vol), before);

    // A finished volume is not overwritten by encrypting the same source into it again.
    let out = env.path("out");
    volcrypt(&[
        &"encrypt",
        &src,
        &"-o",
        &out,
        &"--key-file",
        &env.key,
        &"-q",
    ])
    .ok();
    let od = sha_file(&out);
    volcrypt(&[&"encrypt", &src, &"-o", &out, &"--key-file", &env.key]).fails(1, &["already"]);
    assert_eq!(sha_file(&out), od);
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn read_only_volume_is_refused() {
    let env = Env::new();
    let (plain, pd) = env.plain("p", 8 * CHUNK, 57);
    chmod(&plain, 0o444);
    volcrypt(&[&"encrypt", &plain, &"--key-file", &env.key])
        .fails(1, &["read-only", "0444", "refusing to modify"]);
    assert_eq!((file_len(&plain), sha_file(&plain)), (8 * CHUNK, pd));
    // With a detached header the data file would still be written.
    let hdr = env.path("p.hdr");
    volcrypt(&[
        &"encrypt",
        &plain,
        &"--header",
        &hdr,
        &"--key-file",
        &env.key,
    ])
    .fails(1, &["read-only"]);
    assert!(!hdr.exists());
    // Out of place only reads the source: allowed.
    let out = env.path("out");
    volcrypt(&[
        &"encrypt",
        &plain,
        &"-o",
        &out,
        &"--key-file",
        &env.key,
        &"-q",
    ])
    .ok();
    assert_eq!(sha_file(&plain), pd);

    let (vol, digest) = env.encrypted("v", 8 * CHUNK, 58);
    let before = sha_file(&vol);
    chmod(&vol, 0o400);
    volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key]).fails(1, &["read-only", "0400"]);
    assert_eq!(sha_file(&vol), before);
    // Reading a read-only volume is fine.
    volcrypt(&[&"verify", &vol, &"--key-file", &env.key]).ok();
    let r = volcrypt(&[&"cat", &vol, &"--key-file", &env.key]);
    r.ok();
    assert_eq!(sha256(&r.stdout), digest);
    chmod(&vol, 0o644);
    volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key]).ok();
    assert_eq!(sha_file(&vol), digest);
}

#[test]
fn tampered_chunk_is_named() {
    let env = Env::new();
    let len = 10 * CHUNK + 10;
    let (vol, digest) = env.encrypted("v", len, 59);
    flip(&vol, 6 * CHUNK + 17, 0x01);
    let data_before = sha_range(&vol, 0, len);
    let r = volcrypt(&[&"verify", &vol, &"--key-file", &env.key]);
    r.fails(1, &["1 chunk(s) failed authentication: 6"]);
    let r = volcrypt(&[&"verify", &vol, &"--key-file", &env.key, &"--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).expect("verify --json");
    assert_eq!(j["bad"], serde_json::json!([6]));
    let r = volcrypt(&[&"cat", &vol, &"--key-file", &env.key]);
    r.fails(1, &["failed authentication: 6"]);
    assert!(
        r.stdout.is_empty(),
        "cat wrote {} bytes of a bad window",
        r.stdout.len()
    );
    volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key])
        .fails(1, &["1 chunk(s) failed authentication: 6"]);
    assert_eq!(
        sha_range(&vol, 0, len),
        data_before,
        "failed decrypt wrote data"
    );
    flip(&vol, 6 * CHUNK + 17, 0x01);
    volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key]).ok();
    assert_eq!(sha_file(&vol), digest);
}

/// A second process on a volume that another holds gets a clear "busy" error.
#[test]
fn second_process_gets_busy() {
    let env = Env::new();
    let (vol, digest) = env.encrypted("v", 6 * CHUNK, 60);
    let (plain, pd) = env.plain("p", 6 * CHUNK, 61);
    let before = sha_file(&vol);
    {
        let held = File::open(&vol).unwrap();
        held.try_lock().expect("locking the volume");
        let p = File::open(&plain).unwrap();
        p.try_lock().expect("locking the plain file");
        for cmd in ["verify", "cat", "decrypt", "encrypt"] {
            let r = volcrypt(&[&cmd, &vol, &"--key-file", &env.key]);
            r.fails(1, &["is busy", "another volcrypt process"]);
            assert!(r.stdout.is_empty());
        }
        volcrypt(&[&"info", &vol]).fails(1, &["is busy"]);
        volcrypt(&[&"encrypt", &plain, &"--key-file", &env.key]).fails(1, &["is busy"]);
        assert_eq!(sha_file(&vol), before);
        assert_eq!((file_len(&plain), sha_file(&plain)), (6 * CHUNK, pd));
    }
    {
        // A shared holder (another reader) lets readers in but keeps writers out.
        let held = File::open(&vol).unwrap();
        held.try_lock_shared().expect("share-locking the volume");
        volcrypt(&[&"verify", &vol, &"--key-file", &env.key]).ok();
        volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key]).fails(1, &["is busy"]);
        assert_eq!(sha_file(&vol), before);
    }
    volcrypt(&[&"decrypt", &vol, &"--key-file", &env.key]).ok();
    assert_eq!(sha_file(&vol), digest);
}
