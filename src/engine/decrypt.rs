//! `decrypt`: back to plaintext, in place or into a new file (`--output`).
//!
//! Every window is opened into a private buffer first; only a window whose chunks all
//! authenticate is written, so the plaintext of a tampered chunk is never written anywhere
//! and the volume stays consistent at its last checkpoint. In place, the metadata is removed
//! at the end (the file is truncated back to its data, or the detached header deleted; a
//! reserved tail keeps its size, its headers and journal slots are zeroed). Out of place, the
//! plaintext goes to `OUT.volcrypt-partial` and is linked to `OUT` only when complete, so
//! `OUT` never exists half-written.

use std::path::{Path, PathBuf};

use super::common::{checkpoint, find, pool, read_cipher, RemoveOnDrop};
use super::files;
use super::journal::{self, Journal};
use super::pipeline::{PassStats, Pipeline, Sink};
use super::volume::Volume;
use super::{EngineError, RunOptions, Summary, VolumeRef};
use crate::format::{LayoutKind, Operation, VolumeState};
use crate::io;
use crate::keys::KeyProvider;

/// Decrypts `vref` in place, or into the new file `output`.
pub fn decrypt(
    vref: &VolumeRef,
    output: Option<&Path>,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    match output {
        None => in_place(vref, provider, opts),
        Some(out) => out_of_place(vref, out, provider, opts),
    }
}

fn summary(
    stats: PassStats,
    vol_kind: io::EngineKind,
    opts: &RunOptions,
    resumed: Option<u64>,
) -> Summary {
    Summary::of("decrypt", &stats, vol_kind, opts, resumed)
}

fn in_place(
    vref: &VolumeRef,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let vol = Volume::open(vref, true, opts.io, provider)?;
    run(vol, opts)
}

/// Decrypts an open volume in place, from its recorded progress.
pub(crate) fn run(mut vol: Volume, opts: &RunOptions) -> Result<Summary, EngineError> {
    let vref = vol.vref.clone();
    let h = &vol.header;
    let n = h.geometry.n_chunks();
    let resumed = match (h.state, h.operation) {
        (VolumeState::Encrypted, _) => {
            let resilience = opts.resilience;
            vol.commit_both(|h| {
                h.state = VolumeState::Decrypting;
                h.operation = Operation::Decrypt;
                h.resilience = resilience;
                h.tgt_ver = 0;
                h.progress = 0;
            })?;
            None
        }
        (VolumeState::Decrypting, Operation::Decrypt) => {
            if h.resilience != opts.resilience {
                return Err(EngineError::Invalid(format!(
                    "cannot resume: the interrupted decrypt uses --resilience {}, not {}",
                    h.resilience, opts.resilience
                )));
            }
            Some(h.progress)
        }
        (VolumeState::Encrypting, _) => {
            return Err(EngineError::BadState {
                op: "decrypt",
                path: vref.path.clone(),
                reason: format!(
                    "it is only partly encrypted ({} of {n} chunks); run `volcrypt encrypt` \
                     on it again to finish, then decrypt",
                    h.progress
                ),
            })
        }
        (state, _) => {
            return Err(EngineError::BadState {
                op: "decrypt",
                path: vref.path.clone(),
                reason: format!("it is in state {state}"),
            })
        }
    };
    let g = vol.header.geometry;
    let start = vol.header.progress;
    let ring = vol.key_ring();
    let cipher = super::cipher::WindowCipher {
        geometry: g,
        uuid: vol.header.uuid,
        dst_uuid: vol.header.uuid,
        backend: opts.backend,
        split: start,
        src_below: None,
        src_above: find(&ring, vol.header.cur_ver),
        dst: None,
    };
    let data = vol.data.clone();
    let meta = vol.meta.clone();
    let pool = pool(opts)?;
    if let Some(p) = &opts.progress {
        p.begin(g.data_len, g.byte_range(&(0..start)).end);
    }
    let journal = Journal::for_volume(&vol)?;
    let journaled = journal.is_some();
    let pipeline = Pipeline {
        geometry: g,
        src: data.as_ref(),
        src_tags: Some((meta.as_ref(), vol.header.layout.tag_off)),
        sink: Sink::InPlace,
        direct: false,
        fail_on_bad: true,
        journal: journal.as_ref(),
        progress: opts.progress.as_deref(),
        cancel: opts.cancel.as_deref(),
        pool: &pool,
        observer: opts.observer.as_deref(),
    };
    let mut nonces = crate::crypto::NonceCounter::resume(0);
    let first = super::common::first_window(&g, start);
    let stats = pipeline.run(first..g.n_windows(), &cipher, &mut nonces, |done| {
        vol.sync_window(done.bytes.clone(), false, done.chunks.clone())?;
        checkpoint(&mut vol, done, journaled)
    })?;
    let kind = vol.data.kind();
    if !stats.cancelled {
        finish_in_place(vol, data, meta)?;
    }
    if let Some(p) = &opts.progress {
        p.finish();
    }
    Ok(summary(stats, kind, opts, resumed))
}

