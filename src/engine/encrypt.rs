//! `encrypt`: plain to key version 1, in place or into a new volume (`--output`).
//!
//! In place, the file grows by the metadata region (attached), or the metadata goes to a new
//! detached header file, or into the last bytes of the device that the caller reserved for
//! it (tail: nothing grows); the initial headers are made durable, then windows are sealed
//! and checkpointed one by one. Out of place, the source is only read. Either way an
//! interrupted run is resumed by running the same command again: the header records state
//! `encrypting`, the frozen parameters and the progress.

use super::cipher::WindowCipher;
use super::common::{pool, sealing_pass, RemoveOnDrop};
use super::create::{create, reserve_nonces, NewVolume};
use super::files::{self, Opened};
use super::journal::Journal;
use super::pipeline::{Pipeline, Sink};
use super::placement::{check_no_default_header, check_tail_resume, tail_geometry};
use super::volume::{engines, Volume};
use super::{EngineError, RunOptions, Summary, VolumeRef};
use crate::format::{Geometry, LayoutKind, Operation, Resilience, VolumeState, DEFAULT_CHUNK_SIZE};
use crate::io::{self, BlockIo, EngineKind};
use crate::keys::KeyProvider;

/// Encrypts `vol` in place, or into `output` when given. `chunk_size` is fixed at format
/// time (default 64 KiB); on resume it must match the interrupted run's if given.
pub fn encrypt(
    vol: &VolumeRef,
    output: Option<&VolumeRef>,
    chunk_size: Option<u64>,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    match output {
        None => in_place(vol, chunk_size, None, provider, opts),
        Some(out) => out_of_place(vol, out, chunk_size, provider, opts),
    }
}

/// Encrypts `vol` in place with its metadata in its last `reserved` bytes, which the caller
/// states are free (the file system was made that much smaller): the data area is the first
/// `size - reserved` bytes, and the device (or file) does not grow. `reserved` must be a
/// multiple of 4 KiB and of the device's logical block size, and hold the metadata (the
/// error names the minimum). Running it again resumes an interrupted run.
pub fn encrypt_reserved_tail(
    vol: &VolumeRef,
    reserved: u64,
    chunk_size: Option<u64>,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    if vol.header.is_some() {
        return Err(EngineError::Invalid(
            "a reserved tail keeps the metadata on the device itself: drop --header".into(),
        ));
    }
    in_place(vol, chunk_size, Some(reserved), provider, opts)
}

/// Checks that `vol` is an interrupted encrypt that may be resumed with these parameters.
pub(crate) fn check_resume(
    vol: &Volume,
    chunk_size: Option<u64>,
    opts: &RunOptions,
) -> Result<(), EngineError> {
    let h = &vol.header;
    if h.state != VolumeState::Encrypting || h.operation != Operation::Encrypt {
        return Err(EngineError::AlreadyEncrypted {
            path: vol.vref.path.clone(),
            state: h.state.to_string(),
        });
    }
    if let Some(c) = chunk_size {
        if c != h.geometry.chunk_size() {
            return Err(EngineError::Invalid(format!(
                "cannot resume: the interrupted encrypt of {} uses chunk size {}, not {c}",
                vol.vref.path.display(),
                h.geometry.chunk_size()
            )));
        }
    }
    // Out of place needs no journal (the source is only read): nothing to compare.
    if !h.out_of_place && h.resilience != opts.resilience {
        return Err(EngineError::Invalid(format!(
            "cannot resume: the interrupted encrypt uses --resilience {}, not {}",
            h.resilience, opts.resilience
        )));
    }
    Ok(())
}

fn refuse_or_resume(
    vref: &VolumeRef,
    chunk_size: Option<u64>,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
    write: bool,
) -> Result<Volume, EngineError> {
    let vol = Volume::open(vref, write, opts.io, provider)?;
    check_resume(&vol, chunk_size, opts)?;
    Ok(vol)
}

