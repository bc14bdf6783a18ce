//! `rekey`: a new data key and a full data pass, key version v to v+1.
//!
//! In place: the new key is generated and written into a free keyslot (state pending), the
//! header records state `rekeying` (operation, target version, resilience frozen) in both
//! slots, then each window is opened under v into a private buffer (a chunk that fails
//! authentication stops the run before anything of its window is written: tampered data is
//! never re-sealed), sealed under v+1 with fresh nonces, written back with its tag entries,
//! synced and checkpointed. At the end v+1 becomes current and v's keyslot is wiped. Running
//! the same command again resumes an interrupted rekey.
//!
//! With `--output` the source is only read, and the output is a new volume (new UUID, key
//! version 1, the new data key) written as an out-of-place encrypt whose source is the
//! decrypted source volume; it resumes the same way.

use super::common::{find, pool, sealing_pass, RemoveOnDrop};
use super::create::{create, reserve_nonces, NewVolume};
use super::encrypt::{self, source_id, Source};
use super::files;
use super::journal::Journal;
use super::pipeline::{Pipeline, Sink};
use super::volume::{engines, Volume};
use super::{EngineError, RunOptions, Summary, VolumeRef};
use crate::crypto::{DataKey, VolumeKeys};
use crate::format::{Keyslot, KeyslotState, LayoutKind, Operation, Resilience, VolumeState};
use crate::keys::{KeyContext, KeyError, KeyProvider, WrappedKey};

/// Re-encrypts `vref` under a new data key from `to`, in place or into `output`. `from`
/// unwraps the current key.
pub fn rekey(
    vref: &VolumeRef,
    output: Option<&VolumeRef>,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let both = Both { from, to };
    match output {
        Some(out) => out_of_place(vref, out, from, to, opts),
        None => {
            let vol = Volume::open(vref, true, opts.io, &both)?;
            in_place(vol, to, opts)
        }
    }
}

/// Unwraps with `from`, falling back to `to` (a resumed rekey's pending keyslot may be
/// wrapped by the target key); generates with `to`.
pub(crate) struct Both<'a> {
    pub from: &'a dyn KeyProvider,
    pub to: &'a dyn KeyProvider,
}

impl KeyProvider for Both<'_> {
    fn describe(&self) -> String {
        self.from.describe()
    }

    fn generate(&self, ctx: &KeyContext) -> Result<(DataKey, WrappedKey), KeyError> {
        self.to.generate(ctx)
    }

    fn unwrap(&self, wrapped: &WrappedKey, ctx: &KeyContext) -> Result<DataKey, KeyError> {
        match self.from.unwrap(wrapped, ctx) {
            Err(KeyError::ProviderMismatch { .. } | KeyError::WrongKey(_)) => {
                self.to.unwrap(wrapped, ctx)
            }
            Err(KeyError::Kms { code, .. }) if code == "IncorrectKeyException" => {
                self.to.unwrap(wrapped, ctx)
            }
            other => other,
        }
    }

    fn wrap(&self, key: &DataKey, ctx: &KeyContext) -> Result<WrappedKey, KeyError> {
        self.to.wrap(key, ctx)
    }
}

pub(crate) fn in_place(
    mut vol: Volume,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let h = &vol.header;
    let resumed = match (h.state, h.operation) {
        (VolumeState::Encrypted, Operation::Idle) => {
            start(&mut vol, to, opts.resilience)?;
            None
        }
        (VolumeState::Rekeying, Operation::Rekey) => {
            if h.resilience != opts.resilience {
                return Err(EngineError::Invalid(format!(
                    "cannot resume: the interrupted rekey uses --resilience {}, not {}",
                    h.resilience, opts.resilience
                )));
            }
            Some(h.progress)
        }
        (state, op) => {
            return Err(EngineError::BadState {
                op: "rekey",
                path: vol.vref.path.clone(),
                reason: format!(
                    "it is {state} (operation {op}); finish that operation first by running \
                     it again"
                ),
            })
        }
    };
    let g = vol.header.geometry;
    let start = vol.header.progress;
    let mut nonces = reserve_nonces(&mut vol, g.n_chunks() - start)?;
    let ring = vol.key_ring();
    let h = &vol.header;
    let cipher = super::cipher::WindowCipher {
        geometry: g,
        uuid: h.uuid,
        dst_uuid: h.uuid,
        backend: opts.backend,
        split: start,
        src_below: find(&ring, h.tgt_ver),
        src_above: find(&ring, h.cur_ver),
        dst: find(&ring, h.tgt_ver),
    };
    let data = vol.data.clone();
    let meta = vol.meta.clone();
    let pool = pool(opts)?;
    if let Some(p) = &opts.progress {
        p.begin(g.data_len, g.byte_range(&(0..start)).end);
    }
    let journal = Journal::for_volume(&vol)?;
    let pipeline = Pipeline {
        geometry: g,
        src: data.as_ref(),
        src_tags: Some((meta.as_ref(), h.layout.tag_off)),
        sink: Sink::InPlace,
        // Private buffers: a window is written only when every chunk of it authenticated.
        direct: false,
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
            let old = h.cur_ver;
            for k in h.keyslots.iter_mut() {
                if k.version == old {
                    *k = Keyslot::empty();
                } else if k.version == h.tgt_ver {
                    k.state = KeyslotState::Active;
                }
            }
            h.state = VolumeState::Encrypted;
            h.operation = Operation::Idle;
            h.cur_ver = h.tgt_ver;
            h.progress = n;
        })?;
    }
    if let Some(p) = &opts.progress {
        p.finish();
    }
    Ok(Summary::of("rekey", &stats, vol.data.kind(), opts, resumed))
}

