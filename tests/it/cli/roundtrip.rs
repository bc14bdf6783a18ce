//! CLI round trips (in place, detached, out of place), CLI/library interoperability and
//! `info --json`.

use volcrypt::crypto::{sha256, Backend};
use volcrypt::engine::{decrypt, encrypt, VolumeRef};
use volcrypt::format::{Geometry, LayoutKind};
use volcrypt::io::EngineKind;

use crate::util::*;

use super::{info_json, Env, CHUNK};

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
