//! The engine's error type: every way an operation on a volume can fail, worded for the
//! person who runs the command. Authentication failures name chunk indexes, never reasons.

use std::path::PathBuf;

use crate::format::FormatError;
use crate::io::IoError;
use crate::keys::KeyError;

/// Why an operation on a volume failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The path does not exist.
    #[error("{0}: no such file or device")]
    NotFound(PathBuf),
    /// The path has volcrypt metadata neither slot of which could be used.
    #[error("{path} is not a volcrypt volume ({reason})")]
    NotAVolume {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Refusing to encrypt a volume twice.
    #[error("{path} is already a volcrypt volume (state: {state}); refusing to encrypt it again")]
    AlreadyEncrypted {
        /// The path.
        path: PathBuf,
        /// Its current state.
        state: String,
    },
    /// An output or header path that must be new already exists.
    #[error("{0} already exists; refusing to overwrite it (remove it or choose another path)")]
    OutputExists(PathBuf),
    /// The volume must be modified but is read-only.
    #[error("{path} is read-only ({reason}); refusing to modify it")]
    ReadOnly {
        /// The path.
        path: PathBuf,
        /// Mode or filesystem detail.
        reason: String,
    },
    /// The device is smaller than the header says.
    #[error("{path} is truncated: the header describes {expected} bytes, the device has {actual}")]
    Truncated {
        /// The path.
        path: PathBuf,
        /// Size the header expects.
        expected: u64,
        /// Size found.
        actual: u64,
    },
    /// The volume is in a state that does not allow this operation.
    #[error("cannot {op} {path}: {reason}")]
    BadState {
        /// The operation.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// What state it is in and what to do.
        reason: String,
    },
    /// Neither header slot authenticated under the volume's key.
    #[error("{0}: the volume header failed authentication (forged or corrupted metadata)")]
    HeaderAuth(PathBuf),
    /// Chunks failed authentication; nothing of them was written.
    #[error("{} chunk(s) failed authentication: {}", bad.len(), list(bad))]
    Tampered {
        /// The failing chunk indexes.
        bad: Vec<u64>,
    },
    /// A keyslot's recorded encryption context is not the one this volume's header implies
    /// (the header was edited, or the volume copied and its UUID changed).
    #[error(
        "the encryption context of key version {version} does not match this volume's UUID: \
         the header was edited or the keyslot comes from another volume; refusing to ask \
         the key provider"
    )]
    ContextMismatch {
        /// The key version.
        version: u32,
    },
    /// Another process holds the volume.
    #[error("{0} is busy: another volcrypt process has it open")]
    Busy(PathBuf),
    /// A block device to be modified is mounted (or one of its partitions is). Nothing was
    /// written.
    #[error(
        "{path} is mounted at {}{}: refusing to modify a mounted device; unmount it first",
        .mount_point.display(),
        .partition.as_ref().map(|p| format!(" (partition {p})")).unwrap_or_default()
    )]
    Mounted {
        /// The device.
        path: PathBuf,
        /// Where it (or its partition) is mounted.
        mount_point: PathBuf,
        /// The mounted partition, when not the device itself.
        partition: Option<String>,
    },
    /// A block device to be modified is in use: held by a stacked device (LVM/dm, md), or
    /// opened exclusively by another program (EBUSY). Nothing was written.
    #[error("{path} is in use ({detail}); refusing to modify it")]
    InUse {
        /// The device.
        path: PathBuf,
        /// What holds it, as far as known.
        detail: String,
    },
    /// A block device has no volcrypt header at its end, and its detached header file does
    /// not exist.
    #[error(
        "no volcrypt header for {}: none at the end of the device, and no header file {} \
         (a block device's header is a detached file, by default \
         $VOLCRYPT_HEADER_DIR/<kernel device name>.vchdr with the directory defaulting to \
         /var/lib/volcrypt/headers; pass --header FILE if it is elsewhere)",
        .path.display(),
        .header.display()
    )]
    NoHeader {
        /// The device.
        path: PathBuf,
        /// The header file looked for.
        header: PathBuf,
    },
    /// Invalid request parameters.
    #[error("{0}")]
    Invalid(String),
    /// A key provider failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Metadata could not be parsed or built.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A device read, write or sync failed.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A file-system operation on a path failed.
    #[error("{path}: {source}")]
    Path {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A cryptographic primitive failed outside authentication (RNG, key setup).
    #[error("cryptographic failure: {0}")]
    Crypto(#[from] crate::crypto::CryptoError),
    /// A broken internal invariant (a bug).
    #[error("internal error: {0}")]
    Internal(&'static str),
}

fn list(bad: &[u64]) -> String {
    const SHOWN: usize = 20;
    let mut s: Vec<String> = bad.iter().take(SHOWN).map(u64::to_string).collect();
    if bad.len() > SHOWN {
        s.push(format!("... ({} more)", bad.len() - SHOWN));
    }
    s.join(", ")
}

impl EngineError {
    pub(crate) fn path(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> EngineError + '_ {
        move |source| EngineError::Path {
            path: path.to_owned(),
            source,
        }
    }
}
