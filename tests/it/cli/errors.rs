//! CLI bad input: each case fails with the right exit code and a message naming the problem,
//! and leaves the volume unmodified.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use volcrypt::crypto::sha256;

use crate::util::*;

use super::{Env, CHUNK};

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
