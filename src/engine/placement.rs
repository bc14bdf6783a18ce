//! Where a volume's metadata lives when the command line does not say: the default detached
//! header of a block device, or the device's own reserved tail; and the checks of a new
//! reserved tail.
//!
//! A block device cannot grow, so its metadata is a detached header file by default, at
//! `$VOLCRYPT_HEADER_DIR/<kernel name>.vchdr` (`/var/lib/volcrypt/headers` unless set), or
//! its own last bytes when it was encrypted with `--reserved-tail` ([`VolumeRef::resolve`]).
//! The name follows the kernel's device name (`sdb`, `nvme0n1p2`, `dm-0`), which is not
//! stable across reboots or re-plugging on every system: those need an explicit `--header`.

use std::fs::File;
use std::path::{Path, PathBuf};

use super::files::{probe, Opened};
use super::volume::Volume;
use super::{EngineError, VolumeRef};
use crate::format::{min_reserved_tail, Geometry, Layout, LayoutKind};
use crate::io;

/// Where block devices keep their detached headers unless `VOLCRYPT_HEADER_DIR` says.
pub(crate) const DEFAULT_HEADER_DIR: &str = "/var/lib/volcrypt/headers";

/// `$VOLCRYPT_HEADER_DIR`, or [`DEFAULT_HEADER_DIR`].
fn default_header_dir() -> PathBuf {
    std::env::var_os("VOLCRYPT_HEADER_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_HEADER_DIR), PathBuf::from)
}

/// The default detached header of block device `dev`: `<dir>/<name>.vchdr`, where `<name>`
/// is the kernel name, the file name of the canonical path (`/dev/disk/by-id/...` and
/// `/dev/mapper/vg-lv` resolve to `sdb`, `dm-0`). None when the path does not resolve.
pub(crate) fn default_header_path(dev: &Path) -> Option<PathBuf> {
    let canonical = std::fs::canonicalize(dev).ok()?;
    let mut name = canonical.file_name()?.to_owned();
    name.push(".vchdr");
    Some(default_header_dir().join(name))
}

/// Whether the last bytes of `path` hold volcrypt metadata (valid or damaged headers, as
/// opposed to none). False when it cannot be read.
fn holds_metadata(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        return false;
    };
    io::device_size(&f)
        .ok()
        .and_then(|size| probe(&f, size).ok())
        .is_some_and(|p| !p.is_plain())
}

impl VolumeRef {
    /// The volume at `path` as a command line names it, with its header found: an explicit
    /// `header` wins. Without one, a regular file keeps its metadata attached, at its end; a
    /// block device keeps it at its own end if volcrypt metadata is there (a volume made
    /// with a reserved tail), else in its default detached header file,
    /// `$VOLCRYPT_HEADER_DIR/<kernel name>.vchdr` (directory `/var/lib/volcrypt/headers`
    /// unless set), which an encrypt creates.
    pub fn resolve(path: &Path, header: Option<&Path>) -> VolumeRef {
        let header = match header {
            Some(h) => Some(h.to_owned()),
            None if io::is_block_device(path) && !holds_metadata(path) => default_header_path(path),
            None => None,
        };
        VolumeRef {
            path: path.to_owned(),
            header,
        }
    }
}

/// The error for a block device whose detached header file `header` does not exist.
pub(crate) fn missing_header(data: &Opened, header: &Path) -> EngineError {
    let on_device = probe(&data.file, data.size).is_ok_and(|p| !p.is_plain());
    if on_device {
        return EngineError::Invalid(format!(
            "{} does not exist, and {} keeps its volcrypt header at its own end (a reserved \
             tail): drop --header",
            header.display(),
            data.path.display()
        ));
    }
    EngineError::NoHeader {
        path: data.path.clone(),
        header: header.to_owned(),
    }
}

/// Refuses a new reserved-tail volume on a block device that has a default detached header:
/// it is (or is being made) a volume with that header.
pub(crate) fn check_no_default_header(data: &Opened) -> Result<(), EngineError> {
    let existing = data
        .block
        .then(|| default_header_path(&data.path))
        .flatten()
        .filter(|h| h.exists());
    match existing {
        Some(h) => Err(EngineError::Invalid(format!(
            "{} already has a detached header, {}: it is (or is being made) a volume with that \
             header; finish or decrypt it first, or remove the header file if it is stale",
            data.path.display(),
            h.display()
        ))),
        None => Ok(()),
    }
}

/// The geometry of a new tail volume on `data` with its last `reserved` bytes for the
/// metadata: `reserved` a multiple of 4 KiB and of the logical block size, the device a
/// whole number of pages, and room for the metadata (the error names the minimum in MiB).
pub(crate) fn tail_geometry(
    data: &Opened,
    reserved: u64,
    chunk_size: u64,
) -> Result<Geometry, EngineError> {
    let path = data.path.display();
    let unit = if data.block {
        let b = io::block_info(&data.file).map_err(EngineError::path(&data.path))?;
        u64::from(b.logical_block).max(4096)
    } else {
        4096
    };
    if reserved == 0 || !reserved.is_multiple_of(unit) {
        return Err(EngineError::Invalid(format!(
            "--reserved-tail {reserved} is not a positive multiple of {unit} bytes (4 KiB and \
             the logical block size of {path})"
        )));
    }
    if !data.size.is_multiple_of(4096) {
        return Err(EngineError::Invalid(format!(
            "{path} is {} bytes, not a whole number of 4 KiB pages: a reserved tail needs that",
            data.size
        )));
    }
    if reserved >= data.size {
        return Err(EngineError::Invalid(format!(
            "--reserved-tail {reserved} leaves no data: {path} has {} bytes",
            data.size
        )));
    }
    let geometry = Geometry::new(data.size - reserved, chunk_size)?;
    let need = Layout::metadata_len(&geometry)?;
    if need > reserved {
        let min = match min_reserved_tail(data.size, chunk_size) {
            Some(m) => format!("reserve at least {}M", m >> 20),
            None => "the device is too small for a reserved tail".into(),
        };
        return Err(EngineError::Invalid(format!(
            "--reserved-tail {reserved} is too small: the metadata (journal, tag table and \
             headers) of the {}-byte data area in front of it needs {need} bytes; {min}",
            geometry.data_len
        )));
    }
    Ok(geometry)
}

/// A rerun of an encrypt with a reserved tail must find the interrupted volume laid out so.
pub(crate) fn check_tail_resume(vol: &Volume, reserved: Option<u64>) -> Result<(), EngineError> {
    let Some(reserved) = reserved else {
        return Ok(());
    };
    let data_len = vol.header.geometry.data_len;
    match vol.header.layout.kind {
        LayoutKind::Tail { device_size } if device_size - data_len == reserved => Ok(()),
        LayoutKind::Tail { device_size } => Err(EngineError::Invalid(format!(
            "cannot resume: the interrupted encrypt of {} reserved its last {} bytes, not \
             {reserved}",
            vol.vref.path.display(),
            device_size - data_len
        ))),
        other => Err(EngineError::Invalid(format!(
            "cannot resume: the interrupted encrypt of {} has {} metadata, not a reserved tail",
            vol.vref.path.display(),
            other.name()
        ))),
    }
}
