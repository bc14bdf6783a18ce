//! Read-only operations: `verify` (authenticate every chunk, list the bad ones) and `cat`
//! (stream the plaintext, stopping before any chunk that fails authentication).

use std::io::Write;

use super::common::{pool, read_cipher};
use super::pipeline::{Pipeline, Sink};
use super::volume::Volume;
use super::{EngineError, RunOptions, Summary, VolumeRef};
use crate::format::VolumeState;
use crate::keys::KeyProvider;

/// The outcome of `verify`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    /// Chunks in the volume.
    pub chunks: u64,
    /// Chunks that were sealed and checked.
    pub checked: u64,
    /// Chunks that are plaintext by the header's state (an interrupted encrypt/decrypt).
    pub plaintext: u64,
    /// Chunk indexes that failed authentication.
    pub bad: Vec<u64>,
    /// Header slots that are corrupt or failed authentication.
    pub header_problems: Vec<String>,
    /// The data pass.
    pub summary: Summary,
}

impl VerifyReport {
    /// True when every chunk and both header slots are sound.
    pub fn ok(&self) -> bool {
        self.bad.is_empty() && self.header_problems.is_empty()
    }
}

fn plaintext_chunks(vol: &Volume) -> u64 {
    let h = &vol.header;
    let n = h.geometry.n_chunks();
    match h.state {
        VolumeState::Plain => n,
        VolumeState::Encrypting => n - h.progress,
        VolumeState::Decrypting => h.progress,
        VolumeState::Encrypted | VolumeState::Rekeying => 0,
    }
}

fn run(
    op: &'static str,
    vol: &Volume,
    sink: Sink<'_>,
    fail_on_bad: bool,
    opts: &RunOptions,
) -> Result<(Summary, Vec<u64>), EngineError> {
    super::common::check_readable(vol, op)?;
    let g = vol.header.geometry;
    let ring = vol.key_ring();
    let cipher = read_cipher(vol, &ring, opts);
    let pool = pool(opts)?;
    if let Some(p) = &opts.progress {
        p.begin(g.data_len, 0);
    }
    let pipeline = Pipeline {
        geometry: g,
        src: vol.data.as_ref(),
        src_tags: Some((vol.meta.as_ref(), vol.header.layout.tag_off)),
        sink,
        direct: false,
        fail_on_bad,
        journal: None,
        progress: opts.progress.as_deref(),
        cancel: None,
        pool: &pool,
        observer: opts.observer.as_deref(),
    };
    let mut bad = Vec::new();
    let mut nonces = crate::crypto::NonceCounter::resume(0);
    let stats = pipeline.run(0..g.n_windows(), &cipher, &mut nonces, |done| {
        bad.extend_from_slice(&done.bad);
        Ok(())
    })?;
    if let Some(p) = &opts.progress {
        p.finish();
    }
    let summary = Summary::of(op, &stats, vol.data.kind(), opts, None);
    Ok((summary, bad))
}

/// Authenticates every sealed chunk of `vref` and both header slots.
pub fn verify(
    vref: &VolumeRef,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<VerifyReport, EngineError> {
    let vol = Volume::open(vref, false, opts.io, provider)?;
    verify_vol(&vol, opts)
}

/// Verifies an open volume.
pub(crate) fn verify_vol(vol: &Volume, opts: &RunOptions) -> Result<VerifyReport, EngineError> {
    let (summary, bad) = run("verify", vol, Sink::Discard, false, opts)?;
    let plaintext = plaintext_chunks(vol);
    let chunks = vol.header.geometry.n_chunks();
    Ok(VerifyReport {
        chunks,
        checked: chunks - plaintext,
        plaintext,
        bad,
        header_problems: vol
            .bad_slots
            .iter()
            .map(|(s, e)| format!("header {s}: {e}"))
            .collect(),
        summary,
    })
}

/// Writes the plaintext of `vref` to `out`. Stops with [`EngineError::Tampered`] before
/// writing any window that holds a chunk failing authentication.
pub fn cat(
    vref: &VolumeRef,
    provider: &dyn KeyProvider,
    opts: &RunOptions,
    out: &mut (dyn Write + Send),
) -> Result<Summary, EngineError> {
    let vol = Volume::open(vref, false, opts.io, provider)?;
    Ok(run("cat", &vol, Sink::Stream(Box::new(out)), true, opts)?.0)
}