fn in_place(
    vref: &VolumeRef,
    chunk_size: Option<u64>,
    tail: Option<u64>,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let mut data = files::open_existing(&vref.path, true)?;
    if tail.is_some() {
        check_no_default_header(&data)?;
    }
    let meta_state = match &vref.header {
        None => Some(files::probe(&data.file, data.size)?),
        Some(h) if h.exists() => {
            let m = files::open_existing(h, true)?;
            let p = files::probe(&m.file, m.size)?;
            if p.unfinished_create() {
                // Our own header file, from an encrypt that stopped before its first two
                // header writes were durable: nothing else was written yet. Start over.
                drop(m);
                std::fs::remove_file(h).map_err(EngineError::path(h))?;
                None
            } else if p.is_plain() {
                return Err(EngineError::OutputExists(h.clone()));
            } else {
                Some(p)
            }
        }
        Some(_) => {
            // A new header file: the data must not already be a volume with its metadata at
            // its end, or it would be encrypted twice.
            let p = files::probe(&data.file, data.size)?;
            if let Some(h) = p.newest() {
                return Err(EngineError::AlreadyEncrypted {
                    path: vref.path.clone(),
                    state: format!("{}, {} metadata", h.state, h.layout.kind.name()),
                });
            }
            None
        }
    };
    let mut meta_state = meta_state;
    if vref.header.is_none()
        && meta_state
            .as_ref()
            .is_some_and(files::Probe::unfinished_create)
    {
        match meta_state.as_ref().and_then(|p| p.intent) {
            // An encrypt that grew the file and stopped before its headers existed: give the
            // file its original length back and start over (the data was never touched).
            Some(original) if original < data.size => {
                files::undo_grow(&mut data, original)?;
                meta_state = None;
            }
            // A tail encrypt that stopped while writing its first headers: only the reserved
            // tail was written, never the data. Start over.
            None if tail.is_some() => meta_state = None,
            _ => {
                return Err(EngineError::BadState {
                    op: "encrypt",
                    path: vref.path.clone(),
                    reason: "an earlier encrypt stopped while writing its first header: the \
                             data is intact, but the file was extended for metadata that never \
                             became valid; truncate it to its original size and encrypt again"
                        .into(),
                })
            }
        }
    }
    if meta_state.is_some_and(|p| !p.is_plain()) {
        drop(data);
        let vol = refuse_or_resume(vref, chunk_size, provider, opts, true)?;
        check_tail_resume(&vol, tail)?;
        return run(vol, Source::InPlace, opts);
    }
    let chunk = chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
    let (geometry, kind) = match (tail, &vref.header) {
        (Some(reserved), _) => (
            tail_geometry(&data, reserved, chunk)?,
            LayoutKind::Tail {
                device_size: data.size,
            },
        ),
        (None, Some(_)) => (Geometry::new(data.size, chunk)?, LayoutKind::Detached),
        (None, None) => (Geometry::new(data.size, chunk)?, LayoutKind::Attached),
    };
    if data.block && kind == LayoutKind::Attached {
        return Err(EngineError::Invalid(format!(
            "{} is a block device, which cannot grow: give a detached header with --header FILE, \
             or reserve its last bytes for the metadata with --reserved-tail SIZE",
            vref.path.display()
        )));
    }
    let spec = NewVolume {
        geometry,
        kind,
        resilience: opts.resilience,
        source_id: None,
    };
    let layout = spec.layout()?;
    let original = data.size;
    let (mut meta, mut guard) = match &vref.header {
        Some(h) => {
            let mut m = files::create_new(h)?;
            let guard = RemoveOnDrop::new(h);
            files::grow(&mut m, layout.device_size)?;
            (Some(m), Some(guard))
        }
        None => (None, None),
    };
    let grows = kind == LayoutKind::Attached;
    if grows {
        files::grow_with_intent(&mut data, layout.device_size)?;
    }
    let built = (|| {
        let (d, m) = engines(&data, meta.as_ref(), opts.io, true)?;
        let mut files_kept = vec![data.try_clone_opened()?];
        if let Some(m) = meta.as_mut() {
            files_kept.push(m.try_clone_opened()?);
        }
        create(&spec, d, m, provider, vref.clone(), files_kept)
    })();
    match built {
        Ok(vol) => {
            if let Some(g) = guard.as_mut() {
                g.disarm();
            }
            if let Some(h) = &vref.header {
                files::sync_parent(h)?;
            }
            run(vol, Source::InPlace, opts)
        }
        Err(e) => {
            if grows {
                // Put the file back exactly as it was: nothing was written to the data area.
                let _ = data.file.set_len(original);
            }
            Err(e)
        }
    }
}

