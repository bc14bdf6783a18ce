//! What `volcrypt bench run` runs: a [`Spec`] from a TOML job file or from flags, and its
//! expansion into sweep points.
//!
//! A job file has an optional `[global]` table (run settings and defaults for every job) and
//! one or more `[[job]]` tables; with no `[[job]]`, `[global]` is the one job. Flags become a
//! `[global]` table (given with `--job`, they replace the file's `[global]` values), so both
//! paths share one parser and the recorded spec text is always TOML. Every list-valued key
//! sweeps: a job runs `workload x size x threads x chunk_size x io x crypto x resilience`,
//! over the keys that apply to each workload. An unknown key, or a key set on a job that
//! applies to none of its workloads, is an error naming it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::{Table, Value};

use super::error::BenchError;
use super::model::Case;
use crate::crypto::Backend;
use crate::format::Resilience;
use crate::io::EngineKind;

#[path = "spec_value.rs"]
mod value;
pub use parse::LIST_KEYS;
pub use value::{parse_duration_text, parse_size_text};

/// Bytes per repetition when `size` is not given.
pub const DEFAULT_SIZE: u64 = 256 << 20;
/// Largest buffer the `cipher` workload seals over (an engine window).
pub const CIPHER_BUFFER: u64 = 32 << 20;

#[path = "spec_expand.rs"]
mod expand;
#[path = "spec_parse.rs"]
mod parse;

/// A workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workload {
    /// Memory only: seal a reused buffer chunk by chunk (like `cryptsetup benchmark`).
    Cipher,
    /// In-place encrypt of a scratch volume.
    Encrypt,
    /// In-place rekey (key version v to v+1, full pass).
    Rekey,
    /// Header-only rewrap of the data key (KMS ReEncrypt).
    Rewrap,
    /// In-place decrypt.
    Decrypt,
    /// Authenticate every chunk.
    Verify,
    /// KMS GenerateDataKey / Decrypt under concurrency.
    Kms,
}

impl Workload {
    /// Every workload.
    pub const ALL: [Workload; 7] = [
        Workload::Cipher,
        Workload::Encrypt,
        Workload::Rekey,
        Workload::Rewrap,
        Workload::Decrypt,
        Workload::Verify,
        Workload::Kms,
    ];

    /// The name in specs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Cipher => "cipher",
            Workload::Encrypt => "encrypt",
            Workload::Rekey => "rekey",
            Workload::Rewrap => "rewrap",
            Workload::Decrypt => "decrypt",
            Workload::Verify => "verify",
            Workload::Kms => "kms",
        }
    }

    /// The job keys that mean something for this workload.
    fn keys(self) -> &'static [&'static str] {
        const DATA: &[&str] = &[
            "size",
            "dir",
            "threads",
            "chunk_size",
            "io",
            "crypto",
            "resilience",
            "key",
        ];
        match self {
            Workload::Cipher => &["size", "threads", "chunk_size", "crypto", "buffer"],
            Workload::Encrypt | Workload::Rekey | Workload::Decrypt => DATA,
            Workload::Verify => &[
                "size",
                "dir",
                "threads",
                "chunk_size",
                "io",
                "crypto",
                "key",
            ],
            Workload::Rewrap => &["size", "dir", "key", "count"],
            Workload::Kms => &[
                "threads",
                "op",
                "duration",
                "kms_warmup",
                "endpoint",
                "credentials",
                "region",
                "key_id",
                "client_threads",
            ],
        }
    }
}

impl std::str::FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == s)
            .ok_or_else(|| {
                format!("unknown workload '{s}' (cipher, encrypt, rekey, rewrap, decrypt, verify or kms)")
            })
    }
}

/// Who seals: an engine backend, or (`cipher` only) ring called directly with no timing, the
/// baseline the harness overhead is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crypto {
    /// `ring` or `aws-lc` through [`crate::crypto::ChunkKey`].
    Backend(Backend),
    /// `raw`: `ring::aead` directly, no per-chunk timing.
    Raw,
}

impl Crypto {
    /// The name in specs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Crypto::Backend(b) => b.name(),
            Crypto::Raw => "raw",
        }
    }
}

/// Where scratch volumes get their data keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// An in-memory key-file key.
    File,
    /// An in-process KMS server on 127.0.0.1 (KMS calls are timed as `kms_call`).
    Kms,
}

/// Settings of the `kms` workload.
#[derive(Debug, Clone, PartialEq)]
pub struct KmsSettings {
    /// What the connections send.
    pub op: super::kms::Workload,
    /// Measured time of one repetition.
    pub duration: Duration,
    /// Unmeasured sending before each repetition.
    pub warmup: Duration,
    /// An external endpoint (`http://HOST:PORT`); `None`: the in-process server.
    pub endpoint: Option<String>,
    /// Credential file for `endpoint` (JSON with access_key_id and secret_access_key).
    pub credentials: Option<PathBuf>,
    /// Signing region.
    pub region: String,
    /// Key to use; `None`: a fresh key per repetition.
    pub key_id: Option<String>,
    /// Worker threads of the load generator.
    pub client_threads: usize,
}

