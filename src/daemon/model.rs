//! The daemon's job model: what a client submits ([`JobSpec`]), the states a job goes
//! through ([`JobState`]), and the record the job store keeps and the API returns
//! ([`JobRecord`]). Plain data with serde; no I/O here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The operation a job runs (the CLI subcommand of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// `volcrypt encrypt`.
    Encrypt,
    /// `volcrypt rekey`.
    Rekey,
    /// `volcrypt rewrap`.
    Rewrap,
    /// `volcrypt decrypt`.
    Decrypt,
    /// `volcrypt verify`.
    Verify,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 5] = [Op::Encrypt, Op::Rekey, Op::Rewrap, Op::Decrypt, Op::Verify];

    /// The name used in the API, the store and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Op::Encrypt => "encrypt",
            Op::Rekey => "rekey",
            Op::Rewrap => "rewrap",
            Op::Decrypt => "decrypt",
            Op::Verify => "verify",
        }
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Op {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Op::ALL.into_iter().find(|o| o.name() == s).ok_or_else(|| {
            format!("unknown operation '{s}' (expected encrypt, rekey, rewrap, decrypt or verify)")
        })
    }
}

/// A job as submitted: the CLI's options for the operation, as JSON. Unset fields take the
/// daemon's configured defaults. Sizes are bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The operation.
    pub op: Op,
    /// The volume: a regular file or a block device (absolute path).
    pub volume: PathBuf,
    /// Detached header file (`--header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<PathBuf>,
    /// Out-of-place output (`--output`; encrypt, rekey, decrypt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<PathBuf>,
    /// Customer key file (`--key-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// KMS key id, ARN or alias (`--kms-key`); with neither this nor `key_file`, KMS with the
    /// configured default key (`--kms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// rewrap: the key file the data key is wrapped with now (`--from-key-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_key_file: Option<PathBuf>,
    /// rekey/rewrap: the new KMS wrapping key (`--to-kms-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_kms_key: Option<String>,
    /// rekey/rewrap: the new wrapping key file (`--to-key-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_key_file: Option<PathBuf>,
    /// encrypt: chunk size (power of two, 4 KiB to 1 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_size: Option<u64>,
    /// encrypt: metadata in the volume's last N bytes (`--reserved-tail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_tail: Option<u64>,
    /// `journal` or `none` (`--resilience`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resilience: Option<String>,
    /// `auto`, `uring`, `mmap` or `pread` (`--io`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io: Option<String>,
    /// `ring` or `aws-lc` (`--crypto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crypto: Option<String>,
    /// Not per job: every job runs on the daemon's one cipher pool (`[engine] threads`); a
    /// value is refused with that message rather than as an unknown field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Not per job either (`[engine] queue_depth`); refused like `threads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_depth: Option<u64>,
    /// This job's bandwidth limit in bytes per second (0 or unset: the configured default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<u64>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a slot.
    Queued,
    /// Running.
    Running,
    /// Stopped at a window checkpoint by `pause`, holding its slot, until `resume`.
    Paused,
    /// Finished.
    Succeeded,
    /// Stopped by an error (see the record's `error`).
    Failed,
    /// Stopped by `cancel` at a window checkpoint; the volume is consistent and resumable.
    Cancelled,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Paused,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// The name used in the API, the store and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Queued, running or paused: the job holds its volume.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            JobState::Queued | JobState::Running | JobState::Paused
        )
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        JobState::ALL
            .into_iter()
            .find(|o| o.name() == s)
            .ok_or_else(|| format!("unknown job state '{s}'"))
    }
}

/// A job as the store keeps it and the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Job id (1, 2, ...), never reused.
    pub id: u64,
    /// What was submitted.
    pub spec: JobSpec,
    /// The volume the job holds, canonicalized: at most one active job per volume.
    pub volume_key: String,
    /// Current state.
    pub state: JobState,
    /// Unix time (seconds) of submission.
    pub created: u64,
    /// Unix time the job first started running.
    pub started: Option<u64>,
    /// Unix time it reached a final state.
    pub finished: Option<u64>,
    /// Data bytes the operation covers (0 until it starts).
    pub bytes_total: u64,
    /// Data bytes done, counting work done before a restart (from the volume's checkpoint).
    pub bytes_done: u64,
    /// The volume's chunk size (0 until known).
    pub chunk_size: u64,
    /// Times the job was started (more than 1 after a restart or resume).
    pub attempts: u32,
    /// The volume's key version when the job first started (tells a rekey that finished
    /// before a crash from one that never ran).
    pub start_version: Option<u32>,
    /// Why it failed, or how it was stopped.
    pub error: Option<String>,
    /// What the finished run reported: the engine's summary (bytes, chunks, data-pass
    /// seconds, io engine, threads), the verify or rewrap report.
    pub result: Option<serde_json::Value>,
}
