//! Opening, creating, locking and probing the files behind a volume.
//!
//! Every handle takes an advisory `flock` (exclusive to modify, shared to read), so a second
//! volcrypt on the same volume gets a clear "busy" error instead of a race. A block device
//! opened to be modified must not be mounted or held by a stacked device (checked first, to
//! name the mount point), and is opened with `O_EXCL`, which the kernel refuses (EBUSY) while
//! anything else has it claimed: nothing is written to a device in use. Probing reads the
//! two header slots at the end of a metadata device without any key: enough to tell a plain
//! file from a volume, and to show `info`.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::EngineError;
use crate::format::{
    decode_intent, encode_intent, header_offsets, FormatError, Header, Slot, UnverifiedHeader,
    HEADER_LEN,
};
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

/// How long a conflicting lock may persist before the volume is reported busy. A lock is
/// held by an open file description, which a process that forks (to run any program) shares
/// with its child until the child's `exec`: for that instant a lock we already released still
/// looks held. Another volcrypt holds its lock for a whole operation, far longer than this.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

fn lock(file: &File, path: &Path, write: bool) -> Result<(), EngineError> {
    let start = std::time::Instant::now();
    loop {
        let r = if write {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match r {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if start.elapsed() < LOCK_GRACE => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(TryLockError::WouldBlock) => return Err(EngineError::Busy(path.to_owned())),
            Err(TryLockError::Error(e)) => {
                return Err(EngineError::Path {
                    path: path.to_owned(),
                    source: e,
                })
            }
        }
    }
}

fn read_only(path: &Path, reason: &str) -> EngineError {
    EngineError::ReadOnly {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The error for a block device that must not be modified because of `u`.
fn in_use(path: &Path, u: io::DeviceUse) -> EngineError {
    match u {
        io::DeviceUse::Mounted {
            partition,
            mount_point,
        } => EngineError::Mounted {
            path: path.to_owned(),
            mount_point,
            partition,
        },
        io::DeviceUse::Held { partition, holders } => EngineError::InUse {
            path: path.to_owned(),
            detail: format!(
                "{}held by {} (LVM/device-mapper, md RAID or another stacked device); remove \
                 the holder first",
                partition
                    .map(|p| format!("its partition {p} is "))
                    .unwrap_or_default(),
                holders.join(", ")
            ),
        },
    }
}

/// Opens an existing file or block device, read-only or read-write, and locks it. A block
/// device opened for writing must not be in use (see the module documentation).
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
    let block = meta.file_type().is_block_device();
    let exclusive = write && block;
    if exclusive {
        if let Some(u) = io::block_device_use(meta.rdev()) {
            return Err(in_use(path, u));
        }
    }
    let mut options = OpenOptions::new();
    options.read(true).write(write);
    if exclusive {
        // Without O_CREAT, O_EXCL on a block device claims it: EBUSY while it is mounted or
        // claimed by anyone else (a stacked device, another O_EXCL opener), in any namespace.
        options.custom_flags(libc::O_EXCL);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if exclusive && e.raw_os_error() == Some(libc::EBUSY) => {
            return Err(EngineError::InUse {
                path: path.to_owned(),
                detail: "mounted, or held by LVM/dm/md or another program that opened it \
                         exclusively"
                    .into(),
            })
        }
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
        block,
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

/// Grows the file of an in-place encrypt from `o.size` to `len` bytes for its metadata:
/// first one write of a create intent (recording the original length) into the last 4 KiB,
/// which extends the file, synced; then the blocks in between are reserved. A run killed
/// before its headers exist leaves the intent, from which the next run restores the length.
/// On failure (ENOSPC) the file gets its original length back.
pub(crate) fn grow_with_intent(o: &mut Opened, len: u64) -> Result<(), EngineError> {
    let original = o.size;
    let intent_at = len - HEADER_LEN as u64;
    let result = (|| -> std::io::Result<()> {
        o.file.write_all_at(&encode_intent(original), intent_at)?;
        o.file.sync_all()?;
        io::allocate(&o.file, original, intent_at - original)
    })();
    if let Err(e) = result {
        return Err(no_room(o, original, len, e));
    }
    o.size = len;
    Ok(())
}

/// Gives a file that could not grow its old length back, and says why.
fn no_room(o: &Opened, old: u64, len: u64, e: std::io::Error) -> EngineError {
    let _ = o.file.set_len(old);
    let _ = o.file.sync_all();
    EngineError::Path {
        path: o.path.clone(),
        source: std::io::Error::new(
            e.kind(),
            format!(
                "cannot reserve {} more bytes for the volume's metadata: {e}",
                len - old
            ),
        ),
    }
}

/// Truncates a file grown by an interrupted create back to `original` bytes.
pub(crate) fn undo_grow(o: &mut Opened, original: u64) -> Result<(), EngineError> {
    o.file
        .set_len(original)
        .map_err(EngineError::path(&o.path))?;
    o.file.sync_all().map_err(EngineError::path(&o.path))?;
    o.size = original;
    Ok(())
}

/// Extends a regular file to `len` bytes with the new part's blocks reserved, so that a full
/// file system is reported now (ENOSPC), before anything is written, and never half way
/// through an operation. On failure the file keeps its old length.
pub(crate) fn grow(o: &mut Opened, len: u64) -> Result<(), EngineError> {
    let old = o.size;
    if len > old {
        if let Err(e) = io::allocate(&o.file, old, len - old) {
            return Err(no_room(o, old, len, e));
        }
    }
    set_len(o, len)
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
    /// Slots that are all zeros (never written).
    pub zeroed: usize,
    /// The original length recorded by a create intent in the last 4 KiB (an in-place
    /// encrypt that grew the file and stopped before its headers were written).
    pub intent: Option<u64>,
}

impl Probe {
    /// True when nothing at the end of the device looks like volcrypt metadata.
    pub fn is_plain(&self) -> bool {
        self.intent.is_none()
            && self.found.is_empty()
            && self
                .failures
                .iter()
                .all(|(_, e)| matches!(e, FormatError::BadMagic | FormatError::Truncated { .. }))
    }

    /// True when no slot parses and one was never written: a volume creation that stopped
    /// before both of its first header writes were durable. Creation writes no data before
    /// both slots are, so the device still holds its original data.
    pub fn unfinished_create(&self) -> bool {
        self.found.is_empty() && (self.intent.is_some() || (self.zeroed > 0 && !self.is_plain()))
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
        zeroed: 0,
        intent: None,
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
        if buf.iter().all(|&b| b == 0) {
            probe.zeroed += 1;
        }
        if slot == Slot::B {
            probe.intent = decode_intent(&buf);
        }
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
