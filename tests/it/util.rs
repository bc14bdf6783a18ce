//! Shared helpers for the integration tests: scratch directories, deterministic test data,
//! key files, layout arithmetic from the library, byte surgery on volumes, and running the
//! `volcrypt` binary.
//!
//! Test data is a keyed pseudo-random stream that can be regenerated at any offset, so large
//! files never need a pristine copy on disk: a test compares against the generator instead.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use volcrypt::crypto::{chunk_nonce, Backend, ChunkKey, Sha256};
use volcrypt::engine::{RunOptions, VolumeRef};
use volcrypt::format::{Geometry, Layout, LayoutKind};
use volcrypt::io::EngineKind;
use volcrypt::keys::FileKeyProvider;

pub const KIB: u64 = 1 << 10;
pub const MIB: u64 = 1 << 20;

/// The two file I/O engines.
pub const ENGINES: [EngineKind; 2] = [EngineKind::Mmap, EngineKind::Pread];

/// True when io_uring works here; otherwise prints why `test` is skipped.
pub fn uring_usable(test: &str) -> bool {
    match volcrypt::io::uring_probe() {
        Ok(()) => true,
        Err(why) => {
            eprintln!("SKIP {test}: {why}");
            false
        }
    }
}

/// Every file engine this machine can run: mmap, pread, and uring where io_uring works.
pub fn engines() -> Vec<EngineKind> {
    let mut v = ENGINES.to_vec();
    if uring_usable("the uring engine in engine matrices") {
        v.push(EngineKind::Uring);
    }
    v
}

/// A fresh scratch directory, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("creating a scratch directory")
}

/// Run options for one engine and backend, with two cipher threads (the CI machine has two
/// cores, and two threads still exercise the parallel path).
pub fn opts(io: EngineKind, backend: Backend) -> RunOptions {
    RunOptions {
        threads: 2,
        io,
        backend,
        ..RunOptions::default()
    }
}

/// Writes a key file of 64 hex digits derived from `seed` and returns its path.
pub fn key_file(dir: &Path, name: &str, seed: u8) -> PathBuf {
    let path = dir.join(name);
    let hex: String = (0..32u8)
        .map(|i| format!("{:02x}", i.wrapping_mul(37) ^ seed))
        .collect();
    std::fs::write(&path, hex + "\n").expect("writing a key file");
    path
}

/// Loads a key file the way the CLI does.
pub fn provider(path: &Path) -> FileKeyProvider {
    FileKeyProvider::load(path).expect("loading a key file")
}

/// Bytes per block of the test stream.
const BLOCK: u64 = 64 * KIB;

/// The test stream of `seed`: the AES-256-GCM keystream of a key derived from `seed`, one
/// nonce per 64 KiB block, so any range can be regenerated quickly even in a debug build.
/// Every block differs, so a chunk moved to another place is never equal to the original.
struct Stream {
    key: ChunkKey,
    block: Vec<u8>,
    /// Index of the block held in `block`.
    held: Option<u64>,
}

impl Stream {
    fn new(seed: u64) -> Self {
        let mut k = [0x5au8; 32];
        k[..8].copy_from_slice(&seed.to_le_bytes());
        Stream {
            key: ChunkKey::new(Backend::Ring, &k).expect("AES key"),
            block: vec![0u8; BLOCK as usize],
            held: None,
        }
    }

    fn fill(&mut self, off: u64, buf: &mut [u8]) {
        let mut pos = off;
        let mut i = 0;
        while i < buf.len() {
            let b = pos / BLOCK;
            if self.held != Some(b) {
                self.block.fill(0);
                self.key
                    .seal(chunk_nonce(b), &[], &mut self.block)
                    .expect("keystream");
                self.held = Some(b);
            }
            let skip = usize::try_from(pos % BLOCK).expect("small");
            let n = (BLOCK as usize - skip).min(buf.len() - i);
            buf[i..i + n].copy_from_slice(&self.block[skip..skip + n]);
            i += n;
            pos += n as u64;
        }
    }
}

/// Writes `len` bytes of the test stream of `seed` to a new file at `path` and returns
/// their SHA-256.
pub fn write_pattern(path: &Path, len: u64, seed: u64) -> [u8; 32] {
    let mut out = BufWriter::new(File::create(path).expect("creating a test file"));
    let mut h = Sha256::default();
    let mut stream = Stream::new(seed);
    let mut buf = vec![0u8; MIB as usize];
    let mut off = 0;
    while off < len {
        let n = usize::try_from((len - off).min(MIB)).expect("small");
        stream.fill(off, &mut buf[..n]);
        out.write_all(&buf[..n]).expect("writing a test file");
        h.update(&buf[..n]);
        off += n as u64;
    }
    out.flush().expect("flushing a test file");
    h.finish()
}

/// SHA-256 of the first `len` bytes of the test stream of `seed`.
pub fn pattern_sha(len: u64, seed: u64) -> [u8; 32] {
    let mut h = Sha256::default();
    let mut stream = Stream::new(seed);
    let mut buf = vec![0u8; MIB as usize];
    let mut off = 0;
    while off < len {
        let n = usize::try_from((len - off).min(MIB)).expect("small");
        stream.fill(off, &mut buf[..n]);
        h.update(&buf[..n]);
        off += n as u64;
    }
    h.finish()
}

