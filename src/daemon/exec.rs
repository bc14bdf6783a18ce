//! Running one job: key providers for its spec, run options on the shared pool, the engine
//! operation, and, after a restart, picking the job up where the volume's own checkpoint
//! says it stopped.
//!
//! A restarted job (one that had started before the daemon stopped) looks at the volume
//! first. An in-place operation that was interrupted (`encrypting`, `decrypting`,
//! `rekeying` in the header) is finished with [`engine::resume`], which replays the journal
//! and goes on from the progress mark; an operation that had in fact finished (the volume is
//! already in its end state) is recorded as done; anything else runs again from the start
//! (verify, rewrap, and out-of-place work, which the engine restarts safely).

use std::sync::Arc;

use super::config::EngineConfig;
use super::control::JobControl;
use super::keys::KeySource;
use super::model::{JobRecord, Op};
use super::spec::{self, Checked, IoPick, SpecError};
use crate::engine::{self, EngineError, InfoReport, RunOptions, Stage, VolumeRef};
use crate::format::KeyKind;
use crate::keys::{KeyError, KeyProvider};
use crate::metrics::Metrics;

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The spec no longer checks (a file went away since it was submitted).
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A key could not be loaded or unwrapped.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The operation failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Verify found damage.
    #[error("verify: {bad} chunk(s) failed authentication{extra}")]
    Verify {
        /// Chunks that failed.
        bad: usize,
        /// Header problems, `; `-joined, with a leading `; `.
        extra: String,
    },
    /// The job cannot run as asked (a key that must be named, ...).
    #[error("{0}")]
    Refused(String),
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Finished; the engine's summary as JSON.
    Done(serde_json::Value),
    /// Stopped at a window checkpoint by cancel, drain or pause (resumable).
    Stopped,
}

/// What a job needs from the daemon.
pub struct Env<'a> {
    /// Key providers.
    pub keys: &'a KeySource,
    /// Defaults of the data pass.
    pub engine: &'a EngineConfig,
    /// The shared cipher pool.
    pub pool: Arc<rayon::ThreadPool>,
    /// Metrics.
    pub metrics: &'a Arc<Metrics>,
}

/// Facts about the volume before the run, for the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct Before {
    /// Data bytes.
    pub bytes: u64,
    /// Chunk size.
    pub chunk_size: u64,
    /// Current key version.
    pub version: Option<u32>,
}

fn info(v: &VolumeRef) -> Option<InfoReport> {
    engine::info(v).ok()
}

/// What the volume looks like now (a plain file: its size and the chunk size it will get).
pub fn before(rec: &JobRecord, c: &Checked) -> Before {
    match info(&c.vref) {
        Some(i) => Before {
            bytes: i.data_len,
            chunk_size: i.chunk_size,
            version: Some(i.cur_ver),
        },
        None => Before {
            bytes: std::fs::metadata(&rec.spec.volume).map_or(0, |m| m.len()),
            chunk_size: c.chunk_size,
            version: None,
        },
    }
}

fn options(c: &Checked, ctl: &Arc<JobControl>, env: &Env<'_>, op: Op) -> RunOptions {
    let io = match c.io {
        IoPick::Fixed(k) => k,
        IoPick::Auto => {
            let pick = crate::io::choose_auto(&c.vref.path, crate::io::uring_probe());
            if let Some(why) = &pick.fallback {
                tracing::info!(reason = %why, "io_uring unavailable; using the pread engine");
            }
            pick.kind
        }
    };
    let counted = if op == Op::Verify {
        Stage::Read
    } else {
        Stage::Apply
    };
    RunOptions {
        threads: env.pool.current_num_threads(),
        io,
        backend: c.backend,
        resilience: c.resilience,
        progress: Some(Arc::clone(ctl) as Arc<dyn engine::Progress>),
        cancel: Some(ctl.cancel_flag()),
        observer: Some(env.metrics.observer(op.name(), counted)),
        pool: Some(Arc::clone(&env.pool)),
    }
}

/// The providers of a job: the key that opens the volume, and the target of a rekey or
/// rewrap.
struct Keys {
    from: Arc<dyn KeyProvider>,
    to: Option<Arc<dyn KeyProvider>>,
}