fn out_of_place(
    src_ref: &VolumeRef,
    out: &VolumeRef,
    chunk_size: Option<u64>,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let src = files::open_existing(&src_ref.path, false)?;
    // A block device with a default detached header is a volume already.
    check_no_default_header(&src)?;
    let probe = files::probe(&src.file, src.size)?;
    if !probe.is_plain() {
        return Err(EngineError::AlreadyEncrypted {
            path: src_ref.path.clone(),
            state: probe
                .newest()
                .map_or("damaged metadata".into(), |h| h.state.to_string()),
        });
    }
    let src_io = io::from_file(src.try_clone()?, &src.path, opts.io, false)?;
    if out.path.exists() {
        let vol = match refuse_or_resume(out, chunk_size, provider, opts, true) {
            // Only an interrupted encrypt may be continued; anything else is in the way.
            Err(EngineError::NotAVolume { .. } | EngineError::AlreadyEncrypted { .. }) => {
                return Err(EngineError::OutputExists(out.path.clone()))
            }
            other => other?,
        };
        if !vol.header.out_of_place {
            return Err(EngineError::OutputExists(out.path.clone()));
        }
        if vol.header.source_id != source_id(&src)? {
            return Err(EngineError::Invalid(format!(
                "cannot resume the encrypt into {}: {} is not the source it started from \
                 (path, size or modification time differ); remove {} to start over",
                out.path.display(),
                src_ref.path.display(),
                out.path.display()
            )));
        }
        return run(vol, Source::Plain(src_io.as_ref()), opts);
    }
    let geometry = Geometry::new(src.size, chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE))?;
    let kind = match out.header {
        Some(_) => LayoutKind::Detached,
        None => LayoutKind::Attached,
    };
    let spec = NewVolume {
        geometry,
        kind,
        resilience: Resilience::None,
        source_id: Some(source_id(&src)?),
    };
    let layout = spec.layout()?;
    let mut data = files::create_new(&out.path)?;
    let mut guards = vec![RemoveOnDrop::new(&out.path)];
    let mut meta = None;
    if let Some(h) = &out.header {
        let mut m = files::create_new(h)?;
        guards.push(RemoveOnDrop::new(h));
        files::grow(&mut m, layout.device_size)?;
        files::grow(&mut data, src.size)?;
        meta = Some(m);
    } else {
        files::grow(&mut data, layout.device_size)?;
    }
    let (d, m) = engines(&data, meta.as_ref(), opts.io, true)?;
    let mut kept = vec![data];
    kept.extend(meta);
    let vol = create(&spec, d, m, provider, out.clone(), kept)?;
    files::sync_parent(&out.path)?;
    guards.iter_mut().for_each(RemoveOnDrop::disarm);
    run(vol, Source::Plain(src_io.as_ref()), opts)
}