/// Removes the metadata of a fully decrypted volume.
fn finish_in_place(
    vol: Volume,
    data: std::sync::Arc<dyn io::BlockIo>,
    meta: std::sync::Arc<dyn io::BlockIo>,
) -> Result<(), EngineError> {
    data.sync()?;
    drop(meta);
    if let LayoutKind::Tail { .. } = vol.header.layout.kind {
        return wipe_tail(vol);
    }
    if vol.files.is_empty() {
        // Raw devices cannot shrink: record that the data is plain and keep the metadata,
        // with the journal wiped (it held plaintext).
        journal::wipe(&vol)?;
        let mut vol = vol;
        vol.commit_both(|h| {
            h.state = VolumeState::Plain;
            h.operation = Operation::Idle;
        })?;
        return Ok(());
    }
    let layout = vol.header.layout;
    let data_len = vol.header.geometry.data_len;
    let vref = vol.vref.clone();
    drop(data);
    let files = vol.into_files();
    match layout.kind {
        LayoutKind::Attached => {
            let f = files
                .first()
                .ok_or(EngineError::Internal("volume without files"))?;
            if !f.block {
                f.file
                    .set_len(data_len)
                    .map_err(EngineError::path(&f.path))?;
                f.file.sync_all().map_err(EngineError::path(&f.path))?;
            }
        }
        LayoutKind::Detached => {
            if let Some(h) = &vref.header {
                std::fs::remove_file(h).map_err(EngineError::path(h))?;
                files::sync_parent(h)?;
            }
        }
        LayoutKind::Tail { .. } => return Err(EngineError::Internal("tail layout not wiped")),
    }
    Ok(())
}

/// Makes a decrypted reserved-tail volume no longer look like one, without changing its
/// size: both header slots first say the same finished state (so a crash in what follows
/// leaves a header that a rerun of `decrypt` or `resume` finishes from), then the journal
/// slots (they held plaintext) and both header slots are overwritten with zeros, each synced.
/// The tag table is left: it holds only tags of the ciphertext that is gone.
fn wipe_tail(mut vol: Volume) -> Result<(), EngineError> {
    if vol.header.progress != vol.header.geometry.n_chunks() {
        return Err(EngineError::Internal(
            "wiping the tail of an unfinished decrypt",
        ));
    }
    vol.commit(|_| {})?;
    journal::wipe(&vol)?;
    let l = vol.header.layout;
    let zeros = vec![0u8; crate::format::HEADER_LEN];
    for off in [l.hdr_a_off, l.hdr_b_off] {
        vol.meta.write_at(&zeros, off)?;
        vol.meta.sync_range(off, zeros.len() as u64)?;
    }
    Ok(())
}

fn partial_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".volcrypt-partial");
    PathBuf::from(s)
}

fn out_of_place(
    vref: &VolumeRef,
    out: &Path,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    if out.exists() {
        return Err(EngineError::OutputExists(out.to_owned()));
    }
    let vol = Volume::open(vref, false, opts.io, provider)?;
    super::common::check_readable(&vol, "decrypt")?;
    let g = vol.header.geometry;
    let tmp = partial_path(out);
    // A leftover from an interrupted run of ours holds nothing worth keeping.
    let _ = std::fs::remove_file(&tmp);
    let mut dst = files::create_new(&tmp)?;
    let mut guard = RemoveOnDrop::new(&tmp);
    files::grow(&mut dst, g.data_len)?;
    let dst_io = io::from_file(dst.try_clone()?, &tmp, opts.io, true)?;
    let ring = vol.key_ring();
    let cipher = read_cipher(&vol, &ring, opts);
    let pool = pool(opts)?;
    if let Some(p) = &opts.progress {
        p.begin(g.data_len, 0);
    }
    let pipeline = Pipeline {
        geometry: g,
        src: vol.data.as_ref(),
        src_tags: Some((vol.meta.as_ref(), vol.header.layout.tag_off)),
        sink: Sink::Device(dst_io.as_ref()),
        direct: false,
        fail_on_bad: true,
        journal: None,
        progress: opts.progress.as_deref(),
        cancel: opts.cancel.as_deref(),
        pool: &pool,
        observer: opts.observer.as_deref(),
    };
    let mut nonces = crate::crypto::NonceCounter::resume(0);
    let stats = pipeline.run(0..g.n_windows(), &cipher, &mut nonces, |_| Ok(()))?;
    if stats.cancelled {
        return Ok(summary(stats, vol.data.kind(), opts, None));
    }
    dst_io.sync()?;
    drop(dst_io);
    // `hard_link` fails if `out` appeared meanwhile: never clobber.
    std::fs::hard_link(&tmp, out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            EngineError::OutputExists(out.to_owned())
        } else {
            EngineError::path(out)(e)
        }
    })?;
    std::fs::remove_file(&tmp).map_err(EngineError::path(&tmp))?;
    guard.disarm();
    files::sync_parent(out)?;
    if let Some(p) = &opts.progress {
        p.finish();
    }
    Ok(summary(stats, vol.data.kind(), opts, None))
}