fn keys(rec: &JobRecord, c: &Checked, env: &Env<'_>) -> Result<Keys, JobError> {
    let s = &rec.spec;
    let k = env.keys;
    let current = || -> Result<(KeyKind, String), JobError> {
        let i = engine::info(&c.vref)?;
        i.keyslots
            .iter()
            .find(|ks| ks.version == i.cur_ver)
            .map(|ks| (ks.kind, ks.key_id.clone()))
            .ok_or_else(|| {
                JobError::Refused(format!(
                    "the volume has no current key version (state {})",
                    i.state
                ))
            })
    };
    let target = match (&s.to_key_file, &s.to_kms_key) {
        (Some(f), _) => Some(k.file(f)?),
        (None, Some(id)) => Some(k.kms(Some(id))?),
        (None, None) => None,
    };
    let from = match (rec.spec.op, &s.key_file, &s.from_key_file) {
        (Op::Rewrap, _, Some(f)) => k.file(f)?,
        (Op::Rewrap, _, None) => match current()?.0 {
            KeyKind::Kms => k.kms(None)?,
            KeyKind::KeyFile => {
                return Err(JobError::Refused(
                    "the data key is wrapped by a key file: give it as from_key_file".into(),
                ))
            }
        },
        (_, Some(f), _) => k.file(f)?,
        (Op::Encrypt, None, _) => k.kms(s.kms_key.as_deref().or(k.default_key()))?,
        (_, None, _) => k.kms(s.kms_key.as_deref())?,
    };
    let to = match (rec.spec.op, target) {
        (_, Some(t)) => Some(t),
        (Op::Rewrap, None) => match current()?.0 {
            KeyKind::Kms => Some(k.kms(None)?),
            KeyKind::KeyFile => {
                return Err(JobError::Refused(
                    "name the new wrapping key: to_kms_key or to_key_file".into(),
                ))
            }
        },
        // A rekey with no target stays under the KMS key the volume is under now.
        (Op::Rekey, None) if s.key_file.is_none() && s.kms_key.is_none() => {
            Some(k.kms(Some(&current()?.1))?)
        }
        _ => None,
    };
    Ok(Keys { from, to })
}

/// Did an earlier attempt already finish the operation (the volume is in its end state)?
fn finished_before(rec: &JobRecord, v: Option<&InfoReport>) -> bool {
    match (rec.spec.op, v) {
        (Op::Encrypt, Some(i)) => i.state == "encrypted" && rec.spec.output.is_none(),
        (Op::Decrypt, None) => rec.spec.output.is_none(),
        (Op::Decrypt, Some(i)) => i.state == "plain" && rec.spec.output.is_none(),
        (Op::Rekey, Some(i)) => {
            rec.spec.output.is_none()
                && i.state == "encrypted"
                && rec.start_version.is_some_and(|v0| i.cur_ver > v0)
        }
        _ => false,
    }
}

fn interrupted(v: Option<&InfoReport>) -> bool {
    v.is_some_and(|i| matches!(i.state.as_str(), "encrypting" | "decrypting" | "rekeying"))
}

fn summary(s: &engine::Summary) -> Result<Outcome, JobError> {
    if s.interrupted {
        return Ok(Outcome::Stopped);
    }
    Ok(Outcome::Done(serde_json::to_value(s).unwrap_or_default()))
}

/// Creates the directory of a block device's default detached header (0700: it holds
/// wrapped keys).
fn header_dir(c: &Checked) -> Result<(), JobError> {
    use std::os::unix::fs::DirBuilderExt;
    match c.vref.header.as_deref().and_then(std::path::Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| JobError::Refused(format!("creating {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

/// Runs (or, after a restart, continues) job `rec`.
pub fn run(rec: &JobRecord, ctl: &Arc<JobControl>, env: &Env<'_>) -> Result<Outcome, JobError> {
    let c = spec::check(&rec.spec, env.engine)?;
    let s = &rec.spec;
    if rec.attempts > 1 {
        let now = info(&c.vref);
        if finished_before(rec, now.as_ref()) {
            return Ok(Outcome::Done(serde_json::json!({
                "op": s.op.name(),
                "note": "finished before the daemon restarted",
            })));
        }
        if interrupted(now.as_ref()) && s.output.is_none() {
            let k = keys(rec, &c, env)?;
            let o = options(&c, ctl, env, s.op);
            let to = k.to.as_ref().unwrap_or(&k.from);
            return summary(&engine::resume(&c.vref, k.from.as_ref(), to.as_ref(), &o)?);
        }
    }
    let k = keys(rec, &c, env)?;
    let o = options(&c, ctl, env, s.op);
    let from = k.from.as_ref();
    let to = k.to.as_deref().unwrap_or(from);
    match s.op {
        Op::Encrypt => {
            let out = s.output.as_ref().map(|p| VolumeRef {
                path: p.clone(),
                header: s.header.clone(),
            });
            if out.is_none() {
                header_dir(&c)?;
            }
            let r = match s.reserved_tail {
                Some(t) => engine::encrypt_reserved_tail(&c.vref, t, Some(c.chunk_size), from, &o),
                None => engine::encrypt(&c.vref, out.as_ref(), Some(c.chunk_size), from, &o),
            };
            summary(&r?)
        }
        Op::Decrypt => summary(&engine::decrypt(&c.vref, s.output.as_deref(), from, &o)?),
        Op::Rekey => {
            let out = s.output.as_ref().map(VolumeRef::attached);
            summary(&engine::rekey(&c.vref, out.as_ref(), from, to, &o)?)
        }
        Op::Rewrap => {
            let r = engine::rewrap(&c.vref, from, to)?;
            Ok(Outcome::Done(serde_json::to_value(&r).unwrap_or_default()))
        }
        Op::Verify => {
            let r = engine::verify(&c.vref, from, &o)?;
            if r.summary.interrupted {
                return Ok(Outcome::Stopped);
            }
            if !r.ok() {
                let extra: String = r.header_problems.iter().map(|p| format!("; {p}")).collect();
                return Err(JobError::Verify {
                    bad: r.bad.len(),
                    extra,
                });
            }
            Ok(Outcome::Done(serde_json::to_value(&r).unwrap_or_default()))
        }
    }
}
