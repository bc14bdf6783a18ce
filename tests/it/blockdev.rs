//! A real block device: a 64 MiB loop device is encrypted in place with a detached header
//! (block devices cannot grow), verified, read, and decrypted back to the original bytes; an
//! attached encrypt of it is refused with a clear error. Needs root and a working `losetup`;
//! without them the test prints `SKIP blockdev: <reason>` to stderr and returns.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use volcrypt::crypto::sha256;
use volcrypt::format::{Geometry, LayoutKind};

use crate::util::*;

/// Detaches the loop device when dropped, however the test ends.
struct Loop(PathBuf);

impl Drop for Loop {
    fn drop(&mut self) {
        match Command::new("losetup").arg("-d").arg(&self.0).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "losetup -d {} failed: {}",
                self.0.display(),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("losetup -d {}: {e}", self.0.display()),
        }
    }
}

/// Attaches `file` to a free loop device, or says why not.
fn attach(file: &Path) -> Result<Loop, String> {
    // /proc/self belongs to the effective user of this process.
    let uid = std::fs::metadata("/proc/self")
        .map_err(|e| format!("cannot tell the user id: {e}"))?
        .uid();
    if uid != 0 {
        return Err(format!("not running as root (uid {uid})"));
    }
    let out = Command::new("losetup")
        .arg("-f")
        .arg("--show")
        .arg(file)
        .output()
        .map_err(|e| format!("losetup is unavailable: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "losetup -f --show failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let guard = Loop(dev);
    let is_block = std::fs::metadata(&guard.0).is_ok_and(|m| m.file_type().is_block_device());
    if !is_block {
        return Err(format!("{} is not a block device", guard.0.display()));
    }
    Ok(guard)
}

#[test]
fn loop_device_round_trip_with_detached_header() {
    let dir = scratch();
    let len = 64 * MIB;
    let chunk = 64 * KIB;
    let backing = dir.path().join("backing.img");
    let digest = write_pattern(&backing, len, 77);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev: {reason}");
            return;
        }
    };
    let d = &dev.0;
    let key = key_file(dir.path(), "key", 12);
    assert_eq!(
        sha_file(d),
        digest,
        "loop device does not show the backing file"
    );

    // Attached metadata would have to grow the device: refused, nothing written.
    volcrypt(&[&"encrypt", d, &"--key-file", &key])
        .fails(1, &["is a block device", "cannot grow", "--header FILE"]);
    assert_eq!(sha_file(d), digest, "refused encrypt modified the device");

    let hdr = dir.path().join("dev.hdr");
    volcrypt(&[
        &"encrypt",
        d,
        &"--header",
        &hdr,
        &"--key-file",
        &key,
        &"--chunk-size",
        &"64K",
        &"-q",
    ])
    .ok();
    let (g, l) = layout(len, chunk, LayoutKind::Detached);
    assert_eq!(g.n_windows(), 2);
    assert_eq!(file_len(&hdr), l.device_size);
    assert_sealed(d, len, chunk, 77, "loop device");
    assert_eq!(file_len(&backing), len, "the device grew");

    let r = volcrypt(&[&"info", d, &"--header", &hdr, &"--json"]);
    r.ok();
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).expect("info --json");
    assert_eq!(j["state"], "encrypted");
    assert_eq!(j["layout"], "detached");
    assert_eq!(j["data_len"], len);

    let n = Geometry::new(len, chunk).unwrap().n_chunks();
    volcrypt(&[
        &"verify",
        d,
        &"--header",
        &hdr,
        &"--key-file",
        &key,
        &"--io",
        &"pread",
    ])
    .ok()
    .fails(0, &[&format!("verify: OK, {n} chunks authenticated")]);
    let r = volcrypt(&[&"cat", d, &"--header", &hdr, &"--key-file", &key]);
    r.ok();
    assert_eq!(r.stdout.len() as u64, len);
    assert_eq!(sha256(&r.stdout), digest, "cat of the device differs");
    drop(r);

    volcrypt(&[&"decrypt", d, &"--header", &hdr, &"--key-file", &key, &"-q"]).ok();
    assert!(!hdr.exists(), "detached header not removed");
    assert_eq!(sha_file(d), digest, "device differs after the round trip");
    drop(dev);
    assert_eq!(sha_file(&backing), digest);
}
