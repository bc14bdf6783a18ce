//! Block devices in use are never modified: while another program holds an exclusive open
//! (`O_EXCL`, as mount, LVM and md do), an encrypt or decrypt fails with the in-use error and
//! the device's bytes stay as they were, while read-only commands still work; a mounted
//! device is refused with an error naming the mount point. Needs root and `losetup` (and
//! `mkfs.ext4` and `mount` for the mounted case), else `SKIP ...: <reason>`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::blockdev::{attach, volcrypt_in};
use crate::util::*;

const IN_USE: &[&str] = &[
    "is in use",
    "another program that opened it exclusively",
    "refusing to modify it",
];

/// Claims `dev` the way mount and device-mapper do: an exclusive open.
fn claim(dev: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_EXCL)
        .open(dev)
        .expect("exclusive open of the loop device")
}

#[test]
fn loop_device_held_exclusively_is_not_modified() {
    let dir = scratch();
    let len = 16 * MIB;
    let backing = dir.path().join("backing.img");
    let digest = write_pattern(&backing, len, 83);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev held exclusively: {reason}");
            return;
        }
    };
    let d = &dev.0;
    let key = key_file(dir.path(), "key", 23);
    let hdr = dir.path().join("dev.hdr");
    let hdrs = dir.path().join("headers");

    let held = claim(d);
    // With an explicit header, with the default one, and with a reserved tail.
    volcrypt_in(
        &hdrs,
        &[&"encrypt", d, &"--header", &hdr, &"--key-file", &key],
    )
    .fails(1, IN_USE);
    volcrypt_in(&hdrs, &[&"encrypt", d, &"--key-file", &key]).fails(1, IN_USE);
    volcrypt_in(
        &hdrs,
        &[
            &"encrypt",
            d,
            &"--reserved-tail",
            &"8M",
            &"--key-file",
            &key,
        ],
    )
    .fails(1, IN_USE);
    assert_eq!(sha_file(d), digest, "a refused encrypt modified the device");
    assert!(!hdr.exists(), "a refused encrypt created its header");
    let left = std::fs::read_dir(&hdrs).map_or(0, |d| d.count());
    assert_eq!(left, 0, "a refused encrypt left a default header");
    drop(held);

    volcrypt_in(
        &hdrs,
        &[&"encrypt", d, &"--header", &hdr, &"--key-file", &key, &"-q"],
    )
    .ok();
    let sealed = sha_file(d);
    let sealed_hdr = sha_file(&hdr);
    let held = claim(d);
    // Reading needs no exclusive open.
    volcrypt_in(
        &hdrs,
        &[&"verify", d, &"--header", &hdr, &"--key-file", &key],
    )
    .ok();
    for op in ["decrypt", "rekey"] {
        volcrypt_in(&hdrs, &[&op, d, &"--header", &hdr, &"--key-file", &key]).fails(1, IN_USE);
        assert_eq!(sha_file(d), sealed, "a refused {op} modified the device");
        assert_eq!(
            sha_file(&hdr),
            sealed_hdr,
            "a refused {op} modified the header"
        );
    }
    drop(held);
    volcrypt_in(
        &hdrs,
        &[&"decrypt", d, &"--header", &hdr, &"--key-file", &key, &"-q"],
    )
    .ok();
    assert_eq!(sha_file(d), digest);
}

/// Unmounts when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Runs a command, or says why it failed.
fn run(cmd: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .map_err(|e| format!("{cmd} is unavailable: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[test]
fn mounted_loop_device_is_refused_naming_the_mount_point() {
    let dir = scratch();
    let backing = dir.path().join("backing.img");
    write_pattern(&backing, 32 * MIB, 84);
    let dev = match attach(&backing) {
        Ok(d) => d,
        Err(reason) => {
            eprintln!("SKIP blockdev mounted: {reason}");
            return;
        }
    };
    let d = &dev.0;
    let mnt = dir.path().join("mnt point");
    std::fs::create_dir(&mnt).unwrap();
    if let Err(reason) = run("mkfs.ext4", &[&"-q", &"-F", d]) {
        eprintln!("SKIP blockdev mounted: {reason}");
        return;
    }
    if let Err(reason) = run("mount", &[d, &mnt]) {
        eprintln!("SKIP blockdev mounted: {reason}");
        return;
    }
    let mounted = Mount(mnt.clone());
    std::fs::write(mnt.join("file"), b"still here").unwrap();
    let key = key_file(dir.path(), "key", 24);
    let hdr = dir.path().join("dev.hdr");
    let hdrs = dir.path().join("headers");
    let msg = [
        format!("{} is mounted at {}", d.display(), mnt.display()),
        "refusing to modify a mounted device; unmount it first".to_owned(),
    ];
    let needles: Vec<&str> = msg.iter().map(String::as_str).collect();
    volcrypt_in(
        &hdrs,
        &[&"encrypt", d, &"--header", &hdr, &"--key-file", &key],
    )
    .fails(1, &needles);
    volcrypt_in(
        &hdrs,
        &[
            &"encrypt",
            d,
            &"--reserved-tail",
            &"8M",
            &"--key-file",
            &key,
        ],
    )
    .fails(1, &needles);
    assert!(!hdr.exists(), "a refused encrypt created its header");
    assert_eq!(std::fs::read(mnt.join("file")).unwrap(), b"still here");
    drop(mounted);
    // Unmounted, the file system is intact: the device was never written.
    match run("fsck.ext4", &[&"-n", &"-f", d]) {
        Ok(()) => {}
        Err(e) if e.contains("unavailable") => eprintln!("blockdev mounted: no fsck check: {e}"),
        Err(e) => panic!("the file system is damaged after the refusal: {e}"),
    }
}
