//! Helpers shared by the operations: thread pools, key-ring lookups, the cipher for reading a
//! volume in any state, tag writes and cleanup guards.

use std::path::{Path, PathBuf};

use std::time::Duration;

use super::cipher::WindowCipher;
use super::pipeline::{Done, PassStats, Pipeline};
use super::volume::Volume;
use super::{EngineError, RunOptions, Summary};
use crate::crypto::{NonceCounter, VolumeKeys};
use crate::format::{VolumeState, TAG_ENTRY_LEN};
use crate::io::EngineKind;

/// The cipher pool of a pass: the caller's shared pool ([`RunOptions::pool`], the daemon's
/// one pool for all jobs) or a new one of `opts.threads` workers.
pub(crate) enum Pool {
    /// Made for this pass.
    Own(rayon::ThreadPool),
    /// Shared with other passes.
    Shared(std::sync::Arc<rayon::ThreadPool>),
}

impl std::ops::Deref for Pool {
    type Target = rayon::ThreadPool;
    fn deref(&self) -> &rayon::ThreadPool {
        match self {
            Pool::Own(p) => p,
            Pool::Shared(p) => p,
        }
    }
}

/// The cipher pool for a pass run with `opts` (see [`Pool`]).
pub(crate) fn pool(opts: &RunOptions) -> Result<Pool, EngineError> {
    if let Some(p) = &opts.pool {
        return Ok(Pool::Shared(std::sync::Arc::clone(p)));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .thread_name(|i| format!("volcrypt-cipher-{i}"))
        .build()
        .map(Pool::Own)
        .map_err(|_| EngineError::Internal("could not start the cipher thread pool"))
}

/// The keys of version `ver` (0 means plaintext).
pub(crate) fn find(ring: &[VolumeKeys], ver: u32) -> Option<&VolumeKeys> {
    if ver == 0 {
        return None;
    }
    ring.iter().find(|k| k.version() == ver)
}

/// A cipher that opens every chunk of `vol` as its header says it is stored, and seals
/// nothing: for verify, cat and out-of-place decrypt.
pub(crate) fn read_cipher<'k>(
    vol: &Volume,
    ring: &'k [VolumeKeys],
    opts: &RunOptions,
) -> WindowCipher<'k> {
    let h = &vol.header;
    let (below, above) = match h.state {
        VolumeState::Plain => (0, 0),
        VolumeState::Encrypted => (h.cur_ver, h.cur_ver),
        VolumeState::Encrypting => (h.tgt_ver, 0),
        VolumeState::Decrypting => (0, h.cur_ver),
        VolumeState::Rekeying => (h.tgt_ver, h.cur_ver),
    };
    WindowCipher {
        geometry: h.geometry,
        uuid: h.uuid,
        dst_uuid: h.uuid,
        backend: opts.backend,
        split: h.progress,
        src_below: find(ring, below),
        src_above: find(ring, above),
        dst: None,
    }
}

/// Refuses to read an unfinished out-of-place output: its chunks above the progress mark were
/// never written, so they are neither plaintext nor ciphertext of anything.
pub(crate) fn check_readable(vol: &Volume, op: &'static str) -> Result<(), EngineError> {
    let h = &vol.header;
    if h.state == VolumeState::Encrypting && h.out_of_place {
        return Err(EngineError::BadState {
            op,
            path: vol.vref.path.clone(),
            reason: format!(
                "it is an unfinished out-of-place encrypt ({} of {} chunks written); run the \
                 same `volcrypt encrypt SRC --output OUT` again to finish it",
                h.progress,
                h.geometry.n_chunks()
            ),
        });
    }
    Ok(())
}

/// Writes the new tag entries of a finished window into the tag table.
pub(crate) fn write_tags(vol: &Volume, done: &Done) -> Result<(), EngineError> {
    if done.tags.is_empty() {
        return Ok(());
    }
    let mut raw = Vec::with_capacity(done.tags.len() * TAG_ENTRY_LEN);
    for t in &done.tags {
        raw.extend_from_slice(&t.encode());
    }
    vol.meta
        .write_at(&raw, vol.header.layout.tag_entry(done.chunks.start))?;
    Ok(())
}

/// Runs `pipeline` from the volume's recorded progress to its end, checkpointing each window
/// of a sealing pass: its tag entries written, data and tags synced, progress committed.
pub(crate) fn sealing_pass(
    vol: &mut Volume,
    pipeline: Pipeline<'_>,
    cipher: &WindowCipher<'_>,
    nonces: &mut NonceCounter,
) -> Result<PassStats, EngineError> {
    let g = vol.header.geometry;
    let first = first_window(&g, vol.header.progress);
    let journaled = pipeline.journal.is_some();
    pipeline.run(first..g.n_windows(), cipher, nonces, |done| {
        write_tags(vol, done)?;
        vol.sync_window(done.bytes.clone(), true, done.chunks.clone())?;
        checkpoint(vol, done, journaled)
    })
}

/// The first window a pass resumed at chunk `progress` must run. Progress is window-aligned
/// except when it is the end of the volume, whose last window may be short: then there is
/// nothing left (re-running that window would transform it twice).
pub(crate) fn first_window(g: &crate::format::Geometry, progress: u64) -> u64 {
    if progress >= g.n_chunks() {
        g.n_windows()
    } else {
        progress / u64::from(g.window_chunks)
    }
}

/// Records a written window in the header: the progress mark, and the journal record it
/// came from when journaled (one record per window, in order).
pub(crate) fn checkpoint(
    vol: &mut Volume,
    done: &Done,
    journaled: bool,
) -> Result<(), EngineError> {
    vol.commit(|h| {
        h.progress = done.chunks.end;
        if journaled {
            h.journal_seq_applied += 1;
        }
    })
}

impl Summary {
    /// The summary of one data pass.
    pub(crate) fn of(
        op: &'static str,
        stats: &PassStats,
        engine: EngineKind,
        opts: &RunOptions,
        resumed_from: Option<u64>,
    ) -> Summary {
        Summary {
            op,
            bytes: stats.bytes,
            chunks: stats.chunks,
            elapsed: Duration::from_secs_f64(stats.secs),
            engine,
            io: stats.io.clone(),
            backend: opts.backend,
            threads: opts.threads,
            resumed_from,
            interrupted: stats.cancelled,
        }
    }
}

/// Removes a file on drop unless disarmed: outputs that were never completed do not linger.
pub(crate) struct RemoveOnDrop {
    path: Option<PathBuf>,
}

impl RemoveOnDrop {
    pub fn new(path: &Path) -> Self {
        RemoveOnDrop {
            path: Some(path.to_owned()),
        }
    }

    pub fn disarm(&mut self) {
        self.path = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}
