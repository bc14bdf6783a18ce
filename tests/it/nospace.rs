//! A full file system (ENOSPC) when an in-place encrypt extends the file for its metadata:
//! reported before anything is written, the file left exactly as it was. Runs on a small
//! tmpfs mounted for the test (root); prints `SKIP nospace: <reason>` where mounting is not
//! allowed.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = scratch();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (not root, or no mount permission in this container): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallFs { dir })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn free_bytes(p: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(p)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}

#[test]
fn full_file_system_is_reported_before_anything_is_written() {
    let fs = match SmallFs::mount("6m") {
        Ok(f) => f,
        Err(why) => {
            println!("SKIP nospace: {why}");
            return;
        }
    };
    let key = key_file(fs.dir.path(), "k", 1);
    let vol = fs.path("vol");
    // 5 MiB of data leaves about 1 MiB free, less than the metadata (two journal slots of
    // a whole 5 MiB window, the tag table and the headers) needs.
    let sha = write_pattern(&vol, 5 << 20, 7);
    let len = file_len(&vol);
    assert!(free_bytes(fs.dir.path()) < 2 << 20);
    volcrypt(&[&"encrypt", &vol, &"--key-file", &key])
        .fails(1, &["cannot reserve", "No space left on device", "vol"]);
    assert_eq!(
        file_len(&vol),
        len,
        "the file was not restored to its length"
    );
    assert_eq!(sha_file(&vol), sha);
    // With room made, the same command works.
    let big = SmallFs::mount("32m").unwrap();
    let vol2 = big.path("vol");
    std::fs::copy(&vol, &vol2).unwrap();
    volcrypt(&[&"encrypt", &vol2, &"--key-file", &key]).ok();
    volcrypt(&[&"decrypt", &vol2, &"--key-file", &key]).ok();
    assert_eq!(sha_file(&vol2), sha);
}