/// One job: its workloads and sweep values.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's name (empty for the implicit job of a spec without `[[job]]`).
    pub name: String,
    /// Workloads (swept).
    pub workloads: Vec<Workload>,
    /// Volume sizes (for `cipher`: bytes sealed per repetition).
    pub sizes: Vec<u64>,
    /// Cipher threads (for `kms`: connections).
    pub threads: Vec<usize>,
    /// Chunk sizes.
    pub chunk_sizes: Vec<u64>,
    /// I/O engines.
    pub io: Vec<EngineKind>,
    /// Crypto backends.
    pub crypto: Vec<Crypto>,
    /// Resilience modes.
    pub resilience: Vec<Resilience>,
    /// Where scratch volumes go.
    pub dir: PathBuf,
    /// Key source; `None`: key files, except KMS for `rewrap`.
    pub key: Option<KeySource>,
    /// `cipher`: the buffer size (default: min(size, 32 MiB)).
    pub buffer: Option<u64>,
    /// `rewrap`: rewraps per repetition.
    pub count: u32,
    /// `kms` settings.
    pub kms: KmsSettings,
}

/// A whole spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Run name (`name`, else the job file's stem, else the workloads).
    pub name: String,
    /// Results root: the run writes `<out>/<run-id>/`.
    pub out: PathBuf,
    /// Unmeasured repetitions per case.
    pub warmup: u32,
    /// Measured repetitions per case.
    pub reps: u32,
    /// The jobs, in order.
    pub jobs: Vec<Job>,
    /// The spec as TOML (the job file's text, plus any command-line overrides).
    pub text: String,
}

/// One point of the sweep, with typed settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The report's view of it.
    pub case: Case,
    /// Index into [`Spec::jobs`].
    pub job: usize,
    /// The workload.
    pub workload: Workload,
    /// Size in bytes.
    pub size: u64,
    /// Threads (connections for `kms`).
    pub threads: usize,
    /// Chunk size (0 where it does not apply).
    pub chunk_size: u64,
    /// I/O engine (`None` where it does not apply).
    pub io: Option<EngineKind>,
    /// Crypto (`None` where it does not apply).
    pub crypto: Option<Crypto>,
    /// Resilience (`none` where it does not apply).
    pub resilience: Resilience,
}

/// Whether workload `w` can run on engine `e` (`null` keeps nothing: encrypt only).
fn io_runs(w: Workload, e: EngineKind) -> bool {
    e != EngineKind::Null || w == Workload::Encrypt
}

/// Whether workload `w` can use crypto `c` (`raw` is the cipher workload's baseline).
fn crypto_runs(w: Workload, c: Crypto) -> bool {
    c != Crypto::Raw || w == Workload::Cipher
}

fn bad(msg: impl Into<String>) -> BenchError {
    BenchError::Spec(msg.into())
}

impl Spec {
    /// Parses a job file's text; `overrides` (TOML key, command-line value) replace its
    /// `[global]` values. `stem` names the run when the file does not.
    pub fn from_toml(
        text: &str,
        stem: &str,
        overrides: &[(&str, String)],
    ) -> Result<Spec, BenchError> {
        let mut root: Table = text.parse().map_err(|e: toml::de::Error| {
            bad(format!("invalid TOML: {}", e.message().trim_end()))
        })?;
        let mut recorded = text.to_owned();
        if !overrides.is_empty() {
            let global = match root.entry("global").or_insert(Value::Table(Table::new())) {
                Value::Table(t) => t,
                _ => return Err(bad("`global` must be a table ([global])")),
            };
            recorded.push_str("\n# Command-line values replacing [global]'s:\n");
            for (k, v) in overrides {
                let val = parse::flag_value(k, v)?;
                recorded.push_str(&format!("# {k} = {val}\n"));
                global.insert((*k).to_owned(), val);
            }
        }
        let mut spec = parse::parse(&root, stem)?;
        spec.text = recorded;
        // Colliding labels are a spec error, reported before anything runs.
        spec.points()?;
        Ok(spec)
    }

    /// Reads a job file, with command-line overrides of its `[global]` values.
    pub fn from_file(path: &Path, overrides: &[(&str, String)]) -> Result<Spec, BenchError> {
        let text = std::fs::read_to_string(path).map_err(BenchError::io(path))?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("job");
        Spec::from_toml(&text, stem, overrides).map_err(|e| match e {
            BenchError::Spec(reason) => BenchError::JobFile {
                path: path.to_owned(),
                reason,
            },
            other => other,
        })
    }

    /// A spec from command-line flags: (TOML key, value) pairs; lists are comma-separated.
    pub fn from_flags(flags: &[(&str, String)]) -> Result<Spec, BenchError> {
        if !flags.iter().any(|(k, _)| *k == "workload") {
            return Err(bad("no workload: give --workload (or --job FILE)"));
        }
        let mut global = Table::new();
        for (k, v) in flags {
            global.insert((*k).to_owned(), parse::flag_value(k, v)?);
        }
        let mut root = Table::new();
        root.insert("global".into(), Value::Table(global));
        let text = toml::to_string(&root).map_err(|e| bad(e.to_string()))?;
        Spec::from_toml(&text, "", &[])
    }

    /// Every point of every job, in sweep order, with unique labels.
    pub fn points(&self) -> Result<Vec<Point>, BenchError> {
        let mut out = Vec::new();
        for (j, job) in self.jobs.iter().enumerate() {
            expand::expand(j, job, &mut out);
        }
        let mut seen = BTreeSet::new();
        for p in &out {
            if !seen.insert(p.case.label()) {
                return Err(bad(format!(
                    "two cases would share the label {} (give the jobs distinct names)",
                    p.case.label()
                )));
            }
        }
        Ok(out)
    }
}

/// A command-line value as TOML: lists split on commas, integers parsed.
#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
