//! Opening, creating, locking and probing the files behind a volume.
//!
//! Every handle takes an advisory `flock` (exclusive to modify, shared to read), so a second
//! volcrypt on the same volume gets a clear "busy" error instead of a race. Probing reads the
//! two header slots at the end of a metadata device without any key: enough to tell a plain
//! file from a volume, and to show `info`.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::FileExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::EngineError;
use crate::format::{header_offsets, FormatError, Header, Slot, UnverifiedHeader, HEADER_LEN};
use crate::io;

/// An open, locked file or block device.
#[derive(Debug)]
pub(crate) struct Opened {
    pub file: File,
    pub path: PathBuf,
    pub block: bool,
    pub size: u64,
}

impl Opened {
    pub(crate) fn try_clone(&self) -> Result<File, EngineError> {
        self.file.try_clone().map_err(EngineError::path(&self.path))
    }
}

fn lock(file: &File, path: &Path, write: bool) -> Result<(), EngineError> {
    let r = if write {
        file.try_lock()
    } else {
        file.try_lock_shared()
    };
    match r {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(EngineError::Busy(path.to_owned())),
        Err(TryLockError::Error(e)) => Err(EngineError::Path {
            path: path.to_owned(),
            source: e,
        }),
    }
}

fn read_only(path: &Path, reason: &str) -> EngineError {
    EngineError::ReadOnly {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Opens an existing file or block device, read-only or read-write, and locks it.
pub(crate) fn open_existing(path: &Path, write: bool) -> Result<Opened, EngineError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EngineError::NotFound(path.to_owned()))
        }
        Err(e) => return Err(EngineError::path(path)(e)),
    };
    if meta.is_dir() {
        return Err(EngineError::Invalid(format!(
            "{} is a directory, not a file or block device",
            path.display()
        )));
    }
    // Root ignores permission bits, so honour a read-only mode explicitly: the owner marked
    // the file as not to be modified.
    if write && meta.permissions().mode() & 0o222 == 0 {
        let mode = format!("mode {:04o}", meta.permissions().mode() & 0o7777);
        return Err(read_only(path, &mode));
    }
    let file = match OpenOptions::new().read(true).write(write).open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::EROFS) => {
            return Err(read_only(path, "read-only file system"))
        }
        Err(e) if write && e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(read_only(path, "permission denied for writing"))
        }
        Err(e) => return Err(EngineError::path(path)(e)),
    };
    lock(&file, path, write)?;
    let size = io::device_size(&file).map_err(EngineError::path(path))?;
    Ok(Opened {
        file,
        path: path.to_owned(),
        block: io::is_block_device(path),
        size,
    })
}

/// Creates a new file that must not exist yet, and locks it.
pub(crate) fn create_new(path: &Path) -> Result<Opened, EngineError> {
    let file = match OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(EngineError::OutputExists(path.to_owned()))
        }
        Err(e) => return Err(EngineError::path(path)(e)),
    };
    lock(&file, path, true)?;
    Ok(Opened {
        file,
        path: path.to_owned(),
        block: false,
        size: 0,
    })
}

/// Sets a regular file's length.
pub(crate) fn set_len(o: &mut Opened, len: u64) -> Result<(), EngineError> {
    o.file.set_len(len).map_err(EngineError::path(&o.path))?;
    o.size = len;
    Ok(())
}

/// fsyncs the directory holding `path`, so a create, rename or removal is durable.
pub(crate) fn sync_parent(path: &Path) -> Result<(), EngineError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(EngineError::path(dir))
}

/// What the two header slots at the end of a metadata device hold, before any key is known.
#[derive(Debug)]
pub(crate) struct Probe {
    /// Slots whose magic, version and CRC check out, highest seqno first.
    pub found: Vec<UnverifiedHeader>,
    /// Slots that did not parse, and why.
    pub failures: Vec<(Slot, FormatError)>,
}

impl Probe {
    /// True when nothing at the end of the device looks like volcrypt metadata.
    pub fn is_plain(&self) -> bool {
        self.found.is_empty()
            && self
                .failures
                .iter()
                .all(|(_, e)| matches!(e, FormatError::BadMagic | FormatError::Truncated { .. }))
    }

    /// The newest parsed header (unauthenticated).
    pub fn newest(&self) -> Option<&Header> {
        self.found.first().map(UnverifiedHeader::peek)
    }

    /// One line per failed slot.
    pub fn failure_text(&self) -> String {
        self.failures
            .iter()
            .map(|(s, e)| format!("header {s}: {e}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Reads and parses both header slots of a metadata device of `size` bytes.
pub(crate) fn probe(file: &File, size: u64) -> Result<Probe, EngineError> {
    probe_with(size, |buf, off| {
        file.read_exact_at(buf, off)
            .map_err(|source| io::IoError::Io {
                op: "read",
                offset: off,
                len: HEADER_LEN,
                source,
            })
    })
}

/// Like [`probe`], through an engine handle.
pub(crate) fn probe_dev(dev: &dyn io::BlockIo) -> Result<Probe, EngineError> {
    probe_with(dev.len(), |buf, off| dev.read_at(buf, off))
}

fn probe_with(
    size: u64,
    read: impl Fn(&mut [u8], u64) -> Result<(), io::IoError>,
) -> Result<Probe, EngineError> {
    let mut probe = Probe {
        found: Vec::new(),
        failures: Vec::new(),
    };
    let Some((a, b)) = header_offsets(size) else {
        let t = FormatError::Truncated {
            what: "metadata",
            need: 2 * HEADER_LEN as u64,
            have: size,
        };
        probe.failures.push((Slot::A, t.clone()));
        probe.failures.push((Slot::B, t));
        return Ok(probe);
    };
    for (slot, off) in [(Slot::A, a), (Slot::B, b)] {
        let mut buf = vec![0u8; HEADER_LEN];
        read(&mut buf, off)?;
        match Header::decode(&buf, slot) {
            Ok(h) if h.peek().layout.device_size == size => probe.found.push(h),
            Ok(h) => probe.failures.push((
                slot,
                FormatError::Truncated {
                    what: "volume",
                    need: h.peek().layout.device_size,
                    have: size,
                },
            )),
            Err(e) => probe
                .failures
                .push((slot, misplaced(&buf, slot, size).unwrap_or(e))),
        }
    }
    probe
        .found
        .sort_by_key(|h| std::cmp::Reverse(h.peek().seqno));
    Ok(probe)
}

/// A slot that parses only as the *other* slot holds a header 4 KiB away from where it
/// belongs: the device was truncated or extended after the header was written. Says so,
/// instead of the puzzling "header found in the wrong slot".
fn misplaced(buf: &[u8], slot: Slot, size: u64) -> Option<FormatError> {
    let other = slot.other();
    let h = Header::decode(buf, other).ok()?;
    let need = h.peek().layout.device_size;
    Some(FormatError::BadField {
        field: "device size",
        reason: format!(
            "header {other} of a {need}-byte volume sits where header {slot} belongs, on a \
             device of {size} bytes: the volume was truncated or extended"
        ),
    })
}