/// SHA-256 of a whole file or block device.
pub fn sha_file(path: &Path) -> [u8; 32] {
    let mut f = File::open(path).unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
    let mut h = Sha256::default();
    let mut buf = vec![0u8; MIB as usize];
    loop {
        let n = f.read(&mut buf).expect("reading for a hash");
        if n == 0 {
            return h.finish();
        }
        h.update(&buf[..n]);
    }
}

/// SHA-256 of bytes `off..off+len` of a file.
pub fn sha_range(path: &Path, off: u64, len: u64) -> [u8; 32] {
    let f = File::open(path).expect("opening for a hash");
    let mut h = Sha256::default();
    let mut buf = vec![0u8; MIB as usize];
    let mut done = 0;
    while done < len {
        let n = usize::try_from((len - done).min(MIB)).expect("small");
        f.read_exact_at(&mut buf[..n], off + done)
            .expect("reading for a hash");
        h.update(&buf[..n]);
        done += n as u64;
    }
    h.finish()
}

/// The length of a file.
pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .len()
}

/// Reads `len` bytes at `off`.
pub fn read_at(path: &Path, off: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    File::open(path)
        .expect("opening for a read")
        .read_exact_at(&mut buf, off)
        .expect("reading bytes");
    buf
}

/// Writes `data` at `off` (without changing the file length if inside it).
pub fn write_at(path: &Path, off: u64, data: &[u8]) {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .expect("opening for a write");
    f.write_all_at(data, off).expect("writing bytes");
    f.sync_all().expect("syncing");
}

/// XORs `mask` into the byte at `off`. Applying it twice restores the byte.
pub fn flip(path: &Path, off: u64, mask: u8) {
    let mut b = read_at(path, off, 1);
    b[0] ^= mask;
    write_at(path, off, &b);
}

/// Cuts `n` bytes off the end of a file.
pub fn chop(path: &Path, n: u64) {
    let len = file_len(path);
    OpenOptions::new()
        .write(true)
        .open(path)
        .expect("opening for a truncate")
        .set_len(len - n)
        .expect("truncating");
}

/// The geometry and layout the library computes for `len` bytes in chunks of `chunk`.
pub fn layout(len: u64, chunk: u64, kind: LayoutKind) -> (Geometry, Layout) {
    let g = Geometry::new(len, chunk).expect("valid geometry");
    let l = Layout::compute(&g, kind).expect("valid layout");
    (g, l)
}

/// A volume with a detached header file.
pub fn detached(path: &Path, header: &Path) -> VolumeRef {
    VolumeRef {
        path: path.to_owned(),
        header: Some(header.to_owned()),
    }
}

/// Asserts that every chunk of at least 16 bytes differs from its plaintext (the stream of
/// `seed`): nothing was left unencrypted. (A 1-byte chunk equals its plaintext with
/// probability 1/256, so those are left to `verify` and the round trip.)
pub fn assert_sealed(path: &Path, len: u64, chunk: u64, seed: u64, ctx: &str) {
    let f = File::open(path).expect("opening a volume");
    let cs = usize::try_from(chunk).expect("small");
    let mut ct = vec![0u8; cs];
    let mut pt = vec![0u8; cs];
    let mut stream = Stream::new(seed);
    let mut off = 0;
    while off < len {
        let n = usize::try_from((len - off).min(chunk)).expect("small");
        f.read_exact_at(&mut ct[..n], off).expect("reading a chunk");
        stream.fill(off, &mut pt[..n]);
        if n >= 16 {
            assert_ne!(
                ct[..n],
                pt[..n],
                "{ctx}: chunk at offset {off} is still plaintext"
            );
        }
        off += chunk;
    }
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// Asserts exit code 0.
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success; stderr: {}", self.stderr);
        self
    }

    /// Asserts exit code `code` and that stderr names every one of `needles`.
    pub fn fails(&self, code: i32, needles: &[&str]) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}; stderr: {}",
            self.stderr
        );
        for n in needles {
            assert!(
                self.stderr.contains(n),
                "stderr does not mention {n:?}: {}",
                self.stderr
            );
        }
        self
    }
}

/// Runs `volcrypt` with `args` (strings and paths alike: `&[&"verify", &path]`).
pub fn volcrypt(args: &[&dyn AsRef<OsStr>]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .expect("running volcrypt");
    Run {
        code: out.status.code().expect("volcrypt was killed by a signal"),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A `Write` sink that keeps only the length and SHA-256 of what `cat` writes.
#[derive(Default)]
pub struct ShaWriter {
    h: Sha256,
    len: u64,
}

impl ShaWriter {
    /// Bytes written and their SHA-256.
    pub fn finish(self) -> (u64, [u8; 32]) {
        (self.len, self.h.finish())
    }
}

impl Write for ShaWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.h.update(buf);
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