/// Where an encrypt's data comes from.
pub(crate) enum Source<'a> {
    /// The volume's own data, sealed in place.
    InPlace,
    /// Another device holding plaintext (out-of-place encrypt).
    Plain(&'a dyn BlockIo),
    /// Another, fully encrypted volume (out-of-place rekey): opened with its keys, sealed
    /// with the new volume's.
    Sealed(&'a Volume),
}

/// The data pass of an encrypt, from the volume's recorded progress to the end.
pub(crate) fn run(
    mut vol: Volume,
    src: Source<'_>,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let g = vol.header.geometry;
    let start = vol.header.progress;
    let resumed_from = (start > 0).then_some(start);
    let mut nonces = reserve_nonces(&mut vol, g.n_chunks() - start)?;
    let ring = vol.key_ring();
    let src_ring = match &src {
        Source::Sealed(s) => s.key_ring(),
        _ => std::sync::Arc::new(Vec::new()),
    };
    let (src_uuid, src_ver) = match &src {
        Source::Sealed(s) => (s.header.uuid, s.header.cur_ver),
        _ => (vol.header.uuid, 0),
    };
    let cipher = WindowCipher {
        geometry: g,
        uuid: src_uuid,
        dst_uuid: vol.header.uuid,
        backend: opts.backend,
        split: 0,
        src_below: None,
        src_above: super::common::find(&src_ring, src_ver),
        dst: super::common::find(&ring, vol.header.tgt_ver),
    };
    let data = vol.data.clone();
    let op = if matches!(src, Source::Sealed(_)) {
        "rekey"
    } else {
        "encrypt"
    };
    let journal = match src {
        Source::InPlace => Journal::for_volume(&vol)?,
        _ => None,
    };
    let (src, src_tags, sink) = match src {
        Source::InPlace => (data.as_ref(), None, Sink::InPlace),
        Source::Plain(s) => (s, None, Sink::Device(data.as_ref())),
        Source::Sealed(s) => (
            s.data.as_ref(),
            Some((s.meta.as_ref(), s.header.layout.tag_off)),
            Sink::Device(data.as_ref()),
        ),
    };
    let pool = pool(opts)?;
    if let Some(p) = &opts.progress {
        p.begin(g.data_len, g.byte_range(&(0..start)).end);
    }
    let pipeline = Pipeline {
        geometry: g,
        src,
        src_tags,
        sink,
        direct: opts.io == EngineKind::Mmap && journal.is_none(),
        fail_on_bad: true,
        journal: journal.as_ref(),
        progress: opts.progress.as_deref(),
        cancel: opts.cancel.as_deref(),
        pool: &pool,
        observer: opts.observer.as_deref(),
    };
    let stats = sealing_pass(&mut vol, pipeline, &cipher, &mut nonces)?;
    if !stats.cancelled {
        let n = g.n_chunks();
        vol.commit_both(|h| {
            h.state = VolumeState::Encrypted;
            h.operation = Operation::Idle;
            h.cur_ver = h.tgt_ver;
            h.progress = n;
            h.out_of_place = false;
            h.source_id = [0; 32];
        })?;
    }
    if let Some(p) = &opts.progress {
        p.finish();
    }
    Ok(Summary::of(op, &stats, vol.data.kind(), opts, resumed_from))
}

/// Identifies the source of an out-of-place encrypt: SHA-256 over its canonical path,
/// device and inode, size and modification time. A resume from anything else is refused.
pub(crate) fn source_id(src: &Opened) -> Result<[u8; 32], EngineError> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let path = std::fs::canonicalize(&src.path).map_err(EngineError::path(&src.path))?;
    let m = src.file.metadata().map_err(EngineError::path(&src.path))?;
    let mut h = crate::crypto::Sha256::default();
    h.update(b"volcrypt source v1\0");
    h.update(path.as_os_str().as_bytes());
    for v in [
        m.dev(),
        m.ino(),
        src.size,
        m.mtime() as u64,
        m.mtime_nsec() as u64,
    ] {
        h.update(&v.to_le_bytes());
    }
    Ok(h.finish())
}

impl Opened {
    fn try_clone_opened(&self) -> Result<Opened, EngineError> {
        Ok(Opened {
            file: self.try_clone()?,
            path: self.path.clone(),
            block: self.block,
            size: self.size,
        })
    }
}
