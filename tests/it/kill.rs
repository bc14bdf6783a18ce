//! Real SIGKILLs: the `volcrypt` binary is killed at random points of an in-place encrypt,
//! rekey and decrypt of a 256 MiB file (key file, default resilience: the journal), at least
//! 20 times per operation, and continued each time with `volcrypt resume` (once with the
//! original command instead). After every kill the volume must open (`info`); after each
//! operation `verify` must pass, and after the final decrypt the file must be bit-identical
//! to the original. A second test kills encrypts 0 to 9 ms after their start, where the file
//! grows and the first headers are written.
//!
//! Kill delays come from a seeded PRNG, spread over the init, the middle of windows and the
//! gaps between them: the seed is printed at the start and `VOLCRYPT_KILL_SEED=N` replays
//! it (the delays; where a kill lands still depends on the machine's speed). A run is also
//! killed as soon as the header shows it past its share of the work, so every operation
//! gets its kills however fast the binary is. The process helpers here are shared with
//! `blockdev`.

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use volcrypt::format::{header_offsets, Header, Operation, Slot, HEADER_LEN, WINDOW_BYTES};

use crate::util::*;

/// The volume size: 8 journal windows of 32 MiB at the default 64 KiB chunks.
const LEN: u64 = 256 * MIB;
/// SIGKILLs per operation, at least.
const MIN_KILLS: u32 = 20;
/// The longest kill delay, in milliseconds.
const DELAY_MAX_MS: u64 = 400;
/// Delays of this many milliseconds or less land in the start-up: open, key unwrap,
/// recovery of the journal.
const INIT_MS: u64 = 15;

/// SplitMix64: a small seeded PRNG (no extra dependency), enough to spread the kill times.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the modulo bias does not matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The seed from `VOLCRYPT_KILL_SEED`, or a fresh one; printed either way.
fn kill_seed() -> u64 {
    let seed = match std::env::var("VOLCRYPT_KILL_SEED") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|e| panic!("VOLCRYPT_KILL_SEED={s:?} is not a u64: {e}")),
        Err(_) => {
            let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            (t.as_nanos() as u64) ^ (u64::from(std::process::id()) << 32)
        }
    };
    eprintln!("kill test seed: {seed} (replay with VOLCRYPT_KILL_SEED={seed})");
    seed
}

/// Builds an argument list from strings and paths.
pub(crate) fn args(parts: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    parts.iter().map(|p| p.as_ref().to_owned()).collect()
}

/// Starts `volcrypt -q ARGS`: stdout discarded, stderr kept for the failure message.
fn spawn(args: &[OsString]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_volcrypt"))
        .arg("-q")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting volcrypt")
}

