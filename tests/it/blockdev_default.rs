//! Block devices without `--header`: the detached header is the default, in
//! `$VOLCRYPT_HEADER_DIR/<kernel name>.vchdr` (here a scratch directory, never /var/lib),
//! created 0700 by `encrypt`, which says where the header went; every later command finds it
//! the same way, and `decrypt` removes it. A loop device with 4 KiB logical sectors reports
//! them (the ioctl and `info`) and round-trips the same way. Needs root and `losetup`, else
//! `SKIP ...: <reason>`.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use volcrypt::crypto::sha256;
use volcrypt::engine::{self, VolumeRef};
use volcrypt::format::Geometry;
use volcrypt::io::{block_info, EngineKind};

use crate::blockdev::{attach, attach_with, info_json, volcrypt_in};
use crate::util::*;

/// Where the default header of `dev` goes under `dir`: the kernel name plus `.vchdr`.
fn default_header(dir: &Path, dev: &Path) -> PathBuf {
    let name = std::fs::canonicalize(dev).unwrap();
    let name = name.file_name().unwrap().to_string_lossy();
    dir.join(format!("{name}.vchdr"))
}

#[test]
fn loop_device_uses_the_default_header_dir() {
    let dir = scratch();
    let len = 64 * MIB;
    let backing = dir.path().join("backing.img");
    let digest = write_pattern(&backing, len, 81);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev default header: {reason}");
            return;
        }
    };
    let d = &dev.0;
    let key = key_file(dir.path(), "key", 21);
    // Not created yet: the encrypt makes it, 0700.
    let hdrs = dir.path().join("state").join("headers");
    let hdr = default_header(&hdrs, d);

    // Before the encrypt there is no header anywhere: the error names where it looked.
    volcrypt_in(&hdrs, &[&"info", d]).fails(
        1,
        &["no volcrypt header", &hdr.display().to_string(), "--header"],
    );
    volcrypt_in(&hdrs, &[&"verify", d, &"--key-file", &key])
        .fails(1, &[&hdr.display().to_string()]);
    assert!(!hdrs.exists(), "a read created the header directory");

    // The library keeps metadata attached unless told: a block device cannot grow.
    let keys = provider(&key);
    let e = engine::encrypt(
        &VolumeRef::attached(d),
        None,
        None,
        &keys,
        &opts(EngineKind::Pread, volcrypt::crypto::Backend::Ring),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("cannot grow") && e.contains("--reserved-tail"),
        "{e}"
    );
    assert_eq!(sha_file(d), digest, "refused encrypt modified the device");

    let r = volcrypt_in(&hdrs, &[&"encrypt", d, &"--key-file", &key, &"-q"]);
    r.ok();
    // One line, even with -q: where the header is, and that it must be kept.
    assert!(
        r.stderr.contains(&hdr.display().to_string()) && r.stderr.contains("keep it"),
        "encrypt did not say where the header went: {}",
        r.stderr
    );
    let said = r.stderr.lines().filter(|l| l.contains("keep it")).count();
    assert_eq!(said, 1, "{}", r.stderr);
    let mode = std::fs::metadata(&hdrs).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "header directory mode {mode:o}");
    let (g, l) = layout(len, 64 * KIB, volcrypt::format::LayoutKind::Detached);
    assert_eq!(file_len(&hdr), l.device_size);
    assert_sealed(d, len, 64 * KIB, 81, "loop device");
    assert_eq!(file_len(&backing), len, "the device grew");

    let j = info_json(&hdrs, d);
    assert_eq!(j["layout"], "detached");
    assert_eq!(j["state"], "encrypted");
    assert_eq!(j["header_path"], hdr.display().to_string());
    assert_eq!(j["logical_block"], 512);
    let r = volcrypt_in(&hdrs, &[&"info", d]);
    r.ok();
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("logical block 512 bytes"), "{text}");

    let n = g.n_chunks();
    volcrypt_in(&hdrs, &[&"verify", d, &"--key-file", &key])
        .ok()
        .fails(0, &[&format!("verify: OK, {n} chunks authenticated")]);
    let r = volcrypt_in(&hdrs, &[&"cat", d, &"--key-file", &key]);
    r.ok();
    assert_eq!(sha256(&r.stdout), digest, "cat of the device differs");
    drop(r);
    // A second encrypt finds the volume through the default header.
    volcrypt_in(&hdrs, &[&"encrypt", d, &"--key-file", &key])
        .fails(1, &["already a volcrypt volume"]);

    volcrypt_in(&hdrs, &[&"decrypt", d, &"--key-file", &key, &"-q"]).ok();
    assert!(!hdr.exists(), "default header not removed");
    assert_eq!(sha_file(d), digest, "device differs after the round trip");
}

#[test]
fn loop_device_with_4k_sectors() {
    let dir = scratch();
    let len = 32 * MIB;
    let backing = dir.path().join("backing.img");
    let digest = write_pattern(&backing, len, 82);
    let dev = match attach_with(&backing, &["--sector-size", "4096"]) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev 4k sectors: {reason}");
            return;
        }
    };
    let d = &dev.0;
    let b = block_info(&File::open(d).unwrap()).unwrap();
    assert_eq!((b.size, b.logical_block), (len, 4096));
    assert!(b.physical_block >= 4096, "{b:?}");

    let key = key_file(dir.path(), "key", 22);
    let hdrs = dir.path().join("headers");
    // A reserved tail must be a whole number of logical blocks.
    volcrypt_in(
        &hdrs,
        &[
            &"encrypt",
            d,
            &"--reserved-tail",
            &"20002K",
            &"--key-file",
            &key,
        ],
    )
    .fails(1, &["--reserved-tail", "multiple of 4096"]);
    assert_eq!(sha_file(d), digest);

    volcrypt_in(&hdrs, &[&"encrypt", d, &"--key-file", &key, &"-q"]).ok();
    let j = info_json(&hdrs, d);
    assert_eq!(j["logical_block"], 4096);
    assert!(j["physical_block"].as_u64().unwrap() >= 4096, "{j}");
    assert_eq!(j["data_len"], len);
    let n = Geometry::new(len, 64 * KIB).unwrap().n_chunks();
    volcrypt_in(&hdrs, &[&"verify", d, &"--key-file", &key])
        .ok()
        .fails(0, &[&format!("verify: OK, {n} chunks authenticated")]);
    volcrypt_in(&hdrs, &[&"decrypt", d, &"--key-file", &key, &"-q"]).ok();
    assert_eq!(sha_file(d), digest, "device differs after the round trip");
}
