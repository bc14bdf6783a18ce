//! Checking a submitted [`JobSpec`] before it is accepted: options that do not apply to the
//! operation, unknown names, missing files and relative paths are refused with a message
//! naming the field, so a bad request never becomes a job (HTTP 400).

use std::path::{Path, PathBuf};

use super::config::EngineConfig;
use super::model::{JobSpec, Op};
use crate::crypto::Backend;
use crate::engine::VolumeRef;
use crate::format::{Resilience, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
use crate::io::EngineKind;

/// A refused job spec; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SpecError {
    /// The JSON field at fault.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> SpecError {
    SpecError {
        field,
        message: message.into(),
    }
}

/// The I/O engine a job asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoPick {
    /// Chosen per volume ([`crate::io::choose_auto`]).
    Auto,
    /// This one.
    Fixed(EngineKind),
}

/// A checked spec with the daemon's defaults filled in.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The volume and its header, found as the CLI finds them.
    pub vref: VolumeRef,
    /// The canonical volume path: the job store's one-active-job-per-volume key.
    pub volume_key: String,
    /// Every path the job writes (volume, header, output), canonicalized where they exist:
    /// no two active jobs may share one.
    pub claims: Vec<String>,
    /// I/O engine.
    pub io: IoPick,
    /// AES-GCM implementation.
    pub backend: Backend,
    /// Crash protection.
    pub resilience: Resilience,
    /// Chunk size for a new volume.
    pub chunk_size: u64,
}

fn absolute(field: &'static str, p: &Path) -> Result<(), SpecError> {
    if p.is_absolute() {
        Ok(())
    } else {
        Err(bad(
            field,
            format!(
                "{} is relative; the daemon needs absolute paths",
                p.display()
            ),
        ))
    }
}

fn existing(field: &'static str, p: &Path) -> Result<PathBuf, SpecError> {
    absolute(field, p)?;
    std::fs::canonicalize(p).map_err(|e| bad(field, format!("{}: {e}", p.display())))
}

/// A path that may not exist yet, canonicalized through its nearest existing ancestor (a
/// default header's directory is only created by the job).
fn claim(field: &'static str, p: &Path) -> Result<String, SpecError> {
    absolute(field, p)?;
    let mut base = p;
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(base) {
            let full = rest.iter().rev().fold(c, |acc, part| acc.join(part));
            return Ok(full.display().to_string());
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                base = parent;
            }
            _ => return Ok(p.display().to_string()),
        }
    }
}

/// Refuses `field` when set for an operation outside `ops`.
fn only<T>(field: &'static str, v: &Option<T>, op: Op, ops: &[Op]) -> Result<(), SpecError> {
    if v.is_some() && !ops.contains(&op) {
        let names: Vec<&str> = ops.iter().map(|o| o.name()).collect();
        return Err(bad(
            field,
            format!("does not apply to {op} (only to {})", names.join(", ")),
        ));
    }
    Ok(())
}

/// Checks `spec` against the operation and fills in `defaults`.
pub fn check(spec: &JobSpec, defaults: &EngineConfig) -> Result<Checked, SpecError> {
    use Op::*;
    let op = spec.op;
    only("output", &spec.output, op, &[Encrypt, Rekey, Decrypt])?;
    only("chunk_size", &spec.chunk_size, op, &[Encrypt])?;
    only("reserved_tail", &spec.reserved_tail, op, &[Encrypt])?;
    only("from_key_file", &spec.from_key_file, op, &[Rewrap])?;
    only("to_kms_key", &spec.to_kms_key, op, &[Rekey, Rewrap])?;
    only("to_key_file", &spec.to_key_file, op, &[Rekey, Rewrap])?;
    only(
        "resilience",
        &spec.resilience,
        op,
        &[Encrypt, Rekey, Decrypt],
    )?;
    if op == Rewrap {
        only("key_file", &spec.key_file, op, &[])?;
        only("kms_key", &spec.kms_key, op, &[])?;
        only("io", &spec.io, op, &[])?;
        only("crypto", &spec.crypto, op, &[])?;
    }
    if spec.threads.is_some() {
        return Err(bad(
            "threads",
            "jobs share the daemon's cipher pool: set [engine] threads in its config",
        ));
    }
    if spec.queue_depth.is_some() {
        return Err(bad(
            "queue_depth",
            "is daemon-wide: set [engine] queue_depth in its config",
        ));
    }
    if spec.key_file.is_some() && spec.kms_key.is_some() {
        return Err(bad("key_file", "give key_file or kms_key, not both"));
    }
    if spec.to_key_file.is_some() && spec.to_kms_key.is_some() {
        return Err(bad(
            "to_key_file",
            "give to_key_file or to_kms_key, not both",
        ));
    }
    if spec.reserved_tail.is_some() && (spec.header.is_some() || spec.output.is_some()) {
        return Err(bad(
            "reserved_tail",
            "keeps the metadata on the volume: it excludes header and output",
        ));
    }
    for (field, p) in [
        ("key_file", &spec.key_file),
        ("from_key_file", &spec.from_key_file),
        ("to_key_file", &spec.to_key_file),
    ] {
        if let Some(p) = p {
            existing(field, p)?;
        }
    }
    let volume = existing("volume", &spec.volume)?;
    let chunk_size = spec.chunk_size.unwrap_or(defaults.chunk_size);
    if !chunk_size.is_power_of_two() || !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(bad(
            "chunk_size",
            format!("{chunk_size} is not a power of two from 4096 to 1048576"),
        ));
    }
    let io_name = spec.io.as_deref().unwrap_or(&defaults.io);
    let io = match io_name {
        "auto" => IoPick::Auto,
        name => match name.parse::<EngineKind>() {
            Ok(k @ (EngineKind::Uring | EngineKind::Mmap | EngineKind::Pread)) => IoPick::Fixed(k),
            _ => {
                return Err(bad(
                    "io",
                    format!("unknown engine '{name}' (expected auto, uring, mmap or pread)"),
                ))
            }
        },
    };
    if io == IoPick::Fixed(EngineKind::Uring) {
        if let Err(why) = crate::io::uring_probe() {
            return Err(bad("io", format!("io_uring is unavailable: {why}")));
        }
    }
    let backend = match &spec.crypto {
        None => defaults.crypto,
        Some(c) => c.parse().map_err(|e: String| bad("crypto", e))?,
    };
    let resilience = match spec.resilience.as_deref() {
        None => defaults.resilience,
        Some("journal") => Resilience::Journal,
        Some("none") => Resilience::None,
        Some(other) => {
            return Err(bad(
                "resilience",
                format!("unknown mode '{other}' (expected journal or none)"),
            ))
        }
    };
    let vref = match (op, &spec.output, spec.reserved_tail) {
        (Encrypt, Some(_), _) | (Encrypt, None, Some(_)) => VolumeRef::attached(&volume),
        _ => VolumeRef::resolve(&volume, spec.header.as_deref()),
    };
    let volume_key = volume.display().to_string();
    let mut claims = vec![volume_key.clone()];
    if let Some(h) = &vref.header {
        claims.push(claim("header", h)?);
    }
    if let Some(o) = &spec.output {
        let c = claim("output", o)?;
        if c == volume_key {
            return Err(bad(
                "output",
                "is the volume itself; leave it out to work in place",
            ));
        }
        claims.push(c);
        if let (Encrypt, Some(h)) = (op, &spec.header) {
            claims.push(claim("header", h)?);
        }
    }
    Ok(Checked {
        vref,
        volume_key,
        claims,
        io,
        backend,
        resilience,
        chunk_size,
    })
}
