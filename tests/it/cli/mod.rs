//! The `volcrypt` binary: shared fixtures for the CLI tests. `roundtrip` covers round trips,
//! interoperability with the library and `info --json`; `errors` covers bad input, where every
//! case must fail with the right exit code (1 for a failed operation, 2 for a usage error), a
//! message on stderr that names the problem, and the volume unmodified.

mod errors;
mod roundtrip;

use std::path::{Path, PathBuf};

use crate::util::*;

pub(super) const CHUNK: u64 = 4 * KIB;

/// A scratch directory with a key file in it.
pub(super) struct Env {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Env {
    pub(super) fn new() -> Env {
        let dir = scratch();
        let key = key_file(dir.path(), "key", 11);
        Env { dir, key }
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A plain file of `len` bytes of the stream of `seed`; returns its path and hash.
    pub(super) fn plain(&self, name: &str, len: u64, seed: u64) -> (PathBuf, [u8; 32]) {
        let p = self.path(name);
        let h = write_pattern(&p, len, seed);
        (p, h)
    }

    /// A plain file encrypted in place by the CLI (attached, 4 KiB chunks).
    pub(super) fn encrypted(&self, name: &str, len: u64, seed: u64) -> (PathBuf, [u8; 32]) {
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

pub(super) fn info_json(vol: &Path, header: Option<&Path>) -> serde_json::Value {
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