/// SIGKILLs `child` (unless it has exited) and reaps it. Returns true if the kill is what
/// ended it; a run that ended by itself must have succeeded.
fn kill(mut child: Child, what: &str) -> bool {
    // Child::kill sends SIGKILL. It can only fail if the child was already reaped, and then
    // the exit status below tells what happened.
    let _ = child.kill();
    let out = child.wait_with_output().expect("reaping volcrypt");
    if out.status.signal() == Some(libc::SIGKILL) {
        return true;
    }
    assert!(
        out.status.success(),
        "{what} failed on its own ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

/// Runs `volcrypt -q ARGS` to the end and asserts that it succeeds.
fn run_ok(args: &[OsString], what: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
        .arg("-q")
        .args(args)
        .output()
        .expect("running volcrypt");
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `volcrypt info --json` of a volume, or its stderr if it does not open.
pub(crate) fn try_info(vol: &Path, header: Option<&Path>) -> Result<serde_json::Value, String> {
    let mut a = args(&[&"info", &vol, &"--json"]);
    if let Some(h) = header {
        a.extend(args(&[&"--header", &h]));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_volcrypt"))
        .args(&a)
        .output()
        .expect("running volcrypt info");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("info --json is not JSON: {e}"))
}

/// The newest header on a metadata file (a detached header, or an attached volume that is a
/// regular file), read without a lock (`info` is refused while an operation holds the
/// volume) and without a key: the operation, its progress and the number of chunks. None
/// while neither slot parses (e.g. before the first header is written).
fn peek(meta: &Path) -> Option<(Operation, u64, u64)> {
    let f = File::open(meta).ok()?;
    let size = f.metadata().ok()?.len();
    let (a, b) = header_offsets(size)?;
    [(Slot::A, a), (Slot::B, b)]
        .into_iter()
        .filter_map(|(slot, off)| {
            let mut buf = vec![0u8; HEADER_LEN];
            f.read_exact_at(&mut buf, off).ok()?;
            // A slot being rewritten fails its CRC for a moment: the other one counts then.
            let h = Header::decode(&buf, slot).ok()?.peek().clone();
            (h.layout.device_size == size).then_some(h)
        })
        .max_by_key(|h| h.seqno)
        .map(|h| (h.operation, h.progress, h.geometry.n_chunks()))
}

/// How a watched run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// SIGKILLed when its delay ran out.
    Timer,
    /// SIGKILLed once its header showed this many chunks done (at least the limit).
    Limit(u64),
    /// It finished, successfully, before either.
    Exited,
}

/// Runs `volcrypt -q ARGS`, an in-place `op` whose metadata is in `meta`, and SIGKILLs it
/// after `delay`, or `extra` after its header (read without a lock) shows at least `limit`
/// chunks done, whichever comes first.
pub(crate) fn run_and_kill(
    args: &[OsString],
    op: Operation,
    meta: &Path,
    delay: Duration,
    limit: u64,
    extra: Duration,
) -> End {
    let t0 = Instant::now();
    let mut child = spawn(args);
    let mut reached = None;
    while child.try_wait().expect("polling volcrypt").is_none() && t0.elapsed() < delay {
        match peek(meta) {
            Some((o, done, _)) if o == op && done >= limit => {
                reached = Some(done);
                std::thread::sleep(extra);
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    match (kill(child, op.name()), reached) {
        (false, _) => End::Exited,
        (true, Some(done)) => End::Limit(done),
        (true, None) => End::Timer,
    }
}

/// Where an operation stands, from the volume itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    /// Nothing durable yet: start it with the original command.
    NotStarted,
    /// Interrupted with this many chunks done.
    Running(u64),
    Done,
}

struct Vol {
    len: u64,
    path: PathBuf,
    key: PathBuf,
    sha: [u8; 32],
}

impl Vol {
    /// The plain file must be exactly the original: no header, same length, same bytes.
    fn assert_original(&self, ctx: &str) {
        assert_eq!(file_len(&self.path), self.len, "{ctx}: the length changed");
        assert!(sha_file(&self.path) == self.sha, "{ctx}: the bytes changed");
    }

    fn status(&self, op: Operation) -> Status {
        let j = match try_info(&self.path, None) {
            Ok(j) => j,
            // No header: only before an encrypt made its first header durable, or after a
            // decrypt removed the metadata. Either way the file is the original plaintext.
            // An encrypt killed after growing the file but before its first header: the
            // file ends with the create intent, and the data before it is untouched (the
            // next encrypt restores the length).
            Err(e)
                if op == Operation::Encrypt
                    && e.contains("stopped before writing its first header") =>
            {
                assert!(
                    file_len(&self.path) > self.len,
                    "{op}: intent without growth: {e}"
                );
                assert!(
                    sha_range(&self.path, 0, self.len) == self.sha,
                    "{op}: the data changed before the first header"
                );
                return Status::NotStarted;
            }
            Err(e) if op != Operation::Rekey => {
                let e = e.trim();
                self.assert_original(&format!("{op}: after a kill it does not open ({e}) and"));
                return if op == Operation::Encrypt {
                    Status::NotStarted
                } else {
                    Status::Done
                };
            }
            Err(e) => panic!("rekey: the volume does not open after a kill: {e}"),
        };
        let idle_encrypted = j["operation"] == "idle" && j["state"] == "encrypted";
        match (op, idle_encrypted, j["cur_ver"].as_u64()) {
            (Operation::Encrypt, true, _) | (Operation::Rekey, true, Some(2)) => Status::Done,
            (Operation::Rekey | Operation::Decrypt, true, _) => Status::NotStarted,
            _ => {
                assert_eq!(
                    j["resilience"], "journal",
                    "{op}: an interrupted operation without the journal: {j}"
                );
                Status::Running(j["progress_chunks"].as_u64().expect("progress_chunks"))
            }
        }
    }

    /// The command that starts the operation (default resilience: the journal).
    fn original(&self, op: Operation) -> Vec<OsString> {
        args(&[&op.name(), &self.path, &"--key-file", &self.key])
    }

    fn resume(&self) -> Vec<OsString> {
        args(&[&"resume", &self.path, &"--key-file", &self.key])
    }
}

/// Kills `op` at least [`MIN_KILLS`] times, then lets it finish. Each run is killed after a
/// random delay (one in four within [`INIT_MS`], the rest up to [`DELAY_MAX_MS`]), or
/// right after the checkpoint that takes it past its share of the work: after k kills at
/// most k / (MIN_KILLS + 1) of it plus one window, and never the last window, so however
/// fast the binary is, the operation cannot finish before its kills are done.
fn kill_phase(op: Operation, v: &Vol, rng: &mut Rng) {
    let t0 = Instant::now();
    let n = LEN / (64 * KIB);
    let window = WINDOW_BYTES / (64 * KIB);
    let (mut kills, mut by_original, mut in_init, mut at_limit) = (0u32, 0u32, 0u32, 0u32);
    let mut trace = Vec::new();
    let mut st = v.status(op);
    assert_eq!(st, Status::NotStarted, "{op}: already started");
    while kills < MIN_KILLS {
        // The original command starts the operation, and continues it once (after half the
        // kills); every other continuation is `resume`.
        let original = match st {
            Status::Running(_) if by_original == 0 && kills >= MIN_KILLS / 2 => {
                by_original += 1;
                true
            }
            Status::Running(_) => false,
            Status::NotStarted => true,
            Status::Done => panic!("{op} finished after only {kills} kills"),
        };
        let share = n * u64::from(kills + 1) / u64::from(MIN_KILLS + 1);
        let limit = (share + window).min(n - window);
        let delay = if rng.below(4) == 0 {
            rng.below(INIT_MS + 1)
        } else {
            rng.below(DELAY_MAX_MS + 1)
        };
        let a = if original { v.original(op) } else { v.resume() };
        let ms = Duration::from_millis(delay);
        let how = match run_and_kill(&a, op, &v.path, ms, limit, Duration::ZERO) {
            End::Timer if delay <= INIT_MS => "init",
            End::Timer => "timer",
            End::Limit(_) => "limit",
            End::Exited => "exited",
        };
        kills += u32::from(how != "exited");
        in_init += u32::from(how == "init");
        at_limit += u32::from(how == "limit");
        st = v.status(op);
        let done = match st {
            Status::NotStarted => "not started".to_string(),
            Status::Running(p) => format!("{}% done", p * 100 / n),
            Status::Done => "done".to_string(),
        };
        let cmd = if original { op.name() } else { "resume" };
        eprintln!(
            "{op} run {}: {cmd}, delay {delay} ms, {how}; {done}",
            trace.len() + 1
        );
        trace.push(how);
    }
    eprintln!(
        "{op}: {kills} kills in {} runs ({in_init} at most {INIT_MS} ms after the start, \
         {at_limit} right after the checkpoint past the run's share, the rest by the timer), \
         {by_original} continuation(s) by the original command, {:.1} s",
        trace.len(),
        t0.elapsed().as_secs_f64(),
    );
    assert_eq!(
        by_original, 1,
        "{op}: the original command never continued it"
    );
    if st != Status::Done {
        run_ok(&v.resume(), &format!("{op}: the final resume"));
    }
    assert_eq!(v.status(op), Status::Done, "{op}: not finished");
}

#[test]
fn sigkill_encrypt_rekey_decrypt_then_resume() {
    let mut rng = Rng(kill_seed());
    let dir = scratch();
    let path = dir.path().join("vol.img");
    let sha = write_pattern(&path, LEN, 91);
    let key = key_file(dir.path(), "key", 21);
    let v = Vol {
        len: LEN,
        path,
        key,
        sha,
    };

    kill_phase(Operation::Encrypt, &v, &mut rng);
    volcrypt(&[&"verify", &v.path, &"--key-file", &v.key]).ok();

    kill_phase(Operation::Rekey, &v, &mut rng);
    volcrypt(&[&"verify", &v.path, &"--key-file", &v.key]).ok();
    let j = try_info(&v.path, None).unwrap();
    assert_eq!(j["cur_ver"], 2, "rekey did not move to key version 2: {j}");

    kill_phase(Operation::Decrypt, &v, &mut rng);
    v.assert_original("after the final decrypt");
}

/// SIGKILL in the first milliseconds of an in-place encrypt, while the file grows and the
/// first headers are written: every delay from 0 to 9 ms, twice. Each time the file must be
/// either the untouched plaintext or a volume that opens, which `resume` then finishes and
/// a decrypt turns back into the original.
#[test]
fn sigkill_in_encrypt_init() {
    let dir = scratch();
    let len = 32 * MIB;
    let path = dir.path().join("vol.img");
    let sha = write_pattern(&path, len, 92);
    let key = key_file(dir.path(), "key", 22);
    let v = Vol {
        len,
        path,
        key,
        sha,
    };
    let op = Operation::Encrypt;
    let mut volumes = 0;
    for delay in (0..10).chain(0..10) {
        let ms = Duration::from_millis(delay);
        let end = run_and_kill(&v.original(op), op, &v.path, ms, u64::MAX, Duration::ZERO);
        // Asserts the untouched plaintext when the file has no header.
        let st = v.status(op);
        eprintln!("encrypt killed after {delay} ms ({end:?}): {st:?}");
        if st == Status::NotStarted {
            continue;
        }
        volumes += 1;
        if st != Status::Done {
            run_ok(&v.resume(), "resume after a kill in the init");
        }
        volcrypt(&[&"verify", &v.path, &"--key-file", &v.key]).ok();
        run_ok(&v.original(Operation::Decrypt), "decrypt");
        v.assert_original(&format!("decrypt after a kill {delay} ms into encrypt"));
    }
    eprintln!("{volumes} of 20 kills left a volume, the rest the untouched plaintext");
}
