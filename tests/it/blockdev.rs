//! A real block device: a 64 MiB loop device is encrypted in place with an explicit
//! detached header, verified, read, and decrypted back to the original bytes. A second test
//! SIGKILLs an encrypt, a rekey and a decrypt of a loop device in the middle, each finished
//! by `volcrypt resume` (default resilience: the journal). Needs root and a working
//! `losetup`; without them the tests print `SKIP blockdev...: <reason>` to stderr and
//! return. The loop-device and environment helpers here are shared with the `blockdev_*`
//! modules (default header directory, reserved tail, devices in use).

use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use volcrypt::crypto::sha256;
use volcrypt::format::{Geometry, LayoutKind, Operation, WINDOW_BYTES};

use crate::kill::{args, run_and_kill, try_info, End};
use crate::util::*;

/// Detaches the loop device when dropped, however the test ends.
pub(crate) struct Loop(pub PathBuf);

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
pub(crate) fn attach(file: &Path) -> Result<Loop, String> {
    attach_with(file, &[])
}

/// Attaches `file` to a free loop device with extra `losetup` options (`--sector-size
/// 4096`), or says why not.
pub(crate) fn attach_with(file: &Path, options: &[&str]) -> Result<Loop, String> {
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
        .args(options)
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

/// Runs `volcrypt ARGS` with `VOLCRYPT_HEADER_DIR=dir`, so that default headers of block
/// devices go to a scratch directory, never to /var/lib.
pub(crate) fn volcrypt_in(dir: &Path, args: &[&dyn AsRef<OsStr>]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
        .env("VOLCRYPT_HEADER_DIR", dir)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("running volcrypt");
    Run {
        code: out.status.code().expect("volcrypt was killed by a signal"),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `volcrypt info --json` of `dev` under header directory `dir`, parsed.
pub(crate) fn info_json(dir: &Path, dev: &Path) -> serde_json::Value {
    let r = volcrypt_in(dir, &[&"info", &dev, &"--json"]);
    r.ok();
    serde_json::from_slice(&r.stdout).expect("info --json")
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

/// Encrypt, rekey and decrypt of a loop device with a detached header, each SIGKILLed once
/// in the middle of a window (after the first window's checkpoint) and finished by
/// `volcrypt resume --header H`.
#[test]
fn loop_device_sigkill_and_resume_with_detached_header() {
    let dir = scratch();
    // Eight 32 MiB windows: the kill lands in the second.
    let len = 256 * MIB;
    let backing = dir.path().join("backing.img");
    let digest = write_pattern(&backing, len, 78);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev (sigkill and resume): {reason}");
            return;
        }
    };
    let d = &dev.0;
    let key = key_file(dir.path(), "key", 13);
    let hdr = dir.path().join("dev.hdr");
    let window = WINDOW_BYTES / (64 * KIB);
    for op in [Operation::Encrypt, Operation::Rekey, Operation::Decrypt] {
        let a = args(&[&op.name(), d, &"--header", &hdr, &"--key-file", &key]);
        let forever = Duration::from_secs(120);
        let end = run_and_kill(&a, op, &hdr, forever, window, Duration::from_millis(20));
        let End::Limit(at) = end else {
            panic!("{op} was not killed in the middle: {end:?}")
        };
        let j = try_info(d, Some(&hdr))
            .unwrap_or_else(|e| panic!("{op}: no volume after the kill: {e}"));
        assert_eq!(
            j["operation"],
            op.name(),
            "{op}: killed at chunk {at}, the header says {j}"
        );
        let done = j["progress_chunks"].as_u64().unwrap();
        assert!(
            done < j["chunks"].as_u64().unwrap(),
            "{op}: complete after the kill: {j}"
        );
        eprintln!("blockdev: {op} killed with {at} chunks done");
        volcrypt(&[&"resume", d, &"--header", &hdr, &"--key-file", &key, &"-q"]).ok();
        if op == Operation::Decrypt {
            assert!(!hdr.exists(), "detached header not removed");
        } else {
            let j = try_info(d, Some(&hdr)).unwrap();
            assert_eq!(j["state"], "encrypted", "{op} did not finish: {j}");
            assert_eq!(j["operation"], "idle", "{op} did not finish: {j}");
            volcrypt(&[&"verify", d, &"--header", &hdr, &"--key-file", &key]).ok();
        }
    }
    assert_eq!(
        sha_file(d),
        digest,
        "device differs after encrypt, rekey and decrypt"
    );
    drop(dev);
    assert_eq!(sha_file(&backing), digest);
}
