//! Operations on devices that are already open: any [`BlockIo`], including the in-memory
//! (`mem`) and `null` engines. Tests, benchmarks and the crash simulator drive the whole
//! engine through here without touching the file system.
//!
//! Raw devices never change size, so the caller sizes them: attached, the device is
//! [`attached_size`] bytes with the plaintext at the start; detached, the data device holds
//! the plaintext and the metadata device is [`detached_size`] bytes. After a raw decrypt the
//! metadata stays, with state `plain`.

use std::sync::Arc;

use super::create::{create, NewVolume};
use super::read::verify_vol;
use super::volume::Volume;
use super::{EngineError, RunOptions, Summary, VerifyReport, VolumeRef};
use crate::format::{Geometry, Layout, LayoutKind};
use crate::io::BlockIo;
use crate::keys::KeyProvider;

/// A volume on open devices.
#[derive(Clone)]
pub struct Devices {
    /// The data device (and the metadata device too when `meta` is `None`).
    pub data: Arc<dyn BlockIo>,
    /// A separate metadata device (detached header).
    pub meta: Option<Arc<dyn BlockIo>>,
}

impl Devices {
    fn parts(&self) -> (Arc<dyn BlockIo>, Arc<dyn BlockIo>, LayoutKind) {
        match &self.meta {
            Some(m) => (self.data.clone(), m.clone(), LayoutKind::Detached),
            None => (self.data.clone(), self.data.clone(), LayoutKind::Attached),
        }
    }

    /// Opens the volume and runs journal recovery.
    pub(crate) fn open(&self, provider: &dyn KeyProvider) -> Result<Volume, EngineError> {
        let mut vol = self.open_unrecovered(provider)?;
        super::journal::recover(&mut vol)?;
        Ok(vol)
    }

    /// Opens the volume as it is on the device (tests inspect a crash image with it).
    pub(crate) fn open_unrecovered(
        &self,
        provider: &dyn KeyProvider,
    ) -> Result<Volume, EngineError> {
        let (d, m, _) = self.parts();
        let label = std::path::Path::new("<device>");
        Volume::open_on(d, m, provider, VolumeRef::attached(label), label)
    }
}

fn layout(data_len: u64, chunk_size: u64, kind: LayoutKind) -> Result<Layout, EngineError> {
    Ok(Layout::compute(
        &Geometry::new(data_len, chunk_size)?,
        kind,
    )?)
}

/// Size of an attached device holding `data_len` bytes in chunks of `chunk_size`.
pub fn attached_size(data_len: u64, chunk_size: u64) -> Result<u64, EngineError> {
    Ok(layout(data_len, chunk_size, LayoutKind::Attached)?.device_size)
}

/// Size of a detached metadata device for `data_len` bytes in chunks of `chunk_size`.
pub fn detached_size(data_len: u64, chunk_size: u64) -> Result<u64, EngineError> {
    Ok(layout(data_len, chunk_size, LayoutKind::Detached)?.device_size)
}

/// Encrypts the first `data_len` bytes of `dev` in place, or resumes an interrupted encrypt.
pub fn encrypt(
    dev: &Devices,
    data_len: u64,
    chunk_size: u64,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    encrypt_geometry(dev, Geometry::new(data_len, chunk_size)?, provider, opts)
}

/// [`encrypt`] with an explicit geometry (e.g. [`Geometry::with_window_chunks`]).
pub fn encrypt_geometry(
    dev: &Devices,
    geometry: Geometry,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let (d, m, kind) = dev.parts();
    let probe = super::files::probe_dev(m.as_ref())?;
    if !probe.is_plain() && !probe.unfinished_create() {
        let vol = dev.open(provider)?;
        super::encrypt::check_resume(&vol, Some(geometry.chunk_size()), opts)?;
        return super::encrypt::run(vol, super::encrypt::Source::InPlace, opts);
    }
    let spec = NewVolume {
        geometry,
        kind,
        resilience: opts.resilience,
        source_id: None,
    };
    let vol = create(
        &spec,
        d,
        m,
        provider,
        VolumeRef::attached("<device>"),
        Vec::new(),
    )?;
    super::encrypt::run(vol, super::encrypt::Source::InPlace, opts)
}

/// Decrypts `dev` in place (or resumes an interrupted decrypt).
pub fn decrypt(
    dev: &Devices,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    super::decrypt::run(dev.open(provider)?, opts)
}

/// Authenticates every chunk of `dev`.
pub fn verify(
    dev: &Devices,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<VerifyReport, EngineError> {
    verify_vol(&dev.open(provider)?, opts)
}

/// Rekeys `dev` in place to a new data key from `to` (or resumes an interrupted rekey).
pub fn rekey(
    dev: &Devices,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let both = super::rekey::Both { from, to };
    super::rekey::in_place(dev.open(&both)?, to, opts)
}

/// Finishes whatever in-place operation `dev` was interrupted in (after recovery).
pub fn resume(
    dev: &Devices,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let both = super::rekey::Both { from, to };
    super::resume::resume_open(dev.open(&both)?, to, opts)
}