/// Generates key version v+1, stores it in a free keyslot and durably enters `rekeying`.
fn start(
    vol: &mut Volume,
    to: &dyn KeyProvider,
    resilience: Resilience,
) -> Result<(), EngineError> {
    let h = &vol.header;
    let ver = h
        .cur_ver
        .checked_add(1)
        .ok_or(EngineError::Internal("key version overflow"))?;
    let free = h
        .keyslots
        .iter()
        .position(Keyslot::is_empty)
        .ok_or(EngineError::Internal("no free keyslot on an idle volume"))?;
    let ctx = if to.shares_data_keys() {
        KeyContext::shared(h.uuid, ver)
    } else {
        KeyContext::volume(h.uuid, ver)
    };
    let (dk, wrapped) = to.generate(&ctx)?;
    let keys = VolumeKeys::derive(&dk, &h.uuid, ver);
    drop(dk);
    let slot = Keyslot {
        version: ver,
        state: KeyslotState::Pending,
        kind: wrapped.kind,
        shared_ctx: ctx.shared,
        kcv: keys.kcv()?,
        ctx_hash: ctx.hash(),
        key_id: wrapped.key_id,
        blob: wrapped.blob,
    };
    vol.add_keys(keys)?;
    vol.commit_both(|h| {
        h.keyslots[free] = slot;
        h.state = VolumeState::Rekeying;
        h.operation = Operation::Rekey;
        h.resilience = resilience;
        h.tgt_ver = ver;
        h.progress = 0;
    })
}

fn out_of_place(
    src_ref: &VolumeRef,
    out: &VolumeRef,
    from: &dyn KeyProvider,
    to: &dyn KeyProvider,
    opts: &RunOptions,
) -> Result<Summary, EngineError> {
    let src = Volume::open(src_ref, false, opts.io, from)?;
    let h = &src.header;
    if h.state != VolumeState::Encrypted || h.operation != Operation::Idle {
        return Err(EngineError::BadState {
            op: "rekey",
            path: src_ref.path.clone(),
            reason: format!(
                "it is {} (operation {}); finish that operation first",
                h.state, h.operation
            ),
        });
    }
    let src_file = src
        .files
        .first()
        .ok_or(EngineError::Internal("volume without files"))?;
    let sid = source_id(src_file)?;
    if out.path.exists() {
        let vol = match Volume::open(out, true, opts.io, to) {
            Err(EngineError::NotAVolume { .. }) => {
                return Err(EngineError::OutputExists(out.path.clone()))
            }
            other => other?,
        };
        let resumable = vol.header.state == VolumeState::Encrypting
            && vol.header.out_of_place
            && vol.header.source_id == sid;
        if !resumable {
            return Err(EngineError::OutputExists(out.path.clone()));
        }
        return encrypt::run(vol, Source::Sealed(&src), opts);
    }
    let spec = NewVolume {
        geometry: src.header.geometry,
        kind: match out.header {
            Some(_) => LayoutKind::Detached,
            None => LayoutKind::Attached,
        },
        resilience: Resilience::None,
        source_id: Some(sid),
    };
    let layout = spec.layout()?;
    let mut data = files::create_new(&out.path)?;
    let mut guards = vec![RemoveOnDrop::new(&out.path)];
    let mut meta = None;
    if let Some(hp) = &out.header {
        let mut m = files::create_new(hp)?;
        guards.push(RemoveOnDrop::new(hp));
        files::grow(&mut m, layout.device_size)?;
        files::grow(&mut data, spec.geometry.data_len)?;
        meta = Some(m);
    } else {
        files::grow(&mut data, layout.device_size)?;
    }
    let (d, m) = engines(&data, meta.as_ref(), opts.io, true)?;
    let mut kept = vec![data];
    kept.extend(meta);
    let vol = create(&spec, d, m, to, out.clone(), kept)?;
    files::sync_parent(&out.path)?;
    guards.iter_mut().for_each(RemoveOnDrop::disarm);
    encrypt::run(vol, Source::Sealed(&src), opts)
}
